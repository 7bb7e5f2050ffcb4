"""Who may call which route: every route of the app, every role and no key at all.

The matrix is read from the app itself (``app.routes`` and the OpenAPI ``x-roles``), so a
route added without a role declaration fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.security import ROLES, Role
from adapters.security.apikeys import parse
from adapters.security.ratelimit import RateLimiter
from api.auth import PUBLIC_PATHS, route_roles
from api.main import create_api
from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/events"): None,  # a fresh valid event per call, see body()
    ("POST", "/v1/admin/keys"): {"role": "analyst", "label": "matrix"},
}


def body(method: str, path: str) -> Any:
    if (method, path) == ("POST", "/v1/events"):
        return contact_opened(customer_id=unique("cust-"), contact_id=unique("contact-"))
    return BODIES.get((method, path), {} if method in {"POST", "PUT", "PATCH"} else None)


def sample(schema: dict[str, Any]) -> str:
    """A valid value of a required query parameter, from its OpenAPI schema."""
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("format") == "date":
        return "2026-03-02"
    if schema.get("format") == "date-time":
        return "2026-03-02T00:00:00+00:00"
    if schema.get("type") == "integer":
        return str(max(1, schema.get("minimum", 1)))
    return "x"


def calls(app: FastAPI) -> Iterator[tuple[str, str, set[Role], str, dict[str, str]]]:
    """(method, path, admitted roles, url, query) for every protected operation."""
    spec = app.openapi()
    for method, path, roles in route_roles(app):
        if path in PUBLIC_PATHS or method == "HEAD":
            continue
        operation = spec["paths"][path][method.lower()]
        query = {
            p["name"]: sample(p["schema"])
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        }
        url = re.sub(r"\{[^}]+\}", "x", path)
        yield method, path, set(roles or ()), url, query


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(runtime, workers=set())) as test_client:
        yield test_client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_every_route_declares_its_roles_in_code_and_in_openapi(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    spec = app.openapi()
    table = route_roles(app)
    undeclared = [
        f"{m} {path}" for m, path, roles in table if not roles and path not in PUBLIC_PATHS
    ]
    assert undeclared == [], "routes without Roles(...): add one, or list them in PUBLIC_PATHS"
    protected = [(m, path, roles) for m, path, roles in table if roles]
    assert ("GET", "/v1/admin/access-log", ("admin",)) in protected
    assert ("POST", "/v1/events", ("channel",)) in protected
    for method, path, roles in protected:
        assert set(roles or ()) <= set(ROLES), path
        operation = spec["paths"][path][method.lower()]
        assert operation["x-roles"] == list(roles or ()), path
        assert {"401", "403", "429"} <= set(operation["responses"]), path
        assert operation["security"] == [{"ApiKey": []}], path
        retry = operation["responses"]["429"]["headers"]["Retry-After"]
        assert retry["schema"]["type"] == "integer"
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


def test_role_by_route_matrix(client: TestClient, runtime: Runtime) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    keys = {role: runtime.api_keys.create(role).secret_text for role in ROLES}
    wrong: list[str] = []
    checked = 0
    for method, path, admitted, url, query in calls(app):
        callers: list[Role | None] = [None, *ROLES]
        for role in callers:
            headers = bearer(keys[role]) if role else {}
            answer = client.request(
                method, url, params=query, json=body(method, path), headers=headers
            )
            checked += 1
            got = answer.status_code
            error = answer.json().get("error") if got >= 400 else None
            if role is None:
                ok = (
                    got == 401
                    and error == "unauthenticated"
                    and answer.headers.get("WWW-Authenticate") == "Bearer"
                )
            elif role not in admitted:
                ok = got == 403 and error == "forbidden" and role in answer.json()["detail"]
            else:
                ok = got not in (401, 403, 429) and got < 500
            if not ok:
                wrong.append(f"{method} {path} as {role or 'no key'}: {got} {answer.text}")
    assert wrong == []
    assert checked == (1 + len(ROLES)) * len(list(calls(app))) > 0


def test_operations_routes_are_open(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer jk_0000_nope", "Bearer not-a-key", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", ""],
)
def test_an_unknown_or_malformed_key_is_401(client: TestClient, authorization: str) -> None:
    answer = client.get("/v1/complaints", headers={"Authorization": authorization})
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthenticated"
    assert answer.json()["problems"] == []
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_is_refused_from_the_next_request(
    client: TestClient, runtime: Runtime
) -> None:
    admin = runtime.api_keys.create("admin")
    analyst = runtime.api_keys.create("analyst")
    assert client.get("/v1/complaints", headers=bearer(analyst.secret_text)).status_code == 200
    revoked = client.delete(f"/v1/admin/keys/{analyst.key_id}", headers=bearer(admin.secret_text))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    answer = client.get("/v1/complaints", headers=bearer(analyst.secret_text))
    assert answer.status_code == 401
    assert "revoked" in answer.json()["detail"]


def test_over_the_rate_limit_is_429_with_retry_after(client: TestClient, runtime: Runtime) -> None:
    now = [100.0]
    runtime.rate_limiter = RateLimiter(rate_per_s=0.5, burst=2, clock=lambda: now[0])
    busy, other = runtime.api_keys.create("analyst"), runtime.api_keys.create("analyst")
    got = [client.get("/v1/complaints", headers=bearer(busy.secret_text)) for _ in range(3)]
    assert [a.status_code for a in got] == [200, 200, 429]
    assert got[2].json()["error"] == "rate_limited"
    assert got[2].headers["Retry-After"] == "2"  # one token per 2 s
    # The standard fields on every answer: the burst, what is left, when it is full again.
    limits = [
        (
            a.headers["RateLimit-Limit"],
            a.headers["RateLimit-Remaining"],
            a.headers["RateLimit-Reset"],
        )
        for a in got
    ]
    assert limits == [("2", "1", "2"), ("2", "0", "4"), ("2", "0", "4")]
    assert got[0].headers["RateLimit-Policy"] == "2;w=4"
    assert client.get("/v1/complaints", headers=bearer(other.secret_text)).status_code == 200
    now[0] += 2
    assert client.get("/v1/complaints", headers=bearer(busy.secret_text)).status_code == 200


def test_admins_manage_keys_and_never_see_a_secret_again(
    client: TestClient, runtime: Runtime
) -> None:
    admin = bearer(runtime.api_keys.create("admin").secret_text)
    made = client.post("/v1/admin/keys", json={"role": "auditor", "label": "Ana"}, headers=admin)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert client.get("/v1/cases/x/history", headers=bearer(key)).status_code == 404
    listed = client.get("/v1/admin/keys", headers=admin)
    assert listed.status_code == 200
    parsed = parse(key)
    assert parsed is not None
    assert parsed[1] not in listed.text  # the secret (it may itself contain "_")
    [mine] = [k for k in listed.json()["items"] if k["key_id"] == made.json()["key_id"]]
    assert set(mine) == {"key_id", "role", "label", "source", "created_at", "revoked_at", "active"}
    assert (mine["role"], mine["label"], mine["active"]) == ("auditor", "Ana", True)
    bad = client.post("/v1/admin/keys", json={"role": "root"}, headers=admin)
    assert bad.status_code == 422
    assert client.delete("/v1/admin/keys/nope", headers=admin).status_code == 404


def test_the_last_active_admin_key_cannot_be_revoked_over_http(
    client: TestClient, runtime: Runtime
) -> None:
    admin = runtime.api_keys.create("admin")
    answer = client.delete(f"/v1/admin/keys/{admin.key_id}", headers=bearer(admin.secret_text))
    assert answer.status_code == 409
    assert runtime.api_keys.authenticate(admin.secret_text) is not None

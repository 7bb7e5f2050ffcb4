"""Our errors to HTTP answers (api/errors.py): every DomainError a route may raise is a 4xx
answer in our error body, an RFC 9457 problem (``application/problem+json``), whatever its
subclass, and so are routing's own refusals (no such route, another method)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from api import errors
from api.routing import StrictQueryRoute
from domain.errors import DomainError

LAYERS = ("domain", "contracts", "adapters", "projections", "application", "api")


def _subclasses(kind: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in kind.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def domain_errors() -> list[type[DomainError]]:
    """DomainError and every subclass defined in production code (each module imported)."""
    for layer in LAYERS:
        package = importlib.import_module(layer)
        for module in pkgutil.walk_packages(package.__path__, f"{layer}."):
            importlib.import_module(module.name)
    found: set[type[DomainError]] = {DomainError, *_subclasses(DomainError)}
    return sorted(
        (k for k in found if k.__module__.split(".")[0] in LAYERS),
        key=lambda k: f"{k.__module__}.{k.__qualname__}",
    )


def raising(kind: type[DomainError]) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/raise")
    async def raise_it() -> None:
        error = kind.__new__(kind)
        DomainError.__init__(error, "refused for a reason")
        raise error

    return app


def test_the_domain_errors_are_found() -> None:
    names = {k.__name__ for k in domain_errors()}
    assert {"DomainError", "NotFound", "AsOfOutOfRange", "HistoryDamaged", "LateFact"} <= names


@pytest.mark.parametrize("kind", domain_errors(), ids=lambda k: k.__qualname__)
def test_every_domain_error_a_route_raises_is_a_4xx_in_our_error_body(
    kind: type[DomainError],
) -> None:
    with TestClient(raising(kind), raise_server_exceptions=False) as client:
        answer = client.get("/raise")
    assert 400 <= answer.status_code < 500, (kind, answer.status_code, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert {"type", "title", "status", "detail", "instance", "error", "problems"} <= set(body)
    assert body["type"] == f"urn:journey:problem:{body['error']}"
    assert body["status"] == answer.status_code
    assert body["instance"] == "/raise"
    assert "refused for a reason" in body["detail"]


def test_a_rule_refusal_names_the_rule() -> None:
    app = FastAPI()
    errors.install(app)

    @app.get("/refuse")
    async def refuse() -> None:
        raise DomainError("only a resolved case can be confirmed", "R-CMP-04")

    with TestClient(app) as client:
        body = client.get("/refuse").json()
    assert (body["status"], body["error"], body["rule"]) == (409, "rule_violated", "R-CMP-04")
    assert body["title"] == "Refused by a service rule"
    assert body["detail"] == "R-CMP-04: only a resolved case can be confirmed"


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = FastAPI()
    errors.install(app)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    with TestClient(app) as test_client:
        yield test_client


def test_no_such_route_is_a_404_in_our_error_body(client: TestClient) -> None:
    answer = client.get("/things")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": "urn:journey:problem:not_found",
        "title": "Not found",
        "status": 404,
        "detail": "Not Found",
        "instance": "/things",
        "error": "not_found",
        "problems": [],
    }


def test_another_method_is_a_405_in_our_error_body_with_allow(client: TestClient) -> None:
    answer = client.delete("/things/a")
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed"
    assert answer.json()["status"] == 405
    assert answer.headers["allow"] == "GET"


def test_a_query_parameter_a_route_does_not_declare_is_a_422_naming_it() -> None:
    """Declared ones, a dependency's included, pass; an undeclared one is not ignored."""
    app = FastAPI()
    errors.install(app)
    router = APIRouter(route_class=StrictQueryRoute)

    def paging(limit: int = 10) -> int:
        return limit

    @router.get("/things")
    async def things(kind: str | None = None, limit: int = Depends(paging)) -> dict[str, Any]:
        return {"kind": kind, "limit": limit}

    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/things", params={"kind": "a", "limit": 3}).json() == {
            "kind": "a",
            "limit": 3,
        }
        answer = client.get("/things", params={"kind": "a", "classification": "complaint"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["problems"] == [{"field": "query.classification", "reason": "unknown parameter"}]
    assert "'classification'" in body["detail"]
    assert "kind, limit" in body["detail"]

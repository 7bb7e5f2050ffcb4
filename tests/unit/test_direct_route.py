"""``DirectRoute`` (``POST /v1/events``, issue 18) runs a route's dependencies by direct
calls instead of FastAPI's solver: it must answer every request exactly as the solver does
for the same declarations. Two routes with one endpoint, one of each class, in the real
app, are asked the same requests (keys of each kind, the rate limit, ``tz`` right and
wrong, unknown parameters, and their combinations, whose order of refusal matters); their
answers must be the same, but for the route's own path and the request id."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import patch

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from api.auth import ProtectedRoute, Roles, caller_of
from api.direct_route import DirectRoute
from api.main import create_api
from api.routes.events import router as events_router
from api.times import current_zone
from journey.bootstrap import Runtime, build
from journey.settings import Settings

BURST = 2
PATHS = {DirectRoute: "/v1/probe-direct", ProtectedRoute: "/v1/probe-solved"}


async def probe(request: Request) -> Response:
    zone = current_zone()
    caller = caller_of(request)
    body = {"key_id": caller.key_id, "role": caller.role, "zone": zone.name if zone else None}
    return JSONResponse(body, status_code=202)


@pytest.fixture
def served(settings_env: dict[str, str]) -> Iterator[tuple[Runtime, TestClient]]:
    # A bucket that does not refill during the test: its headers are the same each run.
    env = {**settings_env, "JOURNEY_RATE_LIMIT_PER_S": "0.001"}
    env["JOURNEY_RATE_LIMIT_BURST"] = str(BURST)
    with patch.dict(os.environ, env):
        runtime = build(Settings())
    app = create_api(runtime)
    for route_class, path in PATHS.items():
        router = APIRouter(route_class=route_class)
        router.add_api_route(
            path, probe, methods=["POST"], status_code=202, dependencies=[Roles("channel")]
        )
        app.include_router(router)
    with TestClient(app) as client:
        yield runtime, client
    runtime.close()


Key = Callable[[Runtime], dict[str, str]]


def key(role: str, revoked: bool = False) -> Key:
    def make(runtime: Runtime) -> dict[str, str]:
        issued = runtime.api_keys.create(role)  # type: ignore[arg-type]
        if revoked:
            runtime.api_keys.revoke(issued.key_id)
        return {"Authorization": f"Bearer {issued.secret_text}"}

    return make


def no_key(runtime: Runtime) -> dict[str, str]:
    return {}


def header(value: str) -> Key:
    return lambda runtime: {"Authorization": value}


KEYS: dict[str, Key] = {
    "none": no_key,
    "not ours": header("Bearer jk_nothing_here"),
    "not a bearer": header("Basic dXNlcjpwYXNz"),
    "empty bearer": header("Bearer "),
    "revoked": key("channel", revoked=True),
    "another role": key("admin"),
    "channel": key("channel"),
}
QUERIES = [
    "",
    "tz=Europe/Paris",
    "tz=UTC&tz=Asia/Tokyo",
    "tz=Not/A_Zone",
    "tz=",
    "tz=" + "x" * 65,
    "format=csv",
    "tz=UTC&limit=3",
]


def answer(client: TestClient, path: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    """The answer, the route's path and the key's id in it named alike on both routes."""
    response = client.post(path + (f"?{query}" if query else ""), headers=headers, json={})
    key_id = headers.get("Authorization", "").partition("_")[2].partition("_")[0]
    text = response.text.replace(path, "<path>").replace(key_id or "\0", "<key>")
    shown = {
        name: value.replace(path, "<path>")
        for name, value in response.headers.items()
        if name not in {"x-request-id", "content-length"}
    }
    return {"status": response.status_code, "headers": shown, "body": text}


def both(served: tuple[Runtime, TestClient], make: Key, query: str, calls: int = 1) -> None:
    """The last of ``calls`` answers of each route, each route with a key of its own."""
    runtime, client = served
    answers = []
    for path in PATHS.values():
        headers = make(runtime)
        for _ in range(calls):
            last = answer(client, path, headers, query)
        answers.append(last)
    direct, solved = answers
    assert direct == solved


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("kind", list(KEYS))
def test_a_direct_route_answers_as_fastapi_solves(
    served: tuple[Runtime, TestClient], kind: str, query: str
) -> None:
    both(served, KEYS[kind], query)


@pytest.mark.parametrize("query", ["", "tz=" + "x" * 65, "tz=Not/A_Zone"])
def test_over_the_rate_limit_before_the_zone_and_as_fastapi_solves(
    served: tuple[Runtime, TestClient], query: str
) -> None:
    both(served, key("channel"), query, calls=BURST + 1)


def test_the_cases_above_cover_each_answer(served: tuple[Runtime, TestClient]) -> None:
    runtime, client = served
    path = PATHS[DirectRoute]
    seen = {
        answer(client, path, make(runtime), query)["status"]
        for make in KEYS.values()
        for query in QUERIES
    }
    assert seen == {202, 401, 403, 422}


def test_the_publish_route_is_direct_and_a_route_it_cannot_run_is_refused() -> None:
    assert all(isinstance(route, DirectRoute) for route in events_router.routes)
    router = APIRouter(route_class=DirectRoute)

    async def takes_more(request: Request, limit: int = 3) -> Response:
        return Response()

    with pytest.raises(TypeError, match="takes the request alone"):
        router.add_api_route("/x", takes_more, methods=["POST"], dependencies=[Roles("channel")])
    with pytest.raises(TypeError, match="takes the request alone"):
        router.add_api_route("/y", probe, methods=["POST"])

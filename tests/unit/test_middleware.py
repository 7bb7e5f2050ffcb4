"""The API's middleware on a small app of its own: request ids, access lines, HTTP metrics,
hostile bodies (size, media type, strict JSON) and the JSON 500 for errors raised anywhere
below the outermost middleware."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Message, Receive, Scope, Send

from adapters.logformat import configure_logging
from adapters.metrics import HttpMetrics, render
from api import errors
from api.middleware import BodyGuard, RequestContext, request_id_of
from contracts.strict_json import strict_json

LIMIT = 4096
log = logging.getLogger("tests.middleware")


class Principal:
    key_id = "k-test"


def build(registry: CollectorRegistry, *, failing_middleware: bool = False) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    metrics = HttpMetrics(registry)

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        log.info("looking at a thing")
        await run_in_threadpool(log.info, "in a worker thread")
        return {"thing_id": thing_id}

    @app.get("/v1/mine")
    async def mine(request: Request) -> dict[str, str]:
        request.state.principal = Principal()
        return {}

    @app.post("/v1/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/v1/events", status_code=202)
    async def events(request: Request) -> dict[str, Any]:
        body = orjson.loads(await request.body())
        return {"accepted": len(body) if isinstance(body, list) else 1}

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail /home/app/x.py line 3")

    if failing_middleware:

        class Failing:
            def __init__(self, inner: Any) -> None:
                self.inner = inner

            async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
                if scope["type"] == "http":
                    raise ValueError("middleware broke")
                await self.inner(scope, receive, send)

        app.add_middleware(Failing)
    app.add_middleware(BodyGuard, max_body_bytes=LIMIT, metrics=metrics)
    app.add_middleware(RequestContext, metrics=metrics)
    return app


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def client(registry: CollectorRegistry) -> Iterator[TestClient]:
    with TestClient(build(registry)) as test_client:
        yield test_client


class Lines(list[dict[str, Any]]):
    """The JSON log lines written so far, parsed: read them after the requests."""

    def __init__(self, stream: io.StringIO) -> None:
        super().__init__()
        self.stream = stream

    def read(self) -> Lines:
        self[:] = [orjson.loads(line) for line in self.stream.getvalue().split("\n") if line]
        return self


@pytest.fixture
def logged() -> Iterator[Lines]:
    stream = io.StringIO()
    handler = configure_logging("json", stream=stream)
    yield Lines(stream)
    logging.getLogger().removeHandler(handler)


def samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(render(registry).decode())
        for s in family.samples
    }


def assert_error(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "error", "problems"} <= set(body)
    assert (body["error"], body["status"]) == (error, status)
    return body


# -- request ids and access lines --------------------------------------------------------------


@pytest.mark.parametrize("given_id", ["abc-123", "a.b_c-D", "x" * 64])
def test_a_sane_request_id_from_the_client_is_kept_and_echoed(
    client: TestClient, given_id: str
) -> None:
    response = client.get("/v1/things/t1", headers={"X-Request-ID": given_id})
    assert response.headers["X-Request-ID"] == given_id


@pytest.mark.parametrize("given_id", ["", "x" * 65, "a b", "ab\u00e9", "a/b", "a\tb", "{x}"])
def test_an_insane_request_id_is_replaced_by_a_new_one(client: TestClient, given_id: str) -> None:
    headers = [(b"X-Request-ID", given_id.encode("latin-1"))]
    response = client.get("/v1/things/t1", headers=headers)
    made = response.headers["X-Request-ID"]
    assert made != given_id
    assert len(made) == 32
    assert int(made, 16) >= 0


def test_every_request_gets_its_own_id(client: TestClient) -> None:
    ids = {client.get("/v1/things/t1").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


@given(st.text(max_size=80))
def test_request_ids_are_always_sane_tokens(given_id: str) -> None:
    from starlette.datastructures import Headers

    try:
        raw = [(b"x-request-id", given_id.encode("latin-1"))]
    except UnicodeEncodeError:
        raw = []
    made = request_id_of(Headers(raw=raw))
    assert 1 <= len(made) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in made)


def test_every_line_of_a_request_carries_its_id_and_the_access_line_its_route_template(
    client: TestClient, logged: Lines
) -> None:
    client.get("/v1/things/personal-id-42?name=Alice", headers={"X-Request-ID": "req-1"})
    log.info("after the request")
    lines = logged.read()
    mine = [line for line in lines if line["request_id"] == "req-1"]
    assert [line["msg"] for line in mine if line["logger"] == "tests.middleware"] == [
        "looking at a thing",
        "in a worker thread",
    ]
    (access,) = [line for line in mine if line["logger"] == "journey.access"]
    assert access["method"] == "GET"
    assert access["route"] == "/v1/things/{thing_id}"
    assert access["status"] == 200
    assert access["duration_ms"] >= 0
    assert access["key_id"] is None
    assert set(access) >= {"ts", "level", "logger", "msg", "request_id"}
    assert lines[-1]["msg"] == "after the request"
    assert lines[-1]["request_id"] is None
    served = [line for line in lines if line["logger"] != "httpx"]  # the test's own client
    text = orjson.dumps(served).decode()
    assert "personal-id-42" not in text
    assert "Alice" not in text


def test_the_access_line_names_the_key_that_auth_put_on_the_request(
    client: TestClient, logged: Lines
) -> None:
    client.get("/v1/mine")
    (access,) = [line for line in logged.read() if line["logger"] == "journey.access"]
    assert access["key_id"] == "k-test"


def test_no_body_is_ever_logged(client: TestClient, logged: Lines) -> None:
    client.post("/v1/echo", content=b'{"name": "Alice Secret"}', headers=JSON)
    client.post("/v1/echo", content=b'{"name": "Bob Secret", "name": 1}', headers=JSON)
    client.post("/v1/echo", content=b"Carol Secret", headers={"Content-Type": "text/plain"})
    client.get("/v1/boom")
    lines = logged.read()
    assert len(lines) >= 4
    assert "Secret" not in orjson.dumps(lines).decode()


# -- HTTP metrics --------------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_method_and_status_class(
    client: TestClient, registry: CollectorRegistry
) -> None:
    for thing in ("a", "b", "c"):
        client.get(f"/v1/things/{thing}")
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")
    client.post("/v1/echo", content=b"[1]", headers={"Content-Type": "text/plain"})

    got = samples(registry)
    total = "journey_http_requests_total"
    template = frozenset({("route", "/v1/things/{thing_id}"), ("method", "GET")})
    assert got[(total, template | {("status_class", "2xx")})] == 3
    unmatched = frozenset({("route", "unmatched"), ("method", "GET"), ("status_class", "4xx")})
    assert got[(total, unmatched)] == 2
    assert got[("journey_http_request_seconds_count", template | {("status_class", "2xx")})] == 3
    refused = frozenset({("route", "/v1/echo"), ("method", "POST"), ("status_class", "4xx")})
    # Refused before routing, yet named by the route that would have served it.
    assert got[(total, refused)] == 1
    assert got[("journey_http_requests_in_flight", frozenset())] == 0
    assert not [labels for name, labels in got if ("route", "/v1/things/a") in labels]


def test_accepted_events_are_counted_by_type(
    client: TestClient, registry: CollectorRegistry
) -> None:
    batch = [{"type": "contact.opened"}, {"type": "contact.opened"}, {"type": "order.placed"}]
    assert client.post("/v1/events", json=batch).status_code == 202
    assert client.post("/v1/events", json={"type": "order.placed"}).status_code == 202
    got = samples(registry)
    published = "journey_events_published_total"
    assert got[(published, frozenset({("type", "contact.opened")}))] == 2
    assert got[(published, frozenset({("type", "order.placed")}))] == 2


# -- hostile bodies ------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}


def test_a_body_within_the_limit_reaches_the_route_unchanged(client: TestClient) -> None:
    body = orjson.dumps({"pad": "x" * (LIMIT - 20)})
    assert len(body) <= LIMIT
    response = client.post("/v1/echo", content=body, headers=JSON)
    assert response.status_code == 200
    assert response.json() == {"bytes": len(body)}


def test_a_declared_body_over_the_limit_is_413(client: TestClient) -> None:
    body = orjson.dumps({"pad": "x" * LIMIT})
    assert_error(client.post("/v1/echo", content=body, headers=JSON), 413, "too_large")


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"pad": "'
        for _ in range(LIMIT // 100 + 1):
            yield b"x" * 100
        yield b'"}'

    response = client.post("/v1/events", content=chunks(), headers=JSON)
    assert_error(response, 413, "too_large")


async def _call(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> Message:
    """Drive the ASGI app by hand (a client library would not send a lying header)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/echo",
        "raw_path": b"/v1/echo",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return next(m for m in sent if m["type"] == "http.response.start")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_body_longer_than_its_content_length_says_is_413(
    registry: CollectorRegistry, anyio_backend: str
) -> None:
    app = build(registry)
    chunks = [b'{"pad": "', b"x" * LIMIT, b'"}']
    start = await _call(
        app, [(b"content-length", b"10"), (b"content-type", b"application/json")], chunks
    )
    assert start["status"] == 413


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_a_post_body_that_is_not_json_by_its_media_type_is_415(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/v1/echo", content=b'{"a": 1}', headers=headers)
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON", "application/json; charset=UTF-8"]
)
def test_json_media_types_pass(client: TestClient, content_type: str) -> None:
    response = client.post("/v1/echo", content=b'{"a": 1}', headers={"Content-Type": content_type})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"a": NaN}', "not strict JSON"),
        (b'{"a": Infinity}', "not strict JSON"),
        (b"[-Infinity]", "not strict JSON"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'[{"x": {"b": 1, "c": 2, "b": 3}}]', "duplicate key 'b'"),
        (b'{"a": "\xff"}', "UTF-8"),
        (b'\xef\xbb\xbf{"a": 1}', "byte order mark"),
        (b'{"a": "\\ud800"}', "surrogate"),
        (b"[" * 1100 + b"]" * 1100, "depth"),
        (b'{"a": 1', "not strict JSON"),
    ],
    ids=[
        "nan",
        "infinity",
        "minus-infinity",
        "duplicate",
        "nested-duplicate",
        "bad-utf8",
        "bom",
        "lone-surrogate",
        "too-deep",
        "truncated",
    ],
)
def test_a_body_that_is_not_strict_json_is_422_naming_the_problem(
    client: TestClient, body: bytes, named: str
) -> None:
    answer = assert_error(client.post("/v1/echo", content=body, headers=JSON), 422, "invalid_json")
    assert named in answer["detail"]
    assert answer["problems"][0]["field"] == "body"


def test_a_post_without_a_body_is_left_to_the_route(client: TestClient) -> None:
    assert client.post("/v1/echo").json() == {"bytes": 0}


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_any_json_value_passes_and_parses_to_itself(value: Any) -> None:
    assert strict_json(orjson.dumps(value)) == value


@given(st.dictionaries(st.text(max_size=5), json_values, min_size=1, max_size=4), st.data())
def test_any_repeated_key_is_found(value: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(value)))
    text = orjson.dumps(value)
    repeated = text[:-1] + b"," + orjson.dumps(key) + b":" + orjson.dumps(value[key]) + b"}"
    with pytest.raises(ValueError, match="duplicate key"):
        strict_json(repeated)


# -- no stack trace reaches a client -------------------------------------------------------------


def test_an_error_in_a_route_is_the_json_500(client: TestClient, logged: Lines) -> None:
    response = client.get("/v1/boom", headers={"X-Request-ID": "req-boom"})
    answer = assert_error(response, 500, "internal_error")
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    assert answer["detail"] == "an internal error occurred; it has been logged"
    assert response.headers["X-Request-ID"] == "req-boom"
    mine = [line for line in logged.read() if line["request_id"] == "req-boom"]
    assert any("secret detail" in line.get("exc", "") for line in mine)  # for us, not them
    assert [line["status"] for line in mine if line["logger"] == "journey.access"] == [500]


def test_an_error_in_a_middleware_is_the_json_500(registry: CollectorRegistry) -> None:
    with TestClient(build(registry, failing_middleware=True)) as test_client:
        response = test_client.get("/v1/things/a")
    assert_error(response, 500, "internal_error")
    assert "middleware broke" not in response.text


# -- text no store can hold ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/things/a%00b", "path"),
        ("/v1/things/a?q=x%00", "query.q"),
        ("/v1/things/a?ok=1&name%00=y", "query.name"),
        ("/v1/things/a?list=1&list=%00", "query.list"),
    ],
    ids=["path", "value", "name", "repeated"],
)
def test_a_parameter_holding_a_nul_is_422_naming_it(
    client: TestClient, url: str, field: str
) -> None:
    """PostgreSQL stores no NUL in text: such a value would fail in the store, a 500."""
    answer = assert_error(client.get(url), 422, "invalid_request")
    assert answer["problems"] == [{"field": field, "reason": "holds a NUL character"}]


@given(st.text(max_size=20).filter(lambda text: "\x00" not in text))
def test_any_other_text_passes(text: str) -> None:
    with TestClient(build(CollectorRegistry())) as test_client:
        answer = test_client.get("/v1/things/a", params={"q": text})
    assert answer.status_code == 200

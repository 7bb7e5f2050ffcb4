"""Pure ASGI middleware (no buffering of answers, so streamed answers stay streamed):

- :class:`RequestContext` (outermost): the request id, one access log line and the HTTP
  metrics per request, and the JSON 500 for any error raised below it, middleware included.
- :class:`BodyGuard`: hostile input. A path or query parameter holding a NUL character is
  refused (422 naming it: PostgreSQL stores no NUL in text, so it would fail below as a
  500). A body is read up to ``max_body_bytes`` whatever ``Content-Length`` says (413
  beyond it, chunked bodies too); a body sent with POST, PUT or PATCH must be
  ``application/json`` (415) and strict JSON: UTF-8, no NaN or Infinity, no duplicate keys
  (422). Accepted bodies are handed on unchanged.

Neither logs a body or a query string: they hold personal data.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.logformat import ACCESS_LOGGER, bind_request_id, unbind_request_id
from adapters.metrics import UNMATCHED_ROUTE, HttpMetrics
from api.errors import PROBLEM_JSON, error_response, internal_error
from contracts.strict_json import strict_json

logger = logging.getLogger(__name__)
access_logger = logging.getLogger(ACCESS_LOGGER)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
PUBLISH_ROUTE = "/v1/events"
"""The route whose accepted events :class:`BodyGuard` counts (202: every event accepted)."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def request_id_of(headers: Headers) -> str:
    """The client's ``X-Request-ID`` if it is a sane token (at most 64 of
    ``[A-Za-z0-9._-]``), else a new one: a client cannot put text of its choice into our
    log lines or headers."""
    given = headers.get(REQUEST_ID_HEADER)
    if given is not None and _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The template of the route that served the request (``/v1/customers/{customer_id}``),
    or would have served it (a request refused before routing), or ``unmatched``: never
    the raw path."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    router = getattr(scope.get("app"), "router", None)
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match == Match.FULL and isinstance(getattr(route, "path", None), str):
            return str(route.path)
    return UNMATCHED_ROUTE


def _key_id(scope: Scope) -> str | None:
    state = scope.get("state")
    principal = state.get("principal") if isinstance(state, dict) else None
    key_id = getattr(principal, "key_id", None)
    return key_id if isinstance(key_id, str) else None


class RequestContext:
    """Per request: a request id (echoed in ``X-Request-ID``, bound to the log context), the
    HTTP metrics, one ``journey.access`` log line (method, route template, status,
    duration_ms, key_id) and, for an error raised below (a route or a middleware), the JSON
    500 answer, if the answer has not started yet."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope))
        token = bind_request_id(request_id)
        scope.setdefault("state", {})
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        self.metrics.started()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error on %s %s", scope["method"], route_template(scope))
            if status == 0:
                await internal_error()(scope, receive, send_with_id)
            else:  # the answer had started: it can only be cut short
                status = 500
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.answered(route, scope["method"], status, seconds)
            access_logger.info(
                "%s %s %d",
                scope["method"],
                route,
                status,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "key_id": _key_id(scope),
                },
            )
            unbind_request_id(token)


class TooLarge(Exception):
    pass


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media_type, *params = (part.strip().lower() for part in content_type.split(";"))
    if media_type != "application/json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') != "utf-8":
            return False
    return True


def _types(value: Any) -> Iterable[str]:
    for item in value if isinstance(value, list) else [value]:
        kind = item.get("type") if isinstance(item, dict) else None
        yield kind if isinstance(kind, str) else "unknown"


def with_nul(scope: Scope) -> str | None:
    """Where the request's path or query holds a NUL character once percent-decoded
    (``path`` or ``query.<name>``, decoded as Starlette decodes them), or None."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name.replace(chr(0), '')[:64]}"
    return None


class BodyGuard:
    """Hostile input, before any route reads a body; also counts the events that
    ``POST /v1/events`` accepted (it parsed them already)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: HttpMetrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # a disconnect: nothing to answer
                raise TooLarge if size > self.max_body_bytes else ConnectionAbortedError
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> ASGIApp:
        return error_response(
            413, "too_large", f"body: larger than {self.max_body_bytes} bytes (the limit)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = with_nul(scope)
        if field is not None:
            reason = "holds a NUL character"
            answer = error_response(
                422, "invalid_request", f"{field}: {reason}", [{"field": field, "reason": reason}]
            )
            await answer(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large()(scope, receive, send)
            return
        try:
            body = await self._read(receive)
        except TooLarge:
            await self._too_large()(scope, receive, send)
            return
        except ConnectionAbortedError:
            return
        parsed: Any = None
        method = scope["method"]
        if body and method in BODY_METHODS:
            if not _is_json(headers.get("content-type")):
                answer = error_response(
                    415,
                    "unsupported_media_type",
                    "Content-Type: a body must be application/json (UTF-8)",
                    [{"field": "Content-Type", "reason": "expected application/json"}],
                )
                await answer(scope, receive, send)
                return
            try:
                parsed = strict_json(body)
            except ValueError as error:
                answer = error_response(
                    422, "invalid_json", f"body: {error}", [{"field": "body", "reason": str(error)}]
                )
                await answer(scope, receive, send)
                return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watch)
        if status == 202 and method == "POST" and route_template(scope) == PUBLISH_ROUTE:
            for kind, count in Counter(_types(parsed)).items():
                self.metrics.published(kind, count)


ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorOut"}


def _error_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": ERROR_SCHEMA}}}


def document_answers(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI ``schema`` telling what the API really answers (in place; returned):

    - every 422 has our error body (an RFC 9457 problem, ``api.errors``), not FastAPI's
      default one (our handler of RequestValidationError answers ours);
    - every error answer (4xx, 5xx) is documented as ``application/problem+json``;
    - every operation with a request body may answer 413 (body over the limit), 415 (not
      ``application/json``) and 422 (not strict JSON), from :class:`BodyGuard`.
    """
    from api.schemas import ErrorOut

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorOut" not in components:
        for name, model in (
            ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
            .get("$defs", {})
            .items()
        ):
            components.setdefault(name, model)
        own = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        own.pop("$defs", None)
        components["ErrorOut"] = own
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "422" in responses:
                responses["422"] = _error_answer(
                    responses["422"].get("description") or "Invalid request"
                )
            if "requestBody" in operation:
                responses.setdefault("413", _error_answer("Body over the size limit"))
                responses.setdefault("415", _error_answer("Body not application/json"))
                responses.setdefault("422", _error_answer("Body not strict JSON"))
            for status, answer in responses.items():
                content = answer.get("content") if isinstance(answer, dict) else None
                if status[:1] in "45" and content and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    text = orjson.dumps(schema["paths"])
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}".encode() not in text:
            components.pop(unused, None)
    return schema

"""Our errors to HTTP answers, at this edge only. No stack trace reaches a client.

Every error is an RFC 9457 problem (``application/problem+json``): ``type``
(``urn:journey:problem:<error>``), ``title`` (the same for every problem of that type),
``status``, ``detail`` (this occurrence), ``instance`` (the request's path), and as
extensions ``error`` (the short code, as before), ``problems`` (each field at fault, with
the reason) and, for a refusal by a service rule, ``rule`` (its id, ``R-…``)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.sourcelog.base import LogUnavailable
from application.audit import AsOfOutOfRange, HistoryDamaged, WhatIfScope
from application.consistency import NotYetConsistent
from contracts.envelope import InvalidEvent
from domain.errors import DomainError, NotFound
from domain.policy import UnknownPolicy

logger = logging.getLogger(__name__)

HTTP_ERRORS = {404: "not_found", 405: "method_not_allowed"}

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:journey:problem:"

TITLES: dict[str, str] = {
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "invalid_request": "Invalid request",
    "invalid_event": "Invalid event",
    "rule_violated": "Refused by a service rule",
    "history_damaged": "Stored history cannot be read",
    "unknown_policy": "Unknown policy version",
    "not_yet_consistent": "Not yet consistent",
    "log_unavailable": "Log unavailable",
    "internal_error": "Internal error",
}
"""The title of each problem type; a type not listed takes its status's reason phrase."""


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        headers: dict[str, str] | None = None,
        problems: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.headers = headers
        self.problems = problems


def error_response(
    status: int,
    error: str,
    detail: str,
    problems: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    *,
    instance: str | None = None,
    rule: str | None = None,
) -> JSONResponse:
    """The one error answer, an RFC 9457 problem (see the module's docstring): for
    exception handlers and for middleware, which answers before any handler could."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body: dict[str, object] = {
        "type": PROBLEM_TYPE + error,
        "title": TITLES.get(error, phrase),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body |= {"error": error, "problems": problems or []}
    if rule is not None:
        body["rule"] = rule
    return ProblemResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            exc.status,
            exc.error,
            exc.detail,
            exc.problems,
            headers=exc.headers,
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Raised by routing itself (no such route: 404, another method: 405): our body
        # too, not Starlette's ``{"detail": ...}``.
        error = HTTP_ERRORS.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(
            exc.status_code, error, str(exc.detail), headers=headers, instance=request.url.path
        )

    @app.exception_handler(InvalidEvent)
    async def invalid_event(request: Request, exc: InvalidEvent) -> JSONResponse:
        problems = [{"field": p.field, "reason": p.reason} for p in exc.problems]
        return error_response(422, "invalid_event", str(exc), problems, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(part) for part in e["loc"]), "reason": e["msg"]}
            for e in exc.errors()
        ]
        return error_response(
            422,
            "invalid_request",
            "; ".join(f"{p['field']}: {p['reason']}" for p in problems),
            problems,
            instance=request.url.path,
        )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return error_response(
            409, "rule_violated", str(exc), instance=request.url.path, rule=exc.rule
        )

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, "not_found", str(exc), instance=request.url.path)

    @app.exception_handler(HistoryDamaged)
    async def history_damaged(request: Request, exc: HistoryDamaged) -> JSONResponse:
        return error_response(409, "history_damaged", str(exc), instance=request.url.path)

    @app.exception_handler(AsOfOutOfRange)
    @app.exception_handler(WhatIfScope)
    async def bad_question(request: Request, exc: DomainError) -> JSONResponse:
        return error_response(422, "invalid_request", str(exc), instance=request.url.path)

    @app.exception_handler(UnknownPolicy)
    async def unknown_policy(request: Request, exc: UnknownPolicy) -> JSONResponse:
        return error_response(
            422, "unknown_policy", f"policy_version: {exc}", instance=request.url.path
        )

    @app.exception_handler(NotYetConsistent)
    async def not_consistent(request: Request, exc: NotYetConsistent) -> JSONResponse:
        return error_response(
            503,
            "not_yet_consistent",
            str(exc),
            headers={"Retry-After": "1"},
            instance=request.url.path,
        )

    @app.exception_handler(LogUnavailable)
    async def log_down(request: Request, exc: LogUnavailable) -> JSONResponse:
        logger.error("log unavailable: %s", exc)
        return error_response(
            503,
            "log_unavailable",
            "the log did not acknowledge; retry",
            headers={"Retry-After": "1"},
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return internal_error()


def internal_error() -> JSONResponse:
    """The 500 answer: no stack trace, no exception text, reaches a client."""
    return error_response(500, "internal_error", "an internal error occurred; it has been logged")

"""Our errors to HTTP answers, at this edge only. No stack trace reaches a client."""

from __future__ import annotations

import logging

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


class ApiError(Exception):
    def __init__(
        self, status: int, error: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.headers = headers


def error_response(
    status: int,
    error: str,
    detail: str,
    problems: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one JSON error answer, ``{"error", "detail", "problems"}``: for exception
    handlers and for middleware, which answers before any handler could."""
    body = {"error": error, "detail": detail, "problems": problems or []}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Raised by routing itself (no such route: 404, another method: 405): our body
        # too, not Starlette's ``{"detail": ...}``.
        error = HTTP_ERRORS.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, error, str(exc.detail), headers=headers)

    @app.exception_handler(InvalidEvent)
    async def invalid_event(_: Request, exc: InvalidEvent) -> JSONResponse:
        problems = [{"field": p.field, "reason": p.reason} for p in exc.problems]
        return error_response(422, "invalid_event", str(exc), problems)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(part) for part in e["loc"]), "reason": e["msg"]}
            for e in exc.errors()
        ]
        return error_response(
            422,
            "invalid_request",
            "; ".join(f"{p['field']}: {p['reason']}" for p in problems),
            problems,
        )

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(409, "rule_violated", str(exc))

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, "not_found", str(exc))

    @app.exception_handler(HistoryDamaged)
    async def history_damaged(_: Request, exc: HistoryDamaged) -> JSONResponse:
        return error_response(409, "history_damaged", str(exc))

    @app.exception_handler(AsOfOutOfRange)
    @app.exception_handler(WhatIfScope)
    async def bad_question(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(422, "invalid_request", str(exc))

    @app.exception_handler(UnknownPolicy)
    async def unknown_policy(_: Request, exc: UnknownPolicy) -> JSONResponse:
        return error_response(422, "unknown_policy", f"policy_version: {exc}")

    @app.exception_handler(NotYetConsistent)
    async def not_consistent(_: Request, exc: NotYetConsistent) -> JSONResponse:
        return error_response(503, "not_yet_consistent", str(exc), headers={"Retry-After": "1"})

    @app.exception_handler(LogUnavailable)
    async def log_down(_: Request, exc: LogUnavailable) -> JSONResponse:
        logger.error("log unavailable: %s", exc)
        return error_response(
            503,
            "log_unavailable",
            "the log did not acknowledge; retry",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return internal_error()


def internal_error() -> JSONResponse:
    """The 500 answer: no stack trace, no exception text, reaches a client."""
    return error_response(500, "internal_error", "an internal error occurred; it has been logged")

"""The route class every route of the API uses: a query parameter the route does not declare
is refused with a 422 problem naming it, instead of being silently ignored (a misspelt
filter, ``classification=complaint`` on a route without that filter, would otherwise give
an answer that looks valid and is not what was asked); and an authenticated caller's
answer carries its key's rate-limit fields (``RateLimit-*``, set by ``api.auth``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from api.errors import ApiError


class StrictQueryRoute(APIRoute):
    """Refuses query parameters the route (its dependencies included) does not declare."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = self.request_handler()
        declared = query_names(self.dependant)

        async def strict(request: Request) -> Response:
            unknown = sorted(set(request.query_params) - declared)
            if unknown:
                shown = ", ".join(repr(name[:64]) for name in unknown[:10])
                allowed = ", ".join(sorted(declared)) or "none"
                raise ApiError(
                    422,
                    "invalid_request",
                    f"unknown query parameter {shown}; this route takes: {allowed}",
                    problems=[
                        {"field": f"query.{name[:64]}", "reason": "unknown parameter"}
                        for name in unknown[:10]
                    ],
                )
            response = await handler(request)
            limits = getattr(request.state, "rate_limit", None)
            if limits:
                response.headers.update(limits)
            return response

        return strict

    def request_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """What answers a request whose query passed: FastAPI's handler (it solves the
        route's dependencies, runs its endpoint and renders the answer)."""
        return super().get_route_handler()


def query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route declares, its dependencies' included."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(param.alias for param in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(names)


AUDIENCES = {
    "channels": "Systems that publish events, and read their contracts and dead letters.",
    "analysts": "Reports: the ledger, KPIs, orders and returns, the customer 360.",
    "auditors": "A case's history, state as of a time, verification, what-if.",
    "admins": "Keys, the access log, dead letters, parked and quarantined events, rebuilds,"
    " erasure.",
    "operations": "Liveness, readiness and metrics, without a key.",
}
"""The OpenAPI tags, one per audience; each route is under exactly one."""


def operation_id(route: APIRoute) -> str:
    """A route's OpenAPI ``operationId``: its endpoint's name, which says what it does
    (``list_complaints``, ``get_case_history``); checked unique and snake_case by a test."""
    return route.name

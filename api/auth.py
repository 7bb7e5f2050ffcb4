"""Who may call which route: API keys (``Authorization: Bearer <key>``), roles, the rate
limit per key, and the access log of reads of clear personal data.

Every route under ``/v1`` declares the roles it admits next to its decorator::

    @router.get("/x", dependencies=[Roles("analyst", "auditor", "admin")])

Routers built with ``route_class=ProtectedRoute`` show that declaration in OpenAPI
(``x-roles``, the bearer security scheme, and the 401/403/429 answers). Routes of
``PUBLIC_PATHS`` are open on purpose.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.security import Principal, Role, sees_clear_personal_data
from api.csv_export import CSV_TOO, AnswerResponse, table_format, table_of
from api.deps import AccessLogDep, services_of
from api.errors import ApiError
from api.paged_csv import every_page, paged_table
from api.routing import StrictQueryRoute
from api.schemas import ErrorOut
from api.times import InZone

PUBLIC_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
    | {"/", "/console/static", "/console/vendor"}
)
"""Open without a key: liveness and readiness probes and Prometheus scrapers (operations
tooling holds no API key, and these answers carry no personal data), the API's own
description, and the console's page and scripts (which hold no data: it signs in with a key
and reads through the API)."""

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `journey keys create --role …` or POST /v1/admin/keys:"
    " `Authorization: Bearer jk_…`",
)

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorOut,
        "description": "No API key, or an unknown or revoked one.",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    403: {"model": ErrorOut, "description": "The key's role is not admitted by this route."},
    429: {
        "model": ErrorOut,
        "description": "Over the key's rate limit, or the key has too many reads waiting"
        " for consistent_with.",
        "headers": {
            "Retry-After": {
                "schema": {"type": "integer", "minimum": 1},
                "description": "Seconds until the key may call again.",
            }
        },
    },
}


def _unauthenticated(why: str) -> ApiError:
    return ApiError(401, "unauthenticated", why, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's principal: the key is looked up on every request (no cache, so a
    revocation applies at once), then charged one token of its rate limit. The key store
    and the limiter are read from the services here, not as dependencies of their own:
    every protected request solves this, and each dependency costs FastAPI a solve."""
    if credentials is None:
        raise _unauthenticated("no API key: send the header Authorization: Bearer <key>")
    services = services_of(request)
    keys, limiter = services.api_keys, services.rate_limiter
    if keys.lookup_is_local:  # a local file read (SQLite): cheaper than a thread's round trip
        principal = keys.authenticate(credentials.credentials)
    else:  # a network round trip (PostgreSQL): never on the event loop
        principal = await run_in_threadpool(keys.authenticate, credentials.credentials)
    if principal is None:
        raise _unauthenticated("the API key is unknown or revoked")
    wait = limiter.acquire(principal.key_id)
    limits = limiter.headers(principal.key_id)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"this key may make {limiter.rate_per_s:g} requests per second"
            f" (bursts of {limiter.burst}); retry later",
            headers={"Retry-After": str(max(1, math.ceil(wait))), **limits},
        )
    request.state.principal = principal
    request.state.rate_limit = limits  # on the answer too (api.routing)
    return principal


CallerDep = Annotated[Principal, Depends(authenticate)]
"""The authenticated caller; the same object the route's ``Roles`` check saw."""


def caller_of(request: Request) -> Principal:
    """The caller ``authenticate`` found for this request: ``CallerDep`` without a
    dependency to solve, for a route that declares ``Roles`` (which authenticated it)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise RuntimeError(f"{_route_path(request)}: no caller; does the route declare Roles?")
    return principal


def _route_path(request: Request) -> str:
    route = request.scope.get("route")
    return route.path if isinstance(route, APIRoute) else request.url.path


class RoleCheck:
    def __init__(self, roles: Sequence[Role]) -> None:
        self.roles = tuple(roles)

    async def __call__(self, request: Request, caller: CallerDep) -> Principal:
        if caller.role not in self.roles:
            raise ApiError(
                403,
                "forbidden",
                f"route {request.method} {_route_path(request)} admits roles"
                f" {', '.join(self.roles)}; this key is role {caller.role}",
            )
        return caller


def Roles(*roles: Role) -> Any:
    """``dependencies=[Roles("auditor", "admin")]``: the roles this route admits."""
    return Depends(RoleCheck(roles))


def roles_of(dependencies: Sequence[Any]) -> tuple[Role, ...] | None:
    """The roles a route's dependencies admit, or None when it declares none."""
    for dependency in dependencies:
        if isinstance(dependency, DependsParam) and isinstance(dependency.dependency, RoleCheck):
            return dependency.dependency.roles
    return None


def route_roles(app: FastAPI) -> list[tuple[str, str, tuple[Role, ...] | None]]:
    """``(method, path, roles)`` of every route of ``app`` (roles None: it declares none,
    open only if it is in ``PUBLIC_PATHS``). Included routers are walked too."""
    table = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        roles = roles_of(route.dependencies) if isinstance(route, APIRoute) else None
        for method in sorted(context.methods or {"*"}):
            table.append((method, str(context.path), roles))
    return table


class ProtectedRoute(StrictQueryRoute):
    """Shows a route's ``Roles`` in OpenAPI: ``x-roles`` and the 401, 403, 429 answers.
    Answers in the request's zone (``api.times``: its ``tz`` parameter and every time in
    the answer rendered with that zone's offset), the same on every route. A GET whose
    answer is a table answers it as CSV too (``format=csv``, ``api.csv_export``), every
    page of it when it is paged (``api.paged_csv``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["dependencies"] = [*(kwargs.get("dependencies") or ()), InZone]
        if isinstance(kwargs.get("response_class"), DefaultPlaceholder | None):
            kwargs["response_class"] = AnswerResponse
        model = kwargs.get("response_model")
        table = table_of(model)
        reads = "GET" in (kwargs.get("methods") or ())
        if table and reads and "format" not in inspect.signature(endpoint).parameters:
            paged = paged_table(model)
            kwargs["dependencies"].append(table_format(*table, paged=paged is not None))
            kwargs["responses"] = {**(kwargs.get("responses") or {}), 200: CSV_TOO}
            if paged is not None:  # every row of every page as CSV
                endpoint = every_page(endpoint, paged)
        roles = roles_of(kwargs.get("dependencies") or ())
        if roles is not None:
            kwargs["openapi_extra"] = {**(kwargs.get("openapi_extra") or {}), "x-roles": roles}
            kwargs["responses"] = {**AUTH_RESPONSES, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)


async def _status_of(request: Request, error: Exception) -> int:
    """The status the app's exception handlers answer ``error`` with."""
    if isinstance(error, ApiError):
        return error.status
    if isinstance(error, HTTPException):
        return error.status_code
    if isinstance(error, RequestValidationError):
        return 422
    handlers = request.app.exception_handlers
    for kind in type(error).__mro__:
        if kind is not Exception and kind in handlers:
            response = await handlers[kind](request, error)
            return int(response.status_code)
    return 500


def RecordsAccess(kind: str, param: str, kind_param: str | None = None) -> Any:
    """``dependencies=[Roles(...), RecordsAccess("case", "case_ref")]``: the route shows
    personal data or a case history; a read by a role that sees it in clear (auditor,
    admin) is written to the access log with its subject ``<kind>:<path param>``, route,
    method and status. Analysts' reads are masked and not recorded. List it after
    ``Roles``, so a refused call is not recorded as a read. ``kind_param``: the kind is
    that path parameter's value (``/v1/audit/{kind}/{ref}``), ``kind`` when it is absent."""

    async def record(
        request: Request, access_log: AccessLogDep, caller: CallerDep
    ) -> AsyncIterator[None]:
        if not sees_clear_personal_data(caller.role):
            yield
            return
        route = request.scope.get("route")
        status = (route.status_code if isinstance(route, APIRoute) else None) or 200
        try:
            yield
        except Exception as error:
            status = await _status_of(request, error)
            raise
        finally:
            named = request.path_params.get(kind_param, kind) if kind_param else kind
            subject = f"{named}:{request.path_params.get(param, '')}"
            await run_in_threadpool(
                access_log.record,
                caller,
                subject,
                _route_path(request),
                request.method,
                status,
            )

    return Depends(record)

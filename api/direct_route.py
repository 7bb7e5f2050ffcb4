"""A route class for the API's hottest route (``POST /v1/events``, issue 18): FastAPI
documents it like any other, but a request runs its dependencies by direct calls instead of
FastAPI's generic solver, which cost a quarter of the route's CPU."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from api.auth import ProtectedRoute, RoleCheck, authenticate, bearer
from api.times import request_zone


class DirectRoute(ProtectedRoute):
    """A protected route whose endpoint takes the request alone and returns its Response,
    and whose only dependencies are its ``Roles`` and the request's zone (what
    ``ProtectedRoute`` adds). Each request runs what FastAPI would, in its order: the roles
    check (which authenticates the key: 401, 429, then 403), the ``tz`` parameter (a 422
    of FastAPI's own validation) and the zone, then the endpoint. Any other shape is refused
    when the route is made. (The app's ``dependency_overrides`` do not reach it; no test of
    ours overrides a dependency.)"""

    def request_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        roles, zone_params = _direct_plan(self.dependant)
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint

        async def handle(request: Request) -> Response:
            caller = await authenticate(request, await bearer(request))
            await roles(request, caller)
            if request.scope["query_string"]:  # else tz is absent: the report zone
                values, errors = request_params_to_args(zone_params, request.query_params)
                if errors:
                    raise RequestValidationError(errors)
                await request_zone(request, **values)
            else:
                await request_zone(request)
            return await endpoint(request)

        return handle


def _direct_plan(dependant: Dependant) -> tuple[RoleCheck, list[Any]]:
    """The route's roles check and its zone's query parameters; TypeError when the route
    declares more than ``DirectRoute`` runs."""
    roles = dependant.dependencies[0].call if dependant.dependencies else None
    shape = (
        isinstance(roles, RoleCheck)
        and len(dependant.dependencies) == 2
        and dependant.dependencies[1].call is request_zone
        and not dependant.dependencies[1].dependencies
        and dependant.request_param_name is not None
        and not (dependant.path_params or dependant.query_params or dependant.header_params)
        and not (dependant.cookie_params or dependant.body_params)
    )
    if not shape or not isinstance(roles, RoleCheck):  # (the second for the type checker)
        raise TypeError(
            f"{dependant.call}: a DirectRoute's endpoint takes the request alone and declares"
            " only its Roles"
        )
    return roles, dependant.dependencies[1].query_params

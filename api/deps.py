"""Dependency aliases for routes."""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from adapters.sourcelog.base import Coordinates
from api.errors import ApiError
from api.services import ApiServices
from application.consistency import wait_for_positions


def get_runtime(request: Request) -> ApiServices:
    runtime: ApiServices = request.app.state.services
    return runtime


RuntimeDep = Annotated[ApiServices, Depends(get_runtime)]


async def read_your_writes(
    runtime: RuntimeDep,
    consistent_with: Annotated[
        list[str] | None,
        Query(
            max_length=100,
            description="Positions (topic:partition:offset) from POST /v1/events that the"
            " answer must include; waits a bounded time for them (503 if not reached).",
        ),
    ] = None,
) -> None:
    """Read-your-writes: wait until every read model includes the given positions."""
    if not consistent_with:
        return
    try:
        positions = [Coordinates.parse(p) for p in consistent_with]
    except ValueError:
        raise ApiError(
            422, "invalid_position", "consistent_with: expected topic:partition:offset"
        ) from None
    await run_in_threadpool(
        wait_for_positions,
        runtime.app,
        runtime.projections,
        positions,
        runtime.limits.consistency_wait_max_s,
    )


Consistent = Depends(read_your_writes)
"""Add ``dependencies=[Consistent]`` to a read route to accept ``consistent_with``."""

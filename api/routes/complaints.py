"""The complaint ledger for analysts."""

from __future__ import annotations

import base64
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from api.errors import ApiError
from api.schemas import ComplaintOut, ComplaintPageOut, ErrorOut
from journey.consistency import wait_for_positions
from journey.log.base import Coordinates

router = APIRouter(prefix="/v1", tags=["analysts"])


def _encode_cursor(opened_at: str, case_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([opened_at, case_id])).decode()


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        opened_at, case_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(opened_at), str(case_id)
    except (ValueError, TypeError):
        raise ApiError(422, "invalid_cursor", "cursor: not a cursor from a previous page") from None


@router.get(
    "/complaints",
    response_model=ComplaintPageOut,
    responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def list_complaints(
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    consistent_with: Annotated[
        list[str] | None,
        Query(
            max_length=100,
            description="Positions (topic:partition:offset) from POST /v1/events that the"
            " answer must include; waits a bounded time for them.",
        ),
    ] = None,
) -> ComplaintPageOut:
    """Cases in the complaint ledger, oldest first, a page at a time."""
    after = _decode_cursor(cursor) if cursor else None
    if consistent_with:
        try:
            positions = [Coordinates.parse(p) for p in consistent_with]
        except ValueError:
            raise ApiError(
                422, "invalid_position", "consistent_with: expected topic:partition:offset"
            ) from None
        await run_in_threadpool(
            wait_for_positions,
            runtime.app,
            runtime.ledger,
            positions,
            runtime.settings.consistency_wait_max_s,
        )
    rows = await run_in_threadpool(runtime.ledger.page, limit + 1, after)
    more = len(rows) > limit
    rows = rows[:limit]
    return ComplaintPageOut(
        items=[ComplaintOut.model_validate(row) for row in rows],
        next_cursor=_encode_cursor(rows[-1]["opened_at"], rows[-1]["case_id"]) if more else None,
    )

"""What a counts route answers (``/v1/ledger/counts``, ``/v1/orders/counts``): the total and
each group's count, as JSON or as CSV (one line per group); an unknown dimension is a 422
naming ``group_by``."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.errors import ApiError
from api.schemas import ErrorOut
from projections.group_counts import Counts, UnknownDimension

T = TypeVar("T")
GroupBy = Annotated[
    list[str] | None,
    Query(max_length=4, description="Dimensions to group by (see the description)."),
]
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


class CountGroupOut(BaseModel):
    key: dict[str, str | None]
    """The group's value of each dimension asked (``null``: the row has none)."""
    count: int


class CountsOut(BaseModel):
    total: int
    """Rows matching the filter, each once."""
    groups: list[CountGroupOut]
    """Largest first; a row counts once per value of each many-valued dimension."""
    truncated: bool
    """More groups than the answer holds (10,000): the smallest were left out."""
    tz: str
    """The zone of the time dimensions."""


async def counted(counting: Awaitable[T]) -> T:
    """The counts, or a 422 naming ``group_by`` when a dimension is unknown."""
    try:
        return await counting
    except UnknownDimension as error:
        raise ApiError(
            422,
            "invalid_request",
            f"group_by: {error}",
            problems=[{"field": "query.group_by", "reason": str(error)}],
        ) from None


def answer(counts: Counts, dimensions: list[str], tz: str, csv_name: str | None) -> Any:
    """The counts as ``CountsOut``'s fields, or as CSV named ``csv_name`` when given."""
    if csv_name is not None:
        return _csv(counts, dimensions, csv_name)
    return {
        "total": counts.total,
        "groups": [{"key": key, "count": n} for key, n in counts.groups],
        "truncated": counts.truncated,
        "tz": tz,
    }


def _csv(counts: Counts, dimensions: list[str], name: str) -> Response:
    """One line per group (the total alone when nothing is grouped): its dimensions' values
    (empty: none) and its count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = list(dict.fromkeys(dimensions))
    writer.writerow([*names, "count"])
    if not names:
        writer.writerow([counts.total])
    for key, n in counts.groups:
        writer.writerow([*(key[d] or "" for d in names), n])
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )

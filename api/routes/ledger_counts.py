"""The ledger as a query surface: how many cases match, in total and by group, in one call."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from api.auth import ProtectedRoute, Roles
from api.consistency import Consistent
from api.deps import LedgerDep
from api.errors import ApiError
from api.ledger_params import LedgerFilterDep
from api.schemas import ErrorOut
from api.times import ZoneDep
from projections.ledger.counts import DIMENSIONS, Counts, LedgerCounts, UnknownDimension

router = APIRouter(prefix="/v1", tags=["analysts"], route_class=ProtectedRoute)
READERS = Roles("analyst", "auditor", "admin")


class CountGroupOut(BaseModel):
    key: dict[str, str | None]
    """The group's value of each dimension asked (``null``: the case has none)."""
    count: int


class LedgerCountsOut(BaseModel):
    total: int
    """Cases matching the filter, each once."""
    groups: list[CountGroupOut]
    """Largest first; a case counts once per value of each facet it is grouped by."""
    truncated: bool
    """More groups than the answer holds (10,000): the smallest were left out."""
    tz: str
    """The zone of the ``opened_*`` dimensions."""


@router.get(
    "/ledger/counts",
    response_model=LedgerCountsOut,
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"},
        422: {"model": ErrorOut},
        503: {"model": ErrorOut},
    },
    dependencies=[READERS, Consistent],
    description="How many cases of the ledger match the filter (the same filters as"
    " `/v1/complaints`; the ledger holds every case: `classification=complaint` for"
    " complaints), in total and grouped by up to four dimensions: "
    + ", ".join(f"`{d}`" for d in DIMENSIONS)
    + ". `breached_rule` and `attribute.<name>` are many per case: a case counts once per"
    " value (and in the `null` group when it has none). `opened_day`, `opened_month`,"
    " `opened_year`: the opening's local date in `tz`.",
)
async def count_ledger_cases(
    ledger: LedgerDep,
    zone: ZoneDep,
    where: LedgerFilterDep,
    group_by: Annotated[
        list[str] | None,
        Query(max_length=4, description="Dimensions to group by (see the description)."),
    ] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    try:
        counts = await run_in_threadpool(
            LedgerCounts(ledger).counts, where, group_by or [], zone.tz
        )
    except UnknownDimension as error:
        raise ApiError(
            422,
            "invalid_request",
            f"group_by: {error}",
            problems=[{"field": "query.group_by", "reason": str(error)}],
        ) from None
    if format == "csv":
        return _csv(counts, group_by or [])
    return LedgerCountsOut(
        total=counts.total,
        groups=[CountGroupOut(key=key, count=n) for key, n in counts.groups],
        truncated=counts.truncated,
        tz=zone.name,
    )


def _csv(counts: Counts, dimensions: list[str]) -> Response:
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
        headers={"Content-Disposition": 'attachment; filename="ledger-counts.csv"'},
    )

"""The ledger as a query surface: how many cases match, in total and by group, in one call."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.auth import ProtectedRoute, Roles
from api.consistency import Consistent
from api.counts import ANSWERS, CountsOut, GroupBy, answer, counted
from api.deps import LedgerDep
from api.ledger_params import LedgerFilterDep
from api.times import ZoneDep
from projections.ledger.counts import DIMENSIONS, LedgerCounts

router = APIRouter(prefix="/v1", tags=["analysts"], route_class=ProtectedRoute)
READERS = Roles("analyst", "auditor", "admin")


class LedgerCountsOut(CountsOut):
    """Cases: ``total`` counts each once; ``tz`` is the zone of the ``opened_*`` dimensions."""


@router.get(
    "/ledger/counts",
    response_model=LedgerCountsOut,
    responses=ANSWERS,
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
    group_by: GroupBy = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    dimensions = group_by or []
    counts = await counted(
        run_in_threadpool(LedgerCounts(ledger).counts, where, dimensions, zone.tz)
    )
    return answer(counts, dimensions, zone.name, "ledger-counts" if format == "csv" else None)

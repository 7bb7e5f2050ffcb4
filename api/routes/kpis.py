"""KPI counters, the journey funnel, anomalies and the QA sample for analysts
(R-KPI-01..08), each count explainable by the events it is made of."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.auth import ProtectedRoute, Roles
from api.consistency import Consistent
from api.deps import KpisDep
from api.errors import ApiError
from api.paging import MAX_ITEMS, After, Limit, page_after
from api.params import UtcDay
from api.schemas import ErrorOut

router = APIRouter(prefix="/v1", tags=["analysts"], route_class=ProtectedRoute)
READERS = Roles("analyst", "auditor", "admin")

MAX_PERIOD = timedelta(days=366)
ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": ErrorOut}, 503: {"model": ErrorOut}}
Day = Annotated[
    UtcDay, Query(description="A UTC day, YYYY-MM-DD (inclusive), 1970-01-01 to 9998-12-31.")
]
Place = Annotated[str | None, Query(max_length=200)]


def _period(start: date, end: date) -> None:
    if end < start:
        raise ApiError(422, "invalid_request", "end: must not be before start")
    if end - start > MAX_PERIOD:
        raise ApiError(422, "invalid_request", "end: a period is at most 366 days")


@router.get(
    "/kpis", response_model=dict[str, Any], responses=ERRORS, dependencies=[READERS, Consistent]
)
async def kpis(
    counters: KpisDep,
    start: Day,
    end: Day,
    group_by: Annotated[
        list[Literal["day", "channel", "store", "agent_group"]] | None,
        Query(max_length=4, description="Any of day, channel, store, agent_group."),
    ] = None,
) -> dict[str, Any]:
    """R-KPI-01..05 and R-KPI-08 over the period, one row per group: volume and type mix,
    response rate, first-contact resolution, return rate, CSAT, NPS, mean handling time,
    breaches by rule, top-5 issues, funnel stages."""
    _period(start, end)
    groups = list(group_by or [])
    rows = await run_in_threadpool(counters.kpis, start, end, groups)
    return {"start": start.isoformat(), "end": end.isoformat(), "group_by": groups, "rows": rows}


@router.get(
    "/kpis/funnel",
    response_model=dict[str, Any],
    responses=ERRORS,
    dependencies=[READERS, Consistent],
)
async def funnel(counters: KpisDep, start: Day, end: Day) -> dict[str, Any]:
    """R-KPI-08: contacts by journey stage, consultation conversion (a pre-sale contact
    followed by an order within 7 days), after-sales resolution rate."""
    _period(start, end)
    result: dict[str, Any] = await run_in_threadpool(counters.funnel, start, end)
    return result


@router.get(
    "/kpis/explain",
    response_model=dict[str, Any],
    responses=ERRORS,
    dependencies=[READERS, Consistent],
)
async def explain_count(
    counters: KpisDep,
    metric: Annotated[str, Query(max_length=100, description="A metric name of /v1/kpis.")],
    day: Day,
    channel: Place = None,
    store: Place = None,
    agent_group: Place = None,
    limit: Limit = MAX_ITEMS,
    after: After = None,
) -> dict[str, Any]:
    """The events one daily count is made of (for the dimensions given), a page at a time
    (``after`` a notification id); ``count`` is their number on all pages: the count."""
    where = {
        k: v
        for k, v in (("channel", channel), ("store", store), ("agent_group", agent_group))
        if v is not None
    }
    events = await run_in_threadpool(lambda: counters.explain(metric, day, **where))
    shown, next_after = page_after(events, lambda e: e["notification_id"], after, limit)
    return {
        "metric": metric,
        "day": day.isoformat(),
        **where,
        "count": len(events),
        "events": shown,
        "next_after": next_after,
    }


@router.get(
    "/anomalies",
    response_model=dict[str, Any],
    responses=ERRORS,
    dependencies=[READERS, Consistent],
)
async def anomalies(counters: KpisDep, start: Day, end: Day) -> dict[str, Any]:
    """R-KPI-06: stores and agent groups whose complaint rate was above their peers' mean
    for 3 consecutive days."""
    _period(start, end)
    found = await run_in_threadpool(counters.anomalies, start, end)
    return {"start": start.isoformat(), "end": end.isoformat(), "anomalies": found}


@router.get(
    "/qa-sample",
    response_model=dict[str, Any],
    responses=ERRORS,
    dependencies=[READERS, Consistent],
)
async def qa_sample(
    counters: KpisDep,
    start: Day,
    end: Day,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    agent_group: Place = None,
) -> dict[str, Any]:
    """R-KPI-07: a reproducible 10 % sample of conversations per agent group (the same
    seed gives the same sample)."""
    _period(start, end)
    sample = await run_in_threadpool(counters.qa_sample, agent_group, start, end, seed)
    return {"start": start.isoformat(), "end": end.isoformat(), "seed": seed, "sample": sample}

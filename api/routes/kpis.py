"""KPI counters, the journey funnel, anomalies and the QA sample for analysts
(R-KPI-01..08), each count explainable by the events it is made of.

Time, the same on every route here: a date (``start``, ``end``, ``day``) is a date in the
report time zone (``JOURNEY_REPORT_TZ``, default Asia/Shanghai) or in the request's
``tz``; days, ISO weeks and months are that zone's; every time in an answer carries that
zone's offset, and the answer names the zone (``tz``).

Source attributes, the same on every route here: ``attribute=name:value`` (repeatable:
every one) keeps only the facts whose subject holds them, and the answer names them
(``attributes``); every route reads the counters through ``api.kpi_scope``, which declares
the parameter once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.auth import ProtectedRoute, Roles
from api.consistency import Consistent
from api.counts import counted
from api.errors import ApiError
from api.kpi_schemas import AnomaliesOut, FunnelOut, KpiExplainOut, KpisOut, QaSampleOut
from api.kpi_scope import KpiScopeDep
from api.paging import MAX_ITEMS, Cursor, Limit, page_after
from api.params import UtcDay
from api.schemas import ErrorOut
from domain.policy import BASELINE, policy_in_force
from projections.kpis import definitions

router = APIRouter(prefix="/v1", tags=["analysts"], route_class=ProtectedRoute)
READERS = Roles("analyst", "auditor", "admin")

MAX_PERIOD = timedelta(days=366)
"""The longest period of the routes that answer day by day (anomalies, the QA sample)."""
ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": ErrorOut}, 503: {"model": ErrorOut}}
Day = Annotated[
    UtcDay,
    Query(
        description="A date in the report zone (or `tz`), YYYY-MM-DD (inclusive),"
        " 1970-01-01 to 9998-12-31."
    ),
]
Place = Annotated[str | None, Query(max_length=200)]


def _period(start: date | None, end: date | None, capped: bool = True) -> None:
    if start is not None and end is not None and end < start:
        raise ApiError(422, "invalid_request", "end: must not be before start")
    if capped and start is not None and end is not None and end - start > MAX_PERIOD:
        raise ApiError(422, "invalid_request", "end: a period is at most 366 days")


@router.get(
    "/kpis",
    response_model=KpisOut,
    response_model_exclude_unset=True,
    responses=ERRORS,
    dependencies=[READERS, Consistent],
    description="R-KPI-01..05 and R-KPI-08 over the period, one row per group: volume and"
    " type mix, response rate, first-contact resolution, return rate, CSAT, NPS, mean"
    " handling time, breaches by rule and by how they were detected, top-5 issues, funnel"
    " stages; each KPI with a target beside it, judged (`targets`). Any period length:"
    " leave `start` or `end` out for all time.\n\nDefinitions (docs/kpis.md):\n\n"
    + definitions.openapi_text(),
)
async def get_kpis(
    scope: KpiScopeDep,
    start: Annotated[
        Day | None, Query(description="First date (default: the first fact's).")
    ] = None,
    end: Annotated[
        Day | None, Query(description="Last date, inclusive (default: the last fact's).")
    ] = None,
    group_by: Annotated[
        list[str] | None,
        Query(
            max_length=4,
            description="Any of channel, store, agent_group, a source attribute"
            " `attribute.<name>` (its value in the row's `attributes`; `null`: the subject"
            " has none), and at most one of day, week (ISO, `2026-W10`), month (`2026-03`):"
            " in the zone.",
        ),
    ] = None,
) -> dict[str, Any]:
    """R-KPI-01..05 and R-KPI-08 over the period, one row per group, R-KPI-01..03 judged
    against their targets (the OpenAPI text is the ``description`` above). Filtered or
    grouped by source attributes, each thing counted is counted under its subject's (the
    case, contact, order or survey it is about)."""
    _period(start, end, capped=False)
    groups = list(dict.fromkeys(group_by or []))
    if len([g for g in groups if g in ("day", "week", "month")]) > 1:
        raise ApiError(422, "invalid_request", "group_by: at most one of day, week, month")
    counters, tz = scope.counters, scope.zone.tz
    span = await run_in_threadpool(counters.interval, start, end, tz)
    rows = await counted(run_in_threadpool(counters.kpis, start, end, groups, tz, scope.held))
    # The targets of the policy in force at the period's end (its last fact's, if open).
    policy = policy_in_force(datetime.fromtimestamp(span[1] - 1, UTC)) if span else BASELINE
    for row in rows:
        row["targets"] = definitions.targets(row, policy)
    return {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        **scope.named(),
        "group_by": groups,
        "policy_version": policy.version,
        "rows": rows,
    }


@router.get(
    "/kpis/funnel",
    response_model=FunnelOut,
    response_model_exclude_unset=True,
    responses=ERRORS,
    dependencies=[READERS, Consistent],
)
async def get_funnel(scope: KpiScopeDep, start: Day, end: Day) -> dict[str, Any]:
    """R-KPI-08: contacts by journey stage, consultation conversion (a pre-sale contact
    followed by an order within 7 days), after-sales resolution rate."""
    _period(start, end, capped=False)
    result: dict[str, Any] = await run_in_threadpool(
        scope.counters.funnel, start, end, scope.zone.tz, scope.held
    )
    return {**result, **scope.named()}


@router.get(
    "/kpis/explain",
    response_model=KpiExplainOut,
    response_model_exclude_unset=True,
    responses=ERRORS,
    dependencies=[READERS, Consistent],
)
async def explain_kpi_count(
    scope: KpiScopeDep,
    metric: Annotated[
        str,
        Query(
            max_length=100,
            description="A metric name: " + ", ".join(definitions.metric_names()) + ".",
        ),
    ],
    day: Day,
    channel: Place = None,
    store: Place = None,
    agent_group: Place = None,
    limit: Limit = MAX_ITEMS,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The events one daily count is made of (for the dimensions and source attributes
    given: exactly those ``/v1/kpis`` counts under the same filter), a page at a time
    (``cursor``: a notification id); ``count`` is their number on all pages: the count.
    A metric name that is not one is a 422 listing the known ones."""
    if not definitions.known(metric):
        names = ", ".join(definitions.metric_names())
        reason = f"not a metric; known: {names}"
        raise ApiError(
            422,
            "invalid_request",
            f"metric: {reason}",
            problems=[{"field": "query.metric", "reason": reason}],
        )
    where = {
        k: v
        for k, v in (("channel", channel), ("store", store), ("agent_group", agent_group))
        if v is not None
    }
    events = await run_in_threadpool(
        lambda: scope.counters.explain(metric, day, scope.zone.tz, scope.held, **where)
    )
    shown, next_cursor = page_after(events, lambda e: e["notification_id"], cursor, limit)
    return {
        "metric": metric,
        "day": day.isoformat(),
        **scope.named(),
        **where,
        "count": len(events),
        "events": shown,
        "next_cursor": next_cursor,
    }


@router.get(
    "/anomalies",
    response_model=AnomaliesOut,
    response_model_exclude_unset=True,
    responses=ERRORS,
    dependencies=[READERS, Consistent],
)
async def list_anomalies(scope: KpiScopeDep, start: Day, end: Day) -> dict[str, Any]:
    """R-KPI-06: stores and agent groups whose complaint rate was above their peers' mean
    for 3 consecutive days (days in the zone); under ``attribute``, the rates of the
    subjects holding it, against their peers' of the same."""
    _period(start, end)
    found = await run_in_threadpool(scope.counters.anomalies, start, end, scope.zone.tz, scope.held)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        **scope.named(),
        "anomalies": found,
    }


@router.get(
    "/qa-sample",
    response_model=QaSampleOut,
    response_model_exclude_unset=True,
    responses=ERRORS,
    dependencies=[READERS, Consistent],
)
async def draw_qa_sample(
    scope: KpiScopeDep,
    start: Day,
    end: Day,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    agent_group: Place = None,
) -> dict[str, Any]:
    """R-KPI-07: a reproducible 10 % sample of conversations per agent group (the same
    seed gives the same sample); under ``attribute``, 10 % of the contacts holding it."""
    _period(start, end)
    sample = await run_in_threadpool(
        scope.counters.qa_sample, agent_group, start, end, seed, scope.zone.tz, scope.held
    )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        **scope.named(),
        "seed": seed,
        "sample": sample,
    }

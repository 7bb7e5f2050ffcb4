"""Auditors: a case's history, its state at a past point, verification of its stored
events, and what-if under another policy version."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.as_of_params import AsOfQuery, RecordedAsOfQuery, point_in_time
from api.auth import ProtectedRoute, RecordsAccess, Roles
from api.consistency import Consistent
from api.csv_export import CSV_PAGE, Format, answers, cells, export_rows
from api.deps import AuditorDep
from api.errors import ApiError
from api.history_csv import history_answer
from api.paging import MAX_ITEMS, Cursor, Limit, ledger_cursor, read_instant_cursor
from api.schemas import ErrorOut, HistoryOut, VerifyOut
from api.schemas_views import CaseStateOut, WhatIfOut
from api.times import DATE_NOTE, From, To, ZoneDep
from application.what_if import Position, WhatIfReport

router = APIRouter(prefix="/v1", tags=["auditors"], route_class=ProtectedRoute)
AUDITORS = Roles("auditor", "admin")
CASE_READ = RecordsAccess("case", "case_ref")

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 503: {"model": ErrorOut}}


MAX_WHAT_IF = 5000
WHAT_IF_CSV = (
    "aggregate_id", "kind", "ref", "recorded_policy_version", "key", "rule", "change",
)  # fmt: skip


@router.get(
    "/cases/{case_ref}/history",
    response_model=HistoryOut,
    responses=answers(NOT_FOUND),
    dependencies=[AUDITORS, CASE_READ, Consistent],
)
async def get_case_history(
    auditor: AuditorDep,
    case_ref: str,
    limit: Limit = MAX_ITEMS,
    cursor: Cursor = None,
    format: Format = "json",
) -> Any:
    """Every stored event of the case in order, a page at a time (``cursor``: a version),
    or all of them as CSV (``format=csv``; the event's data as JSON in one cell): version,
    event time, recorded time, the source record (event_id, topic, partition, offset) and,
    for clock decisions, the fact or watermark that caused them."""
    events = await run_in_threadpool(auditor.history, case_ref)
    page = history_answer(events, format, cursor, limit, "case-history")
    if isinstance(page, StreamingResponse):
        return page
    return HistoryOut.model_validate({"case_ref": case_ref, **page})


@router.get(
    "/cases/{case_ref}",
    response_model=CaseStateOut,
    responses={**NOT_FOUND, 422: {"model": ErrorOut}},
    dependencies=[AUDITORS, CASE_READ, Consistent],
)
async def get_case_state(
    auditor: AuditorDep,
    zone: ZoneDep,
    case_ref: str,
    as_of: AsOfQuery = None,
    recorded_as_of: RecordedAsOfQuery = None,
) -> dict[str, Any]:
    """The case rebuilt from its stored events: as of an event time (what had happened by
    then, its SLA clocks decided again and judged at that time), a recorded time (what
    the system held then) or a version. ``as_of`` in the answer says which
    (``{"basis": "event_time" | "recorded_time" | "version", "value"}``)."""
    point = point_in_time(as_of, recorded_as_of, zone)
    state: dict[str, Any] = await run_in_threadpool(auditor.state, case_ref, point)
    return state


@router.get(
    "/cases/{case_ref}/verify",
    response_model=VerifyOut,
    responses=NOT_FOUND,
    dependencies=[AUDITORS],
)
async def verify_case(auditor: AuditorDep, case_ref: str) -> VerifyOut:
    """Recompute the hash chain over the case's stored events and compare it with the
    recorded chain: the first altered, missing or unexpected event, if any."""
    report = await run_in_threadpool(auditor.verify, case_ref)
    return VerifyOut.model_validate(report.as_json())


WhatIfLimit = Annotated[
    int,
    Query(ge=1, le=MAX_WHAT_IF, description=f"At most {MAX_WHAT_IF} aggregates per page."),
]
WhatIfCursor = Annotated[
    str | None,
    Query(max_length=200, description="`next_cursor` of the previous page of the period."),
]


@router.get(
    "/what-if",
    response_model=WhatIfOut,
    responses=answers(NOT_FOUND),
    dependencies=[AUDITORS],
)
async def replay_what_if(
    auditor: AuditorDep,
    policy_version: Annotated[str, Query(max_length=64, description="e.g. 2027.1-draft")],
    case_ref: Annotated[str | None, Query(max_length=200)] = None,
    opened_from: Annotated[
        From | None, Query(description="Opened at or after." + DATE_NOTE)
    ] = None,
    opened_to: Annotated[To | None, Query(description="Opened before." + DATE_NOTE)] = None,
    limit: WhatIfLimit = 1000,
    cursor: WhatIfCursor = None,
    format: Format = "json",
) -> Any:
    """Replay one case, or the aggregates opened in ``[opened_from, opened_to)`` a page at
    a time (``limit`` aggregates, in the order they opened then by id; ``next_cursor``),
    under another policy version; the SLA outcomes that would differ. As CSV
    (``format=csv``): one row per outcome that differs, over every page of the period
    (``cursor`` and ``limit`` are then ignored)."""
    period = None
    if opened_from is not None or opened_to is not None:
        if opened_from is None or opened_to is None:
            raise ApiError(422, "invalid_request", "opened_from, opened_to: give both or neither")
        period = (opened_from, opened_to)
    after = read_instant_cursor(cursor, "opened_at") if cursor else None

    def page(after: Position | None, size: int) -> WhatIfReport:
        return auditor.what_if(
            policy_version, case_ref=case_ref, period=period, limit=size, after=after
        )

    if format == "csv":
        first = await run_in_threadpool(page, None, CSV_PAGE)  # its errors answered as such
        return export_rows(_differences(first, page), WHAT_IF_CSV, cells(WHAT_IF_CSV), "what-if")
    report = await run_in_threadpool(page, after, limit)
    last = report.next_after
    return WhatIfOut.model_validate(
        {
            **report.as_json(),
            "next_cursor": None
            if last is None
            else ledger_cursor(last[0].isoformat(), str(last[1])),
        }
    )


def _differences(
    report: WhatIfReport, page: Callable[[Position | None, int], WhatIfReport]
) -> Iterator[dict[str, Any]]:
    """Every outcome that differs, of ``report`` and of each page after it."""
    while True:
        for aggregate in report.as_json()["aggregates"]:
            for difference in aggregate["differences"]:
                yield {**aggregate, **difference}
        if report.next_after is None:
            return
        report = page(report.next_after, CSV_PAGE)

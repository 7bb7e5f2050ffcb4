"""Auditors: any aggregate — case, contact, customer, order, return, callback, survey —
looked up by the id its channel sent: its history, its state now or at a past point, and
proof that its stored events were not altered (issues 13 item 11, 15 item 3). A case's own
routes, and what-if, are in ``api.routes.cases``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.as_of_params import AsOfQuery, RecordedAsOfQuery, point_in_time
from api.auth import ProtectedRoute, RecordsAccess, Roles
from api.consistency import Consistent
from api.csv_export import Format, answers
from api.deps import AuditorDep
from api.history_csv import history_answer
from api.paging import MAX_ITEMS, Cursor, Limit
from api.schemas import AggregateVerifyOut, ErrorOut
from api.schemas_views import AggregateHistoryOut, AggregateStateOut
from api.times import ZoneDep
from domain.registry import KINDS

router = APIRouter(prefix="/v1/audit", tags=["auditors"], route_class=ProtectedRoute)
AUDITORS = Roles("auditor", "admin")
READ = RecordsAccess("aggregate", "ref", kind_param="kind")

Kind = Annotated[
    str,
    Path(
        max_length=64,
        description=f"The kind of aggregate: {', '.join(k.name for k in KINDS)}.",
    ),
]
Ref = Annotated[
    str,
    Path(min_length=1, max_length=200, description="The id its channel sent, e.g. an order_id."),
]

ANSWERS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such kind, or nothing stored under the id."},
    422: {"model": ErrorOut},
}


@router.get(
    "/{kind}/{ref}/verify",
    response_model=AggregateVerifyOut,
    responses=ANSWERS,
    dependencies=[AUDITORS],
)
async def verify_aggregate(auditor: AuditorDep, kind: Kind, ref: Ref) -> AggregateVerifyOut:
    """Recompute the hash chain over the aggregate's stored events and compare it with the
    recorded chain: the first altered, missing or unexpected event, if any. A failure is
    logged and counted in ``/metrics`` (``journey_audit_verification_failures_total``)."""
    report = await run_in_threadpool(auditor.verify_aggregate, kind, ref)
    return AggregateVerifyOut.model_validate({**report.as_json(), "kind": kind, "ref": ref})


@router.get(
    "/{kind}/{ref}/history",
    response_model=AggregateHistoryOut,
    responses=answers(ANSWERS),
    dependencies=[AUDITORS, READ, Consistent],
)
async def get_aggregate_history(
    auditor: AuditorDep,
    kind: Kind,
    ref: Ref,
    limit: Limit = MAX_ITEMS,
    cursor: Cursor = None,
    format: Format = "json",
) -> Any:
    """Every stored event of the aggregate in order, a page at a time (``cursor``: a
    version), or all as CSV (``format=csv``), as a case's history shows them: version,
    event time, recorded time, the source record and, for clock decisions, their cause."""
    events = await run_in_threadpool(auditor.history_by, kind, ref)
    page = history_answer(events, format, cursor, limit, f"{kind}-history")
    if isinstance(page, StreamingResponse):
        return page
    return AggregateHistoryOut.model_validate({"kind": kind, "ref": ref, **page})


@router.get(
    "/{kind}/{ref}",
    response_model=AggregateStateOut,
    responses=ANSWERS,
    dependencies=[AUDITORS, READ, Consistent],
)
async def get_aggregate_state(
    auditor: AuditorDep,
    zone: ZoneDep,
    kind: Kind,
    ref: Ref,
    as_of: AsOfQuery = None,
    recorded_as_of: RecordedAsOfQuery = None,
) -> dict[str, Any]:
    """The aggregate rebuilt from its stored events, as a case's state is: as stored now,
    or as of an event time, a recorded time or a version (``as_of`` in the answer)."""
    point = point_in_time(as_of, recorded_as_of, zone)
    state: dict[str, Any] = await run_in_threadpool(auditor.state_by, kind, ref, point)
    return state

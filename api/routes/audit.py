"""Auditors: proof that the stored events of any aggregate — case, contact, customer, order,
return, callback, survey — were not altered, looked up by the id its channel sent (issue
13, item 11). A case's history, state and what-if are in ``api.routes.cases``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from api.auth import ProtectedRoute, Roles
from api.deps import AuditorDep
from api.schemas import AggregateVerifyOut, ErrorOut
from domain.registry import KINDS

router = APIRouter(prefix="/v1/audit", tags=["auditors"], route_class=ProtectedRoute)
AUDITORS = Roles("auditor", "admin")

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

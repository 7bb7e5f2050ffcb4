"""The customer 360 view for analysts (R-CUS-06)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from adapters.privacy.personal import present_profile
from adapters.security import sees_clear_personal_data
from api.auth import CallerDep, ProtectedRoute, RecordsAccess, Roles
from api.consistency import Consistent
from api.deps import ApplicationDep, CustomersDep, LedgerDep, PersonalDep, WatermarkDep
from api.errors import ApiError
from api.paging import MAX_ITEMS, Cursor, Limit, explain_page
from api.schemas import ErrorOut, ExplainOut
from api.schemas_views import Customer360Out
from api.times import AsOf
from application.customer_view import customer_view
from application.explain import explanation

router = APIRouter(prefix="/v1", tags=["analysts"], route_class=ProtectedRoute)
READERS = Roles("analyst", "auditor", "admin")
CUSTOMER_READ = RecordsAccess("customer", "customer_id")
"""Auditors' and admins' reads show personal data in clear: recorded in the access log."""


@router.get(
    "/customers/{customer_id}",
    response_model=Customer360Out,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    dependencies=[READERS, CUSTOMER_READ, Consistent],
)
async def get_customer_360(
    customers: CustomersDep,
    ledger: LedgerDep,
    watermark: WatermarkDep,
    personal: PersonalDep,
    caller: CallerDep,
    customer_id: str,
    as_of: Annotated[
        AsOf | None,
        Query(
            description="Judge segments and time-relative flags at this event time (a date"
            " alone: the end of that day in the zone, `tz`)."
        ),
    ] = None,
) -> dict[str, Any]:
    """Profile, consents, RFM and lifecycle segments (R-CUS-05), orders, returns and
    refunds, open and past cases, callbacks, satisfaction history and the contact timeline
    across channels, in one place. Cases are ``open``, ``awaiting_confirmation`` (resolved,
    not yet confirmed: R-CMP-04) or ``past``; an open or awaiting case lists in ``overdue``
    the rules of its SLA clocks past due at the timer's watermark, not breached yet."""
    view = await run_in_threadpool(
        customer_view, customers, ledger, customer_id, as_of, watermark()
    )
    if view is None:
        raise ApiError(404, "not_found", f"customer_id: no customer {customer_id!r}")
    if view["profile"] is not None:
        clear = sees_clear_personal_data(caller.role)  # R-CUS-04: analysts see masks
        view["profile"] = await run_in_threadpool(
            present_profile, personal, customer_id, view["profile"], clear
        )
    return view


@router.get(
    "/customers/{customer_id}/explain",
    response_model=ExplainOut,
    responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    dependencies=[READERS, CUSTOMER_READ, Consistent],
)
async def explain_customer(
    customers: CustomersDep,
    application: ApplicationDep,
    customer_id: str,
    limit: Limit = MAX_ITEMS,
    cursor: Cursor = None,
) -> ExplainOut:
    """The stored events the customer's 360 view was built from, a page at a time."""
    ids = await run_in_threadpool(customers.events_behind, customer_id)
    if not ids:
        raise ApiError(404, "not_found", f"customer_id: no customer {customer_id!r}")
    subject = f"customer {customer_id}"
    answer = await run_in_threadpool(explanation, application, subject, ids)
    return explain_page(answer, cursor, limit)

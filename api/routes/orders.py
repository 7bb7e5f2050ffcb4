"""Orders and returns for analysts (R-ORD, R-REF): filtered, paged, exported, one by one.

Each SLA clock shows as it stands at the SLA timer's watermark (``overdue`` once past due
and not breached yet), as the complaint ledger's do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.auth import ProtectedRoute, Roles
from api.consistency import Consistent
from api.csv_export import CSV_PAGE, Format, answers, export_pages
from api.deps import OrdersDep, WatermarkDep
from api.errors import ApiError
from api.order_params import Breached, OrderFilterDep, Rule, Text
from api.paging import ledger_cursor, read_time_cursor
from api.schemas import ErrorOut
from api.schemas_orders import OrderOut, OrderPageOut, ReturnOut, ReturnPageOut
from api.times import DATE_NOTE, From, To
from domain.ids import aggregate_id
from projections.orders import ReturnFilter

router = APIRouter(prefix="/v1", tags=["analysts"], route_class=ProtectedRoute)
READERS = Roles("analyst", "auditor", "admin")

ORDER_CSV = (
    "order_id", "customer_id", "channel", "store_id", "status", "placed_at",
    "first_promised_delivery_at", "promised_delivery_at", "delays", "delayed_by_s",
    "shipped_at", "delivered_at", "delivered_late", "late_by_s", "cancelled_at",
    "amount_paid", "refunded_total", "refundable", "currency", "returns", "breaches",
    "breached_rules", "overdue", "clocks", "policy_version", "attributes",
)  # fmt: skip
RETURN_CSV = (
    "return_id", "order_id", "customer_id", "status", "reason", "where", "merchant_id",
    "requested_at", "decided_at", "completed_at", "amount_requested", "refunded_total",
    "exchanged_for", "merchant_refused_valid_return", "breaches", "breached_rules",
    "overdue", "clocks", "case_ref", "policy_version",
)  # fmt: skip

Watermark = Callable[[], datetime | None]
Sort = Literal["asc", "desc"]
Limit = Annotated[int, Query(ge=1, le=500)]
CursorParam = Annotated[str | None, Query(max_length=1000)]
ANSWERS = answers()
ONE: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 503: {"model": ErrorOut}}


def _clocks(row: dict[str, Any]) -> str:
    """Each clock as ``key=outcome`` (and ``/watermark`` for a breach the timer found)."""
    return " ".join(
        f"{key}={clock['outcome']}"
        + ("/watermark" if clock.get("detected_by") == "watermark" else "")
        for key, clock in sorted(row["sla"].items())
    )


def _flat(row: dict[str, Any], columns: tuple[str, ...]) -> list[Any]:
    flat = dict(row)
    flat["clocks"] = _clocks(row)
    flat["breached_rules"] = " ".join(row["breached_rules"])
    if "delays" in row:
        flat["attributes"] = " | ".join(f"{k}={v}" for k, v in sorted(row["attributes"].items()))
        flat["delays"] = len(row["delays"])
        flat["returns"] = " ".join(row["returns"])
    return [flat.get(column) for column in columns]


def _next(rows: list[dict[str, Any]], limit: int, time_column: str) -> str | None:
    return (
        ledger_cursor(rows[limit - 1][time_column], rows[limit - 1]["id"])
        if len(rows) > limit
        else None
    )


Read = Callable[[int, tuple[str, str] | None, datetime | None], list[dict[str, Any]]]
"""(how many, after the cursor, clocks judged at) → rows: one listing's query."""


async def _listing(
    read: Read,
    watermark: Callable[[], datetime | None],
    *,
    columns: tuple[str, ...],
    time_column: str,
    name: str,
    cursor: str | None,
    limit: int,
    format: str,
) -> tuple[list[dict[str, Any]], str | None] | StreamingResponse:
    """Every matching row as CSV (``format=csv``, one watermark for the whole export), or
    a page of them (one more read, to tell whether there is a next page) and its cursor."""
    if format == "csv":
        at = watermark()
        return export_pages(
            lambda after: read(CSV_PAGE, after, at),
            lambda row: (row[time_column], row["id"]),
            columns,
            lambda row: _flat(row, columns),
            name,
        )
    after = read_time_cursor(cursor, time_column) if cursor else None
    rows = await run_in_threadpool(lambda: read(limit + 1, after, watermark()))
    return rows[:limit], _next(rows, limit, time_column)


# -- orders ---------------------------------------------------------------------------------


@router.get(
    "/orders", response_model=OrderPageOut, responses=ANSWERS, dependencies=[READERS, Consistent]
)
async def list_orders(
    orders: OrdersDep,
    watermark: WatermarkDep,
    where: OrderFilterDep,
    sort: Sort = "asc",
    limit: Limit = 50,
    cursor: CursorParam = None,
    format: Format = "json",
) -> Any:
    """Orders (R-ORD) by placement time, filtered (``attribute``: the source's own values,
    e.g. ``order_status:canceled``), a page at a time (``next_cursor``), or every matching
    order as CSV (``format=csv``)."""
    desc = sort == "desc"
    listed = await _listing(
        lambda n, after, at: orders.orders(n, after, where, desc, at),
        watermark,
        columns=ORDER_CSV,
        time_column="placed_at",
        name="orders",
        cursor=cursor,
        limit=limit,
        format=format,
    )
    if isinstance(listed, StreamingResponse):
        return listed
    rows, next_cursor = listed
    return OrderPageOut(
        items=[OrderOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/orders/{order_id}", response_model=OrderOut, responses=ONE, dependencies=[READERS, Consistent]
)
async def get_order(orders: OrdersDep, watermark: WatermarkDep, order_id: str) -> OrderOut:
    """One order's row, its SLA clocks as they stand at the SLA timer's watermark."""
    row = await run_in_threadpool(_one, orders.order, "order", order_id, watermark)
    return OrderOut.model_validate(row)


# -- returns --------------------------------------------------------------------------------


@router.get(
    "/returns", response_model=ReturnPageOut, responses=ANSWERS, dependencies=[READERS, Consistent]
)
async def list_returns(
    orders: OrdersDep,
    watermark: WatermarkDep,
    requested_from: Annotated[
        From | None, Query(description="Requested at or after." + DATE_NOTE)
    ] = None,
    requested_to: Annotated[To | None, Query(description="Requested before." + DATE_NOTE)] = None,
    status: Annotated[
        Literal["requested", "approved", "rejected", "refunded", "exchanged"] | None, Query()
    ] = None,
    customer_id: Text = None,
    order_id: Text = None,
    reason: Annotated[
        Literal["no_reason", "other", "quality", "damaged", "wrong_item"] | None, Query()
    ] = None,
    where: Annotated[Literal["online", "store"] | None, Query()] = None,
    merchant_id: Text = None,
    breached: Breached = None,
    rule: Rule = None,
    sort: Sort = "asc",
    limit: Limit = 50,
    cursor: CursorParam = None,
    format: Format = "json",
) -> Any:
    """Return requests (R-REF) by request time, filtered, a page at a time
    (``next_cursor``), or every matching return as CSV (``format=csv``)."""
    matching = ReturnFilter(
        requested_from,
        requested_to,
        status,
        customer_id,
        order_id,
        reason,
        where,
        merchant_id,
        breached,
        rule,
    )
    desc = sort == "desc"
    listed = await _listing(
        lambda n, after, at: orders.returns(n, after, matching, desc, at),
        watermark,
        columns=RETURN_CSV,
        time_column="requested_at",
        name="returns",
        cursor=cursor,
        limit=limit,
        format=format,
    )
    if isinstance(listed, StreamingResponse):
        return listed
    rows, next_cursor = listed
    return ReturnPageOut(
        items=[ReturnOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/returns/{return_id}",
    response_model=ReturnOut,
    responses=ONE,
    dependencies=[READERS, Consistent],
)
async def get_return(orders: OrdersDep, watermark: WatermarkDep, return_id: str) -> ReturnOut:
    """One return's row, its SLA clocks as they stand at the SLA timer's watermark."""
    row = await run_in_threadpool(_one, orders.return_row, "return", return_id, watermark)
    return ReturnOut.model_validate(row)


def _one(
    read: Callable[[str, datetime | None], dict[str, Any] | None],
    kind: str,
    ref: str,
    watermark: Watermark,
) -> dict[str, Any]:
    row = read(str(aggregate_id(kind, ref)), watermark())
    if row is None:
        raise ApiError(404, "not_found", f"{kind}_id: no {kind} {ref!r} in the read model")
    return row

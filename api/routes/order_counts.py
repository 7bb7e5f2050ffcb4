"""Orders as a query surface: how many orders match, in total and by group, in one call."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.auth import ProtectedRoute, Roles
from api.consistency import Consistent
from api.counts import ANSWERS, CountsOut, GroupBy, answer, counted
from api.deps import OrdersDep
from api.order_params import OrderFilterDep
from api.times import ZoneDep
from projections.orders.counts import DIMENSIONS, OrderCounts

router = APIRouter(prefix="/v1", tags=["analysts"], route_class=ProtectedRoute)
READERS = Roles("analyst", "auditor", "admin")


class OrderCountsOut(CountsOut):
    """Orders: ``total`` counts each once; ``tz`` is the zone of the ``placed_*`` dimensions."""


@router.get(
    "/orders/counts",
    response_model=OrderCountsOut,
    responses=ANSWERS,
    dependencies=[READERS, Consistent],
    description="How many orders match the filter (the same filters as `/v1/orders`), in"
    " total and grouped by up to four dimensions: "
    + ", ".join(f"`{d}`" for d in DIMENSIONS)
    + ". `late`: delivered after the promise in force (`true`/`false`). `breached_rule` and"
    " `attribute.<name>` are many per order: an order counts once per value (and in the"
    " `null` group when it has none). `placed_day`, `placed_month`, `placed_year`: the"
    " placement's local date in `tz`.",
)
async def count_orders(
    orders: OrdersDep,
    zone: ZoneDep,
    where: OrderFilterDep,
    group_by: GroupBy = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    dimensions = group_by or []
    counts = await counted(
        run_in_threadpool(OrderCounts(orders).counts, where, dimensions, zone.tz)
    )
    return answer(counts, dimensions, zone.name, "order-counts" if format == "csv" else None)

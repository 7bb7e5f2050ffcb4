"""Building the orders and returns read model from a real application's notification log
(unit tests; the integration tests drive a runtime instead)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.readstore import ReadStore, Row
from application.service import JourneyApplication
from projections.base import Notified
from projections.orders import OrdersAndReturns

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
S, M, H, D = (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))


def notifications(app: JourneyApplication) -> list[Notified]:
    found = app.process_recorder.select_notifications(start=None, limit=100_000)
    return [(n.id, app.mapper.to_domain_event(n)) for n in found]


def new_projection(store: ReadStore) -> OrdersAndReturns:
    projection = OrdersAndReturns(store)
    projection.create_tables()
    return projection


def snapshot(projection: OrdersAndReturns) -> tuple[list[Row], list[Row], int]:
    """Every stored row of both tables, as stored, and the position."""
    orders = projection.store.query(f"SELECT * FROM {projection.t('order_rows')} ORDER BY id")
    returns = projection.store.query(f"SELECT * FROM {projection.t('return_rows')} ORDER BY id")
    return orders, returns, projection.position()


def placed(
    order_id: str, promised: datetime, amount: str = "100.00", **more: Any
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "items": [{"sku": "KT-1", "quantity": 2, "unit_price": "50.00"}],
        "amount_paid": amount,
        "currency": "CNY",
        "promised_delivery_at": promised.isoformat(),
        **more,
    }


def requested(return_id: str, order_id: str, amount: str = "60.00", **more: Any) -> dict[str, Any]:
    return {
        "return_id": return_id,
        "order_id": order_id,
        "reason": "quality",
        "opened": True,
        "where": "online",
        "amount_requested": amount,
        **more,
    }

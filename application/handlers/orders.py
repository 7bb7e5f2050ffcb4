"""``order.*``: placement, changes and their sync, stock-outs, delays, shipment, delivery,
cancellation (Order)."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import Handler, MayBeNew, UnitOfWork
from contracts.envelope import SourceEvent
from contracts.schemas import orders as o
from domain.errors import NotFound
from domain.order import Order, OrderExists, OrderLine, SpecialRequest
from domain.provenance import SourceRef


def placed(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    """A new order for ``event.customer_id``; a re-delivered placement changes nothing,
    another placement of the same order id is refused."""
    data = event.data
    assert isinstance(data, o.OrderPlaced)
    existing = unit.get(Order, Order.create_id(data.order_id))
    if existing is not None:
        if existing.has_applied(source.event_id):
            return
        raise OrderExists(f"order {data.order_id!r} is already placed")
    unit.add(
        Order.place(
            order_id=data.order_id,
            customer_id=event.customer_id,
            channel=event.envelope.channel,
            items=[OrderLine(i.sku, i.quantity, i.unit_price) for i in data.items],
            amount_paid=data.amount_paid,
            currency=data.currency,
            promised_delivery_at=data.promised_delivery_at,
            store_id=data.store_id,
            special_requests=[SpecialRequest(r.kind, r.note) for r in data.special_requests],
            occurred_at=event.occurred_at,
            source=source,
        )
    )


def _order(unit: UnitOfWork, event: SourceEvent) -> Order:
    order_id: str = getattr(event.data, "order_id")  # noqa: B009 - every order.* has it
    order = unit.require(Order, Order.create_id(order_id), f"order {order_id!r}")
    if order.customer_id != event.customer_id:
        raise NotFound(f"order {order_id!r} belongs to another customer")
    return order


def modified(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, o.OrderModified)
    _order(unit, event).modify(
        modification_id=data.modification_id,
        # A change of address (or another personal field) is sealed like the profile's.
        changes=data.changes
        if isinstance(data.changes, str)
        else unit.personal.seal(event.customer_id, data.changes),
        systems=list(data.systems),
        occurred_at=event.occurred_at,
        source=source,
    )


def synced(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, o.OrderSynced)
    _order(unit, event).sync(
        modification_id=data.modification_id, occurred_at=event.occurred_at, source=source
    )


def special_request(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, o.OrderSpecialRequest)
    _order(unit, event).add_special_request(
        kind=data.kind, note=data.note, occurred_at=event.occurred_at, source=source
    )


def out_of_stock(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, o.OrderOutOfStock)
    _order(unit, event).report_out_of_stock(
        sku=data.sku, occurred_at=event.occurred_at, source=source
    )


def customer_notified(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, o.OrderCustomerNotified)
    _order(unit, event).notify_customer(
        sku=data.sku, options=list(data.options), occurred_at=event.occurred_at, source=source
    )


def delay_announced(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, o.OrderDelayAnnounced)
    _order(unit, event).announce_delay(
        new_promised_delivery_at=data.new_promised_delivery_at,
        reason=data.reason,
        occurred_at=event.occurred_at,
        source=source,
    )


def shipped(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, o.OrderShipped)
    _order(unit, event).ship(
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        occurred_at=event.occurred_at,
        source=source,
    )


def delivered(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    _order(unit, event).deliver(occurred_at=event.occurred_at, source=source)


def cancelled(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, o.OrderCancelled)
    _order(unit, event).cancel(reason=data.reason, occurred_at=event.occurred_at, source=source)


HANDLERS: dict[str, Handler] = {
    "order.placed": placed,
    "order.modified": modified,
    "order.synced": synced,
    "order.special_request": special_request,
    "order.out_of_stock": out_of_stock,
    "order.customer_notified": customer_notified,
    "order.delay_announced": delay_announced,
    "order.shipped": shipped,
    "order.delivered": delivered,
    "order.cancelled": cancelled,
}


def _placed_ids(event: SourceEvent) -> list[UUID]:
    data = event.data
    return [Order.create_id(data.order_id)] if isinstance(data, o.OrderPlaced) else []


MAY_BE_NEW: dict[str, MayBeNew] = {"order.placed": _placed_ids}

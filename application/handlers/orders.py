"""``order.*``: placement, changes and their sync, stock-outs, delays, shipment, delivery,
cancellation (Order)."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import UnitOfWork
from application.handlers.registry import handles
from contracts.envelope import SourceEvent
from contracts.schemas import orders as o
from domain.errors import NotFound
from domain.order import Order, OrderExists, OrderLine, SpecialRequest
from domain.provenance import SourceRef


def _placed_ids(data: o.OrderPlaced, event: SourceEvent) -> list[UUID]:
    return [Order.create_id(data.order_id)]


@handles(o.OrderPlaced, may_be_new=_placed_ids)
def placed(unit: UnitOfWork, event: SourceEvent, data: o.OrderPlaced, source: SourceRef) -> None:
    """A new order for ``event.customer_id``; a re-delivered placement changes nothing,
    another placement of the same order id is refused."""
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


def _order(unit: UnitOfWork, event: SourceEvent, data: o.OrderMixin) -> Order:
    order = unit.require(Order, Order.create_id(data.order_id), f"order {data.order_id!r}")
    if order.customer_id != event.customer_id:
        raise NotFound(f"order {data.order_id!r} belongs to another customer")
    return order


@handles(o.OrderModified)
def modified(
    unit: UnitOfWork, event: SourceEvent, data: o.OrderModified, source: SourceRef
) -> None:
    _order(unit, event, data).modify(
        modification_id=data.modification_id,
        # A change of address (or another personal field) is sealed like the profile's.
        changes=data.changes
        if isinstance(data.changes, str)
        else unit.personal.seal(event.customer_id, data.changes),
        systems=list(data.systems),
        occurred_at=event.occurred_at,
        source=source,
    )


@handles(o.OrderSynced)
def synced(unit: UnitOfWork, event: SourceEvent, data: o.OrderSynced, source: SourceRef) -> None:
    _order(unit, event, data).sync(
        modification_id=data.modification_id, occurred_at=event.occurred_at, source=source
    )


@handles(o.OrderSpecialRequest)
def special_request(
    unit: UnitOfWork, event: SourceEvent, data: o.OrderSpecialRequest, source: SourceRef
) -> None:
    _order(unit, event, data).add_special_request(
        kind=data.kind, note=data.note, occurred_at=event.occurred_at, source=source
    )


@handles(o.OrderOutOfStock)
def out_of_stock(
    unit: UnitOfWork, event: SourceEvent, data: o.OrderOutOfStock, source: SourceRef
) -> None:
    _order(unit, event, data).report_out_of_stock(
        sku=data.sku, occurred_at=event.occurred_at, source=source
    )


@handles(o.OrderCustomerNotified)
def customer_notified(
    unit: UnitOfWork, event: SourceEvent, data: o.OrderCustomerNotified, source: SourceRef
) -> None:
    _order(unit, event, data).notify_customer(
        sku=data.sku, options=list(data.options), occurred_at=event.occurred_at, source=source
    )


@handles(o.OrderDelayAnnounced)
def delay_announced(
    unit: UnitOfWork, event: SourceEvent, data: o.OrderDelayAnnounced, source: SourceRef
) -> None:
    _order(unit, event, data).announce_delay(
        new_promised_delivery_at=data.new_promised_delivery_at,
        reason=data.reason,
        occurred_at=event.occurred_at,
        source=source,
    )


@handles(o.OrderShipped)
def shipped(unit: UnitOfWork, event: SourceEvent, data: o.OrderShipped, source: SourceRef) -> None:
    _order(unit, event, data).ship(
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        occurred_at=event.occurred_at,
        source=source,
    )


@handles(o.OrderDelivered)
def delivered(
    unit: UnitOfWork, event: SourceEvent, data: o.OrderDelivered, source: SourceRef
) -> None:
    order = _order(unit, event, data)
    order.deliver(occurred_at=event.occurred_at, source=source)
    unit.progressed(order.id)  # what waits for the delivery (callbacks, returns) goes on


@handles(o.OrderCancelled)
def cancelled(
    unit: UnitOfWork, event: SourceEvent, data: o.OrderCancelled, source: SourceRef
) -> None:
    order = _order(unit, event, data)
    order.cancel(reason=data.reason, occurred_at=event.occurred_at, source=source)
    unit.progressed(order.id)  # what waits for its delivery is refused now, not later

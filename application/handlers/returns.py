"""``return.*``, ``refund.refunded``, ``merchant.responded``: return requests
(ReturnRequest) and the orders they refund (Order)."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import Handler, MayBeNew, UnitOfWork
from contracts.envelope import SourceEvent
from contracts.schemas import returns as r
from domain.errors import NotFound
from domain.ids import aggregate_id
from domain.order import Order
from domain.provenance import SourceRef
from domain.returns import ReturnExists, ReturnRequest


def _order(unit: UnitOfWork, order_id: str, customer_id: str) -> Order:
    order = unit.require(Order, aggregate_id("order", order_id), f"order {order_id!r}")
    if order.customer_id != customer_id:
        raise NotFound(f"order {order_id!r} belongs to another customer")
    return order


def _request(unit: UnitOfWork, event: SourceEvent) -> ReturnRequest:
    return_id: str = getattr(event.data, "return_id")  # noqa: B009 - every type here has it
    request = unit.require(
        ReturnRequest, ReturnRequest.create_id(return_id), f"return {return_id!r}"
    )
    if request.customer_id != event.customer_id:
        raise NotFound(f"return {return_id!r} belongs to another customer")
    return request


def requested(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    """A return of a delivered order of the same customer, within its window (R-REF-01)."""
    data = event.data
    assert isinstance(data, r.ReturnRequested)
    existing = unit.get(ReturnRequest, ReturnRequest.create_id(data.return_id))
    if existing is not None:
        if existing.has_applied(source.event_id):
            return
        raise ReturnExists(f"return {data.return_id!r} was already requested")
    order = _order(unit, data.order_id, event.customer_id)
    unit.add(
        ReturnRequest.request(
            return_id=data.return_id,
            customer_id=event.customer_id,
            order_id=data.order_id,
            reason=data.reason,
            opened=data.opened,
            where=data.where,
            has_receipt=data.has_receipt,
            amount_requested=data.amount_requested,
            merchant_id=data.merchant_id,
            items=list(data.items),
            delivered_at=order.delivered_at,
            case_ref=data.case_id,
            occurred_at=event.occurred_at,
            source=source,
        )
    )


def approved(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    _request(unit, event).approve(occurred_at=event.occurred_at, source=source)


def rejected(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, r.ReturnRejected)
    _request(unit, event).reject(reason=data.reason, occurred_at=event.occurred_at, source=source)


def inspected(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, r.ReturnInspected)
    _request(unit, event).inspect(result=data.result, occurred_at=event.occurred_at, source=source)


def refunded(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    """R-REF-04: the request and the order both check before either records anything
    (``ReturnRequest.refund`` runs every check, then the order's fact, then its own)."""
    data = event.data
    assert isinstance(data, r.RefundRefunded)
    request = _request(unit, event)
    if request.has_applied(source.event_id):
        return
    order = _order(unit, request.order_id, event.customer_id)
    request.refund(order=order, amount=data.amount, occurred_at=event.occurred_at, source=source)


def exchanged(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, r.ReturnExchanged)
    _request(unit, event).exchange(
        new_sku=data.new_sku, occurred_at=event.occurred_at, source=source
    )


def merchant_responded(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, r.MerchantResponded)
    _request(unit, event).merchant_respond(
        merchant_id=data.merchant_id,
        decision=data.decision,
        note=data.note,
        occurred_at=event.occurred_at,
        source=source,
    )


HANDLERS: dict[str, Handler] = {
    "return.requested": requested,
    "return.approved": approved,
    "return.rejected": rejected,
    "return.inspected": inspected,
    "refund.refunded": refunded,
    "return.exchanged": exchanged,
    "merchant.responded": merchant_responded,
}


def _requested_ids(event: SourceEvent) -> list[UUID]:
    data = event.data
    return [ReturnRequest.create_id(data.return_id)] if isinstance(data, r.ReturnRequested) else []


MAY_BE_NEW: dict[str, MayBeNew] = {"return.requested": _requested_ids}

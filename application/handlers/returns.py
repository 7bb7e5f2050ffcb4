"""``return.*``, ``refund.refunded``, ``merchant.responded``: return requests
(ReturnRequest) and the orders they refund (Order)."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import UnitOfWork, awaiting_delivery
from application.handlers.registry import handles
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


def _request(unit: UnitOfWork, event: SourceEvent, data: r.ReturnMixin) -> ReturnRequest:
    return_id = data.return_id
    request = unit.require(
        ReturnRequest, ReturnRequest.create_id(return_id), f"return {return_id!r}"
    )
    if request.customer_id != event.customer_id:
        raise NotFound(f"return {return_id!r} belongs to another customer")
    return request


def _requested_ids(data: r.ReturnRequested, event: SourceEvent) -> list[UUID]:
    return [ReturnRequest.create_id(data.return_id)]


@handles(r.ReturnRequested, may_be_new=_requested_ids)
def requested(
    unit: UnitOfWork, event: SourceEvent, data: r.ReturnRequested, source: SourceRef
) -> None:
    """A return of a delivered order of the same customer, within its window (R-REF-01)."""
    existing = unit.get(ReturnRequest, ReturnRequest.create_id(data.return_id))
    if existing is not None:
        if existing.has_applied(source.event_id):
            return
        raise ReturnExists(f"return {data.return_id!r} was already requested")
    order = _order(unit, data.order_id, event.customer_id)
    awaiting_delivery(order)
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


@handles(r.ReturnApproved)
def approved(
    unit: UnitOfWork, event: SourceEvent, data: r.ReturnApproved, source: SourceRef
) -> None:
    _request(unit, event, data).approve(occurred_at=event.occurred_at, source=source)


@handles(r.ReturnRejected)
def rejected(
    unit: UnitOfWork, event: SourceEvent, data: r.ReturnRejected, source: SourceRef
) -> None:
    _request(unit, event, data).reject(
        reason=data.reason, occurred_at=event.occurred_at, source=source
    )


@handles(r.ReturnInspected)
def inspected(
    unit: UnitOfWork, event: SourceEvent, data: r.ReturnInspected, source: SourceRef
) -> None:
    _request(unit, event, data).inspect(
        result=data.result, occurred_at=event.occurred_at, source=source
    )


@handles(r.RefundRefunded)
def refunded(
    unit: UnitOfWork, event: SourceEvent, data: r.RefundRefunded, source: SourceRef
) -> None:
    """R-REF-04: the request and the order both check before either records anything
    (``ReturnRequest.refund`` runs every check, then the order's fact, then its own)."""
    request = _request(unit, event, data)
    if request.has_applied(source.event_id):
        return
    order = _order(unit, request.order_id, event.customer_id)
    request.refund(order=order, amount=data.amount, occurred_at=event.occurred_at, source=source)


@handles(r.ReturnExchanged)
def exchanged(
    unit: UnitOfWork, event: SourceEvent, data: r.ReturnExchanged, source: SourceRef
) -> None:
    _request(unit, event, data).exchange(
        new_sku=data.new_sku, occurred_at=event.occurred_at, source=source
    )


@handles(r.MerchantResponded)
def merchant_responded(
    unit: UnitOfWork, event: SourceEvent, data: r.MerchantResponded, source: SourceRef
) -> None:
    _request(unit, event, data).merchant_respond(
        merchant_id=data.merchant_id,
        decision=data.decision,
        note=data.note,
        occurred_at=event.occurred_at,
        source=source,
    )

"""What each domain event of a return request changes in the orders and returns read model
(R-REF): the return's own row, and its order's list of returns. Registered in
``rows.HANDLES`` beside the orders' changes and the clocks'; the projection takes the table
from here, once every change is in it."""

from __future__ import annotations

from typing import Any

from domain.returns import ReturnRequest
from projections.orders.rows import HANDLES, RowChange, Target, add_refund, on, order_of, own
from projections.orders.tables import ORDERS, RETURNS
from projections.sla_rows import utc

__all__ = ["HANDLES"]


def return_requested(row: dict[str, Any], event: ReturnRequest.Requested) -> None:
    row.update(
        {
            "id": str(event.originator_id),
            "return_id": event.return_id,
            "order_id": event.order_id,
            "customer_id": event.customer_id,
            "status": "requested",
            "reason": event.reason,
            "requested_in": event.where,
            "merchant_id": event.merchant_id,
            "requested_at": utc(event.occurred_at),
            "breaches": 0,
            "breached_rules": "",
            "last_notification_id": 0,
            # the document
            "version": event.originator_version,
            "requested_by_event_id": event.source.event_id,
            "where": event.where,
            "opened": event.opened,
            "has_receipt": event.has_receipt,
            "amount_requested": str(event.amount_requested),
            "items": list(event.items),
            "delivered_at": utc(event.delivered_at),
            "requested_after_delivery_s": (event.occurred_at - event.delivered_at).total_seconds(),
            "case_ref": event.case_ref,
            "decided_at": None,
            "inspection_result": None,
            "inspected_at": None,
            "refunds": [],
            "refunded_total": "0",
            "exchanged_for": None,
            "completed_at": None,
            "merchant_decision": None,
            "merchant_responded_at": None,
            "merchant_refused_valid_return": False,
            "sla": {},
            "breach_list": [],
            "policy_version": event.policy_version,
        }
    )


def order_return_requested(row: dict[str, Any], event: ReturnRequest.Requested) -> None:
    """The order's row lists its returns."""
    if event.return_id not in row["returns"]:
        row["returns"].append(event.return_id)


HANDLES.add(
    ReturnRequest.Requested,
    (
        Target(RETURNS, own, return_requested, creates=True),
        Target(ORDERS, order_of, order_return_requested),
    ),
)


def _decision(status: str) -> RowChange:
    def decide(row: dict[str, Any], event: Any) -> None:
        row.update(status=status, decided_at=utc(event.occurred_at))

    return decide


on(RETURNS, ReturnRequest.Approved)(_decision("approved"))
on(RETURNS, ReturnRequest.Rejected)(_decision("rejected"))


@on(RETURNS, ReturnRequest.Inspected)
def inspected(row: dict[str, Any], event: ReturnRequest.Inspected) -> None:
    row.update(inspection_result=event.result, inspected_at=utc(event.occurred_at))


@on(RETURNS, ReturnRequest.Refunded)
def return_refunded(row: dict[str, Any], event: ReturnRequest.Refunded) -> None:
    add_refund(row, event)
    row["status"] = "refunded"
    row["completed_at"] = row["completed_at"] or utc(event.occurred_at)


@on(RETURNS, ReturnRequest.Exchanged)
def exchanged(row: dict[str, Any], event: ReturnRequest.Exchanged) -> None:
    row.update(status="exchanged", exchanged_for=event.new_sku)
    row["completed_at"] = row["completed_at"] or utc(event.occurred_at)


@on(RETURNS, ReturnRequest.MerchantResponded)
def merchant_responded(row: dict[str, Any], event: ReturnRequest.MerchantResponded) -> None:
    row.update(merchant_decision=event.decision, merchant_responded_at=utc(event.occurred_at))


@on(RETURNS, ReturnRequest.MerchantRefusedValidReturn)
def merchant_refused(row: dict[str, Any], event: ReturnRequest.MerchantRefusedValidReturn) -> None:
    """R-REF-05: the merchant rejected a return that qualified for the 7-day return."""
    row["merchant_refused_valid_return"] = True

"""Returns and refunds: ``return.*``, ``refund.refunded`` and marketplace merchants'
``merchant.responded``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contracts.schemas.base import Data, Flag, Id, Money, Text

ReturnReason = Literal["no_reason", "quality", "damaged", "wrong_item", "other"]  # R-REF-01


class ReturnMixin(Data):
    return_id: Id


class ReturnRequested(ReturnMixin, event_type="return.requested", family="returns"):
    """A customer asks to return goods of a delivered order (R-REF-01: unopened goods
    within 7 days of delivery, quality problems within 30 days). Online requests are
    reviewed within 24 h (R-REF-02), in-store requests with a receipt handled within
    10 min (R-REF-03), a marketplace merchant's within 48 h (R-REF-05)."""

    order_id: Id
    reason: ReturnReason
    opened: Flag = Field(description="Whether the goods were opened (R-REF-01).")
    where: Literal["online", "store"]
    has_receipt: Flag = Field(default=False, description="In store: a receipt (R-REF-03).")
    amount_requested: Money
    merchant_id: Id | None = Field(
        default=None, description="The marketplace merchant who must answer (R-REF-05)."
    )
    items: list[Id] = Field(default_factory=list, max_length=200, description="SKUs returned.")
    case_id: Id | None = Field(
        default=None,
        description="The complaint case this return settles (its refunds show"
        " in the case's ledger row).",
    )

    example = {
        "return_id": "rt-3001",
        "order_id": "o-2001",
        "reason": "no_reason",
        "opened": False,
        "where": "online",
        "amount_requested": "199.00",
        "items": ["KT-2209-WHT"],
    }


class ReturnApproved(ReturnMixin, event_type="return.approved", family="returns"):
    """The request is approved, once (R-REF-02); the refund or exchange completes within
    3 days."""

    example = {"return_id": "rt-3001"}
    example_channel = "web"


class ReturnRejected(ReturnMixin, event_type="return.rejected", family="returns"):
    """The request is rejected, once, with the reason (R-REF-02)."""

    reason: Text
    example = {"return_id": "rt-3001", "reason": "seal broken on arrival at the warehouse"}
    example_channel = "web"


class ReturnInspected(ReturnMixin, event_type="return.inspected", family="returns"):
    """The returned goods were inspected (R-REF-03)."""

    result: Literal["as_described", "damaged_by_customer", "not_received"]
    example = {"return_id": "rt-3001", "result": "as_described"}
    example_channel = "store"


class RefundRefunded(ReturnMixin, event_type="refund.refunded", family="returns"):
    """Money paid back for an approved request, possibly in parts; never more than paid
    for the order minus already refunded, nor than the amount requested (R-REF-04)."""

    amount: Money
    example = {"return_id": "rt-3001", "amount": "199.00"}
    example_channel = "web"


class ReturnExchanged(ReturnMixin, event_type="return.exchanged", family="returns"):
    """The approved return completed by an exchange (R-REF-02)."""

    new_sku: Id
    example = {"return_id": "rt-3001", "new_sku": "KT-2209-BLK"}
    example_channel = "web"


class MerchantResponded(ReturnMixin, event_type="merchant.responded", family="returns"):
    """A marketplace merchant's answer to an after-sales request, due within 48 h
    (R-REF-05); rejecting a valid 7-day return flags the merchant."""

    merchant_id: Id
    decision: Literal["accept", "reject"]
    note: Text | None = Field(
        default=None,
        description="The merchant's words to the customer; not a note about the customer, so"
        " R-CUS-03 does not judge it.",
    )
    example = {
        "return_id": "rt-3001",
        "merchant_id": "tmall-shop-88",
        "decision": "accept",
        "note": "send it back with the prepaid label",
    }
    example_channel = "marketplace"

"""Response bodies of the orders and returns routes (R-ORD, R-REF): one order, one return,
and pages of them. Times are UTC, RFC 3339; money is a decimal string."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ClockOut(BaseModel):
    """One SLA clock of an order or a return, by its key (``R-ORD-04:2``)."""

    rule: str
    started_at: str | None = None
    due_at: str | None = None
    target_s: float | None = None
    outcome: str
    """open, overdue (past due at the SLA timer's watermark, not breached yet), met,
    breached, late (settled after its target by a fact that arrived late), cancelled"""
    actual_s: float | None = None
    decided_at: str | None = None
    """When the deciding fact happened (none for a breach by the watermark)."""
    detected_by: str | None = None
    """What decided it: ``fact`` (the fact that stopped or cancelled it) or
    ``watermark`` (the SLA timer, no fact before the due time); none while open."""


class ClockBreachOut(BaseModel):
    rule: str
    key: str
    due_at: str
    target_s: float
    actual_s: float | None
    detected_by: str


class OrderItemOut(BaseModel):
    sku: str
    quantity: int
    unit_price: str


class DelayOut(BaseModel):
    """An announced delay (R-ORD-04): in time when on or before the promise it replaces."""

    at: str
    previous_promised_delivery_at: str
    new_promised_delivery_at: str
    reason: str
    announced_in_time: bool


class ModificationOut(BaseModel):
    """A modification (R-ORD-01): which, when, to which systems — not what changed."""

    modification_id: str
    at: str
    systems: list[str]
    synced_at: str | None


class StockOutOut(BaseModel):
    sku: str
    at: str
    notified_at: str | None
    options: list[str]


class RefundOut(BaseModel):
    at: str
    amount: str
    event_id: str
    return_id: str | None = None


class OrderOut(BaseModel):
    """One order (R-ORD): status, promised and actual times, clocks, refunds."""

    id: str
    order_id: str
    customer_id: str
    channel: str
    store_id: str | None
    status: str
    """placed, shipped, delivered or cancelled"""
    placed_at: str
    items: list[OrderItemOut]
    amount_paid: str
    currency: str
    first_promised_delivery_at: str
    promised_delivery_at: str
    """The promise in force: the last announced delay's date, else the first."""
    delays: list[DelayOut]
    delayed_by_s: float
    """How far the announced delays moved the promise."""
    shipped_at: str | None
    carrier: str | None
    delivered_at: str | None
    delivered_late: bool
    """Delivered after the promise in force."""
    late_by_s: float | None
    """How late the delivery was (0 on time; none until delivered)."""
    cancelled_at: str | None
    special_requests: list[str]
    """The kinds of the special requests (R-ORD-03)."""
    modifications: list[ModificationOut]
    stock_outs: list[StockOutOut]
    refunds: list[RefundOut]
    refunded_total: str
    refundable: str
    """What may still be refunded: paid minus refunded (R-REF-04)."""
    returns: list[str]
    """The return ids requested against the order."""
    sla: dict[str, ClockOut]
    breaches: int
    breached_rules: list[str]
    overdue: int = 0
    """Clocks overdue at the SLA timer's watermark: past due, not breached yet."""
    breach_list: list[ClockBreachOut]
    policy_version: str
    version: int
    attributes: dict[str, str] = Field(default_factory=dict)
    """The source's own values of the order (e.g. Olist's ``order_status``), the latest of
    each (docs/events.md, "Source attributes")."""


class OrderPageOut(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class ReturnOut(BaseModel):
    """One return request (R-REF): status, decision, refunds or exchange, clocks."""

    id: str
    return_id: str
    order_id: str
    customer_id: str
    status: str
    """requested, approved, rejected, refunded or exchanged"""
    reason: str
    where: str
    opened: bool
    has_receipt: bool
    merchant_id: str | None
    items: list[str]
    amount_requested: str
    delivered_at: str
    requested_at: str
    requested_after_delivery_s: float
    case_ref: str | None
    decided_at: str | None
    inspection_result: str | None
    inspected_at: str | None
    refunds: list[RefundOut]
    refunded_total: str
    exchanged_for: str | None
    completed_at: str | None
    merchant_decision: str | None
    merchant_responded_at: str | None
    merchant_refused_valid_return: bool
    """R-REF-05: the merchant rejected a return that qualified for the 7-day return."""
    sla: dict[str, ClockOut]
    breaches: int
    breached_rules: list[str]
    overdue: int = 0
    breach_list: list[ClockBreachOut]
    policy_version: str
    version: int


class ReturnPageOut(BaseModel):
    items: list[ReturnOut]
    next_cursor: str | None

"""The order: what the customer bought, what was promised, and what was paid and refunded.

Owns the order rules (R-ORD-01..04) and the money side of refunds (R-REF-04): the order
knows what was paid and what was already refunded, so no refund can exceed the rest.

Clocks (keys are unique per order):

- ``R-ORD-01:<modification_id>`` — a modification reaches every system within
  ``policy.order_sync``.
- ``R-ORD-02:<sku>:<n>`` — the customer hears of the n-th stock-out of ``sku`` within
  ``policy.out_of_stock_notice``.
- ``R-ORD-04:<n>`` — the n-th promised delivery date: met by a delivery or a delay
  announcement on or before it; the first starts at placement, each announced delay stops
  the current one and starts the next, due at the new date.

Event fields stay JSON-friendly: order lines are ``skus`` (in order) with ``quantities``
and ``unit_prices`` keyed by sku as decimal strings; a special request is one text,
``"<kind>"`` or ``"<kind>: <note>"`` (:meth:`SpecialRequest.text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import Fact, JourneyAggregate, command
from domain.clocks import Cancel, ClockCommand, Start, Stop
from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.policy import Policy, policy_in_force
from domain.provenance import SourceRef

SPECIAL_REQUEST_KINDS = frozenset({"delayed_shipping", "gift_wrap", "other"})  # R-ORD-03
STOCK_OUT_OPTIONS = frozenset({"store_transfer", "similar_product", "restock_reminder"})
"""The three options a customer is offered when an item is out of stock (R-ORD-02)."""
DELAY_REASONS = frozenset({"weather", "force_majeure", "other"})  # R-ORD-04
_CURRENCY = re.compile(r"[A-Z]{3}")


class OrderRuleViolated(DomainError):
    pass


class OrderExists(DomainError):
    """A second placement of an order id already placed (by another source event)."""


class RefundExceedsPaid(DomainError):
    """A refund larger than what was paid minus what was already refunded (R-REF-04)."""


@dataclass(frozen=True)
class OrderLine:
    """One line of a placement command (not an event field)."""

    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class SpecialRequest:
    """A special request of a command (R-ORD-03); events carry its :attr:`text`."""

    kind: str
    note: str | None = None

    @property
    def text(self) -> str:
        return self.kind if self.note is None else f"{self.kind}: {self.note}"


def _check_special_requests(requests: Sequence[SpecialRequest]) -> None:
    for request in requests:
        if request.kind not in SPECIAL_REQUEST_KINDS:
            raise OrderRuleViolated(
                f"unknown special request {request.kind!r}; known: {sorted(SPECIAL_REQUEST_KINDS)}",
                "R-ORD-03",
            )


class Order(JourneyAggregate):
    started_by = "the order's placement"

    class Placed(Aggregate.Created):
        order_id: str
        customer_id: str
        channel: str
        store_id: str | None
        skus: list[str]
        quantities: dict[str, str]
        unit_prices: dict[str, str]
        amount_paid: Decimal
        currency: str
        promised_delivery_at: datetime
        special_requests: list[str]
        policy_version: str
        occurred_at: datetime
        source: SourceRef

    class Modified(Fact["Order"]):
        modification_id: str
        changes: dict[str, str]
        description: str | None
        systems: list[str]

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.modified_at[self.modification_id] = self.occurred_at

    class Synced(Fact["Order"]):
        modification_id: str

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.synced_at[self.modification_id] = self.occurred_at

    class SpecialRequestAdded(Fact["Order"]):
        request: str

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.special_requests.append(self.request)

    class OutOfStock(Fact["Order"]):
        sku: str

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.stock_outs[self.sku] = aggregate.stock_outs.get(self.sku, 0) + 1
            aggregate.awaiting_notice[self.sku] = self.occurred_at

    class CustomerNotified(Fact["Order"]):
        sku: str
        options: list[str]
        store_transfer_days: int

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.awaiting_notice.pop(self.sku, None)
            aggregate.notices += 1

    class DelayAnnounced(Fact["Order"]):
        previous_promised_delivery_at: datetime
        new_promised_delivery_at: datetime
        reason: str

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.promised_delivery_at = self.new_promised_delivery_at
            aggregate.promise_round += 1

    class Shipped(Fact["Order"]):
        carrier: str | None
        tracking_number: str | None
        special_requests: list[str]
        """Every special request on the order, carried to fulfilment (R-ORD-03)."""

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.status = "shipped"
            aggregate.shipped_at = self.occurred_at
            aggregate.carrier = self.carrier
            aggregate.tracking_number = self.tracking_number

    class Delivered(Fact["Order"]):
        def apply_fact(self, aggregate: Order) -> None:
            aggregate.status = "delivered"
            aggregate.delivered_at = self.occurred_at

    class Cancelled(Fact["Order"]):
        reason: str

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.status = "cancelled"
            aggregate.cancelled_at = self.occurred_at
            aggregate.cancel_reason = self.reason

    class RefundRecorded(Fact["Order"]):
        return_id: str
        amount: Decimal

        def apply_fact(self, aggregate: Order) -> None:
            aggregate.refunded_total += self.amount
            aggregate.refunds[self.return_id] = (
                aggregate.refunds.get(self.return_id, Decimal(0)) + self.amount
            )

    @staticmethod
    def create_id(order_id: str) -> UUID:
        return aggregate_id("order", order_id)

    @event(Placed)
    def __init__(
        self,
        *,
        order_id: str,
        customer_id: str,
        channel: str,
        store_id: str | None,
        skus: list[str],
        quantities: dict[str, str],
        unit_prices: dict[str, str],
        amount_paid: Decimal,
        currency: str,
        promised_delivery_at: datetime,
        special_requests: list[str],
        policy_version: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        self._begin(policy_version, occurred_at, source)
        self.order_id = order_id
        self.customer_id = customer_id
        self.channel = channel
        self.store_id = store_id
        self.skus: list[str] = list(skus)
        self.quantities: dict[str, int] = {sku: int(q) for sku, q in quantities.items()}
        self.unit_prices: dict[str, Decimal] = {
            sku: Decimal(price) for sku, price in unit_prices.items()
        }
        self.amount_paid = amount_paid
        self.currency = currency
        self.placed_at = occurred_at
        self.promised_delivery_at = promised_delivery_at
        self.promise_round = 1
        self.special_requests: list[str] = list(special_requests)
        self.status = "placed"
        self.modified_at: dict[str, datetime] = {}
        self.synced_at: dict[str, datetime] = {}
        self.stock_outs: dict[str, int] = {}
        self.awaiting_notice: dict[str, datetime] = {}
        self.notices = 0
        self.shipped_at: datetime | None = None
        self.carrier: str | None = None
        self.tracking_number: str | None = None
        self.delivered_at: datetime | None = None
        """When the order was delivered; returns and callbacks count from it."""
        self.cancelled_at: datetime | None = None
        self.cancel_reason: str | None = None
        self.refunded_total = Decimal(0)
        self.refunds: dict[str, Decimal] = {}

    @classmethod
    def place(
        cls,
        *,
        order_id: str,
        customer_id: str,
        channel: str,
        items: Sequence[OrderLine],
        amount_paid: Decimal,
        currency: str,
        promised_delivery_at: datetime,
        store_id: str | None = None,
        special_requests: Sequence[SpecialRequest] = (),
        occurred_at: datetime,
        source: SourceRef,
    ) -> Order:
        """A new order; its promised delivery date starts the R-ORD-04 clock."""
        if not items:
            raise OrderRuleViolated(f"order {order_id!r} has no items")
        skus = [line.sku for line in items]
        if len(set(skus)) != len(skus):
            raise OrderRuleViolated(f"order {order_id!r} lists a sku twice: {skus}")
        for line in items:
            if line.quantity < 1:
                raise OrderRuleViolated(f"sku {line.sku!r}: quantity {line.quantity} is below 1")
            if not line.unit_price.is_finite() or line.unit_price < 0:
                raise OrderRuleViolated(f"sku {line.sku!r}: unit price {line.unit_price}")
        if not amount_paid.is_finite() or amount_paid < 0:
            raise OrderRuleViolated(f"amount paid {amount_paid} is not a sum of money")
        if not _CURRENCY.fullmatch(currency):
            raise OrderRuleViolated(f"currency {currency!r} is not three capital letters")
        if promised_delivery_at <= occurred_at:
            raise OrderRuleViolated(
                f"promised delivery {promised_delivery_at.isoformat()} is not after the"
                f" placement ({occurred_at.isoformat()})",
                "R-ORD-04",
            )
        _check_special_requests(special_requests)
        order = cls(
            order_id=order_id,
            customer_id=customer_id,
            channel=channel,
            store_id=store_id,
            skus=skus,
            quantities={line.sku: str(line.quantity) for line in items},
            unit_prices={line.sku: str(line.unit_price) for line in items},
            amount_paid=amount_paid,
            currency=currency,
            promised_delivery_at=promised_delivery_at,
            special_requests=[request.text for request in special_requests],
            policy_version=policy_in_force(occurred_at).version,
            occurred_at=occurred_at,
            source=source,
        )
        order._run_clocks(order.pending_events[-1])
        return order

    # -- commands ---------------------------------------------------------------------------

    def _refuse_unless(self, statuses: Iterable[str], what: str, rule: str | None) -> None:
        if self.status not in statuses:
            raise OrderRuleViolated(
                f"order {self.order_id!r} is {self.status}; cannot {what}", rule
            )

    @command
    def modify(
        self,
        *,
        modification_id: str,
        changes: dict[str, str] | str,
        systems: list[str],
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """A change to the order, to be synchronised to ``systems`` within
        ``policy.order_sync`` (R-ORD-01). Refused once shipped or cancelled."""
        self._refuse_unless(("placed",), "modify it", "R-ORD-01")
        if modification_id in self.modified_at:
            raise OrderRuleViolated(
                f"modification {modification_id!r} of order {self.order_id!r} is already recorded",
                "R-ORD-01",
            )
        if not systems or len(set(systems)) != len(systems):
            raise OrderRuleViolated(
                "a modification names the distinct systems it must reach", "R-ORD-01"
            )
        if not changes:
            raise OrderRuleViolated("a modification changes something", "R-ORD-01")
        self._record(
            self.Modified,
            modification_id=modification_id,
            changes=dict(changes) if isinstance(changes, dict) else {},
            description=changes if isinstance(changes, str) else None,
            systems=list(systems),
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def sync(self, *, modification_id: str, occurred_at: datetime, source: SourceRef) -> None:
        """The modification reached every system; stops its clock (R-ORD-01). A second
        confirmation of the same modification changes nothing."""
        modified_at = self.modified_at.get(modification_id)
        if modified_at is None:
            raise OrderRuleViolated(
                f"order {self.order_id!r} has no modification {modification_id!r}", "R-ORD-01"
            )
        self.require_in_order(occurred_at, modified_at, f"modification {modification_id!r}")
        if modification_id in self.synced_at:
            return
        self._record(
            self.Synced, modification_id=modification_id, occurred_at=occurred_at, source=source
        )

    @command
    def add_special_request(
        self, *, kind: str, note: str | None, occurred_at: datetime, source: SourceRef
    ) -> None:
        """A special request is carried on the order to fulfilment (R-ORD-03), so it is
        refused once the order has shipped (or was cancelled)."""
        self._refuse_unless(("placed",), "take a special request", "R-ORD-03")
        request = SpecialRequest(kind, note)
        _check_special_requests([request])
        self._record(
            self.SpecialRequestAdded, request=request.text, occurred_at=occurred_at, source=source
        )

    @command
    def report_out_of_stock(self, *, sku: str, occurred_at: datetime, source: SourceRef) -> None:
        """An item of the order is out of stock: the customer must be told within
        ``policy.out_of_stock_notice`` (R-ORD-02). A repeat while the customer has not yet
        been told changes nothing."""
        self._refuse_unless(("placed",), "report a stock-out", "R-ORD-02")
        if sku not in self.quantities:
            raise OrderRuleViolated(f"sku {sku!r} is not on order {self.order_id!r}", "R-ORD-02")
        if sku in self.awaiting_notice:
            self._acknowledge("order.out_of_stock", occurred_at, source)
            return
        self._record(self.OutOfStock, sku=sku, occurred_at=occurred_at, source=source)

    @command
    def notify_customer(
        self, *, sku: str, options: list[str], occurred_at: datetime, source: SourceRef
    ) -> None:
        """The customer is told of the stock-out with exactly the three options of R-ORD-02:
        a transfer from another store (about ``policy.store_transfer_days`` days, recorded
        on the fact), a similar product, or a restock reminder."""
        self._refuse_unless(("placed", "shipped"), "notify a stock-out", "R-ORD-02")
        if len(options) != len(STOCK_OUT_OPTIONS) or set(options) != STOCK_OUT_OPTIONS:
            raise OrderRuleViolated(
                f"options {options} offered; a stock-out notice offers exactly"
                f" {sorted(STOCK_OUT_OPTIONS)}",
                "R-ORD-02",
            )
        reported_at = self.awaiting_notice.get(sku)
        if reported_at is None:
            raise OrderRuleViolated(
                f"order {self.order_id!r} has no stock-out of {sku!r} awaiting notice", "R-ORD-02"
            )
        self.require_in_order(occurred_at, reported_at, f"the stock-out of {sku!r}")
        self._record(
            self.CustomerNotified,
            sku=sku,
            options=list(options),
            store_transfer_days=self.policy.store_transfer_days,
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def announce_delay(
        self,
        *,
        new_promised_delivery_at: datetime,
        reason: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """An expected delay is announced to the customer (R-ORD-04): in time when on or
        before the current promised date, breached after it; the new date, later than the
        old, starts the next clock."""
        self._refuse_unless(("placed", "shipped"), "announce a delay", "R-ORD-04")
        if reason not in DELAY_REASONS:
            raise OrderRuleViolated(f"unknown delay reason {reason!r}", "R-ORD-04")
        if new_promised_delivery_at <= self.promised_delivery_at:
            raise OrderRuleViolated(
                f"new promised date {new_promised_delivery_at.isoformat()} is not later than"
                f" {self.promised_delivery_at.isoformat()}",
                "R-ORD-04",
            )
        if new_promised_delivery_at <= occurred_at:
            raise OrderRuleViolated(
                f"new promised date {new_promised_delivery_at.isoformat()} is not after the"
                " announcement",
                "R-ORD-04",
            )
        self._record(
            self.DelayAnnounced,
            previous_promised_delivery_at=self.promised_delivery_at,
            new_promised_delivery_at=new_promised_delivery_at,
            reason=reason,
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def ship(
        self,
        *,
        carrier: str | None,
        tracking_number: str | None,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """The order leaves for fulfilment carrying every special request (R-ORD-03).
        Refused when cancelled or already shipped."""
        self._refuse_unless(("placed",), "ship it", None)
        self._record(
            self.Shipped,
            carrier=carrier,
            tracking_number=tracking_number,
            special_requests=list(self.special_requests),
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def deliver(self, *, occurred_at: datetime, source: SourceRef) -> None:
        """Delivered: stops the promised-date clock (R-ORD-04) and records
        :attr:`delivered_at`. Refused before the order has shipped (an order is delivered
        only after it was shipped) and when cancelled or already delivered."""
        self._refuse_unless(("shipped",), "deliver it (an order is shipped first)", None)
        if self.shipped_at is not None:
            self.require_in_order(occurred_at, self.shipped_at, "the shipment")
        self._record(self.Delivered, occurred_at=occurred_at, source=source)

    @command
    def cancel(self, *, reason: str, occurred_at: datetime, source: SourceRef) -> None:
        """Cancelled: open clocks are called off; a deadline already passed stays a
        breach. Refused after delivery (a delivered order is returned, not cancelled)."""
        self._refuse_unless(("placed", "shipped"), "cancel it", None)
        self._record(self.Cancelled, reason=reason, occurred_at=occurred_at, source=source)

    # -- refunds (R-REF-04) -----------------------------------------------------------------

    def refundable(self) -> Decimal:
        """What may still be refunded: the amount paid minus refunds so far (R-REF-04)."""
        return self.amount_paid - self.refunded_total

    def check_refund(self, amount: Decimal, *, source: SourceRef | None = None) -> None:
        """Refuse a refund that would exceed :meth:`refundable` (R-REF-04) without recording
        anything, so a handler can check before any aggregate acts. With ``source`` of an
        event this order already applied, nothing is checked (it will be a no-op)."""
        if source is not None and self.has_applied(source.event_id):
            return
        if not amount.is_finite() or amount <= 0:
            raise OrderRuleViolated(f"refund amount {amount} is not positive", "R-REF-04")
        refundable = self.refundable()
        if amount > refundable:
            raise RefundExceedsPaid(
                f"refund {amount} {self.currency} on order {self.order_id!r} exceeds what is"
                f" refundable: paid {self.amount_paid} minus refunded {self.refunded_total}"
                f" = {refundable}",
                "R-REF-04",
            )

    @command
    def record_refund(
        self, *, return_id: str, amount: Decimal, occurred_at: datetime, source: SourceRef
    ) -> None:
        """A refund against the order, within what was paid minus what was already
        refunded (R-REF-04)."""
        self.check_refund(amount)
        self._record(
            self.RefundRecorded,
            return_id=return_id,
            amount=amount,
            occurred_at=occurred_at,
            source=source,
        )

    # -- SLA clocks -------------------------------------------------------------------------

    def clock_rules(self, fact: Any, policy: Policy) -> Iterable[ClockCommand]:
        at = fact.occurred_at
        promise = f"R-ORD-04:{self.promise_round}"
        if isinstance(fact, Order.Placed):
            yield Start("R-ORD-04", promise, at, fact.promised_delivery_at - at)
        elif isinstance(fact, Order.Modified):
            yield Start("R-ORD-01", f"R-ORD-01:{fact.modification_id}", at, policy.order_sync)
        elif isinstance(fact, Order.Synced):
            yield Stop(f"R-ORD-01:{fact.modification_id}", at)
        elif isinstance(fact, Order.OutOfStock):
            key = f"R-ORD-02:{fact.sku}:{self.stock_outs[fact.sku]}"
            yield Start("R-ORD-02", key, at, policy.out_of_stock_notice)
        elif isinstance(fact, Order.CustomerNotified):
            yield Stop(f"R-ORD-02:{fact.sku}:{self.stock_outs[fact.sku]}", at)
        elif isinstance(fact, Order.DelayAnnounced):
            yield Stop(f"R-ORD-04:{self.promise_round - 1}", at)
            yield Start("R-ORD-04", promise, at, fact.new_promised_delivery_at - at)
        elif isinstance(fact, Order.Delivered):
            yield Stop(promise, at)
        elif isinstance(fact, Order.Cancelled):
            reason = f"order cancelled: {fact.reason}"
            yield Cancel(promise, at, reason)
            for modification_id in sorted(set(self.modified_at) - set(self.synced_at)):
                yield Cancel(f"R-ORD-01:{modification_id}", at, reason)
            for sku in sorted(self.awaiting_notice):
                yield Cancel(f"R-ORD-02:{sku}:{self.stock_outs[sku]}", at, reason)

    def state(self) -> dict[str, Any]:
        """The order's facts as plain values (for auditors and tests)."""
        return {
            "id": str(self.id),
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "store_id": self.store_id,
            "status": self.status,
            "items": [
                {
                    "sku": sku,
                    "quantity": self.quantities[sku],
                    "unit_price": str(self.unit_prices[sku]),
                }
                for sku in self.skus
            ],
            "amount_paid": str(self.amount_paid),
            "refunded_total": str(self.refunded_total),
            "currency": self.currency,
            "placed_at": self.placed_at.isoformat(),
            "promised_delivery_at": self.promised_delivery_at.isoformat(),
            "special_requests": list(self.special_requests),
            "modifications": sorted(self.modified_at),
            "synced": sorted(self.synced_at),
            "awaiting_notice": sorted(self.awaiting_notice),
            "shipped_at": self.shipped_at.isoformat() if self.shipped_at else None,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
            "policy_version": self.policy_version,
            "outcomes": {k: (o.rule, o.met, o.actual) for k, o in sorted(self.outcomes().items())},
        }

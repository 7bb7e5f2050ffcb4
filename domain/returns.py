"""A return request: goods a customer sends back, and the refund or exchange it leads to.

Owns the return windows (R-REF-01), the online review and completion clocks (R-REF-02),
the in-store inspection clock (R-REF-03), the refund limits on the request's side
(R-REF-04; the order keeps what was paid and refunded) and the marketplace merchant's
response (R-REF-05).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import Fact, JourneyAggregate, command
from domain.clocks import ClockCommand, Start, Stop
from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.policy import Policy, policy_in_force
from domain.provenance import SourceRef

SEVEN_DAY_REASONS = frozenset({"no_reason", "other"})
"""R-REF-01: returns for the customer's own reasons: unopened, within the 7-day window."""
QUALITY_REASONS = frozenset({"quality", "damaged", "wrong_item"})
"""R-REF-01: the goods are at fault: within the 30-day quality window, opened or not."""
REASONS = SEVEN_DAY_REASONS | QUALITY_REASONS
WHERE = frozenset({"online", "store"})
INSPECTION_RESULTS = frozenset({"as_described", "damaged_by_customer", "not_received"})
MERCHANT_DECISIONS = frozenset({"accept", "reject"})

REVIEW = "R-REF-02:review"
COMPLETION = "R-REF-02:completion"
STORE_HANDLING = "R-REF-03"
MERCHANT_RESPONSE = "R-REF-05"


class ReturnRefused(DomainError):
    """The request is outside its return window or the goods do not qualify (R-REF-01)."""


class ReturnExists(DomainError):
    """Another source event already opened a return with this id."""


class ReturnAlreadyDecided(DomainError):
    """A request is approved or rejected once (R-REF-02)."""


class ReturnRuleViolated(DomainError):
    pass


class RefundRefused(DomainError):
    """A refund without an approved request, or above what the request may still be
    refunded (R-REF-04)."""


class MerchantMismatch(DomainError):
    """A merchant answered a request that is not theirs (R-REF-05)."""


class RefundLedger(Protocol):
    """The order's side of a refund (R-REF-04): what was paid minus what was already
    refunded. ``domain.order.Order`` is one."""

    def check_refund(self, amount: Decimal) -> None: ...

    def record_refund(
        self, *, return_id: str, amount: Decimal, occurred_at: datetime, source: SourceRef
    ) -> None: ...


def return_window(reason: str, policy: Policy) -> timedelta:
    """R-REF-01: 7 days for the customer's own reasons, 30 days when the goods are at
    fault, counted from delivery."""
    if reason in SEVEN_DAY_REASONS:
        return policy.no_reason_return_window
    return policy.quality_repair_window


class ReturnRequest(JourneyAggregate):
    started_by = "the return request"

    class Requested(Aggregate.Created):
        return_id: str
        customer_id: str
        order_id: str
        reason: str
        opened: bool
        where: str
        has_receipt: bool
        amount_requested: Decimal
        merchant_id: str | None
        items: list[str]
        delivered_at: datetime
        case_ref: str | None
        policy_version: str
        occurred_at: datetime
        source: SourceRef

    class Approved(Fact["ReturnRequest"]):
        def apply_fact(self, aggregate: ReturnRequest) -> None:
            aggregate.status = "approved"
            aggregate.decided_at = self.occurred_at

    class Rejected(Fact["ReturnRequest"]):
        reason: str

        def apply_fact(self, aggregate: ReturnRequest) -> None:
            aggregate.status = "rejected"
            aggregate.decided_at = self.occurred_at
            aggregate.rejection_reason = self.reason

    class Inspected(Fact["ReturnRequest"]):
        result: str

        def apply_fact(self, aggregate: ReturnRequest) -> None:
            aggregate.inspection_result = self.result
            aggregate.inspected_at = self.occurred_at

    class Refunded(Fact["ReturnRequest"]):
        amount: Decimal

        def apply_fact(self, aggregate: ReturnRequest) -> None:
            aggregate.refunds.append(self.amount)
            aggregate.refunded_total += self.amount
            aggregate.completed_at = aggregate.completed_at or self.occurred_at

    class Exchanged(Fact["ReturnRequest"]):
        new_sku: str

        def apply_fact(self, aggregate: ReturnRequest) -> None:
            aggregate.exchanged_for = self.new_sku
            aggregate.completed_at = aggregate.completed_at or self.occurred_at

    class MerchantResponded(Fact["ReturnRequest"]):
        merchant_id: str
        decision: str
        note: str | None

        def apply_fact(self, aggregate: ReturnRequest) -> None:
            aggregate.merchant_decision = self.decision
            aggregate.merchant_responded_at = self.occurred_at

    class MerchantRefusedValidReturn(Fact["ReturnRequest"]):
        """R-REF-05: the merchant rejected a return that qualified for the 7-day no-reason
        return (unopened, within the window): the merchant is flagged."""

        merchant_id: str
        delivered_at: datetime
        requested_at: datetime

        def apply_fact(self, aggregate: ReturnRequest) -> None:
            aggregate.merchant_refused_valid_return = True

    @staticmethod
    def create_id(return_id: str) -> UUID:
        return aggregate_id("return", return_id)

    @event(Requested)
    def __init__(
        self,
        *,
        return_id: str,
        customer_id: str,
        order_id: str,
        reason: str,
        opened: bool,
        where: str,
        has_receipt: bool,
        amount_requested: Decimal,
        merchant_id: str | None,
        items: list[str],
        delivered_at: datetime,
        case_ref: str | None,
        policy_version: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        self._begin(policy_version, occurred_at, source)
        self.case_ref = case_ref
        self.return_id = return_id
        self.customer_id = customer_id
        self.order_id = order_id
        self.reason = reason
        self.opened = opened
        self.where = where
        self.has_receipt = has_receipt
        self.amount_requested = amount_requested
        self.merchant_id = merchant_id
        self.items = list(items)
        self.delivered_at = delivered_at
        self.requested_at = occurred_at
        self.status = "requested"
        self.decided_at: datetime | None = None
        self.rejection_reason: str | None = None
        self.inspection_result: str | None = None
        self.inspected_at: datetime | None = None
        self.refunds: list[Decimal] = []
        self.refunded_total = Decimal("0")
        self.exchanged_for: str | None = None
        self.completed_at: datetime | None = None
        self.merchant_decision: str | None = None
        self.merchant_responded_at: datetime | None = None
        self.merchant_refused_valid_return = False

    @classmethod
    def request(
        cls,
        *,
        return_id: str,
        customer_id: str,
        order_id: str,
        reason: str,
        opened: bool,
        where: str,
        has_receipt: bool,
        amount_requested: Decimal,
        merchant_id: str | None = None,
        items: list[str] | None = None,
        delivered_at: datetime | None,
        case_ref: str | None = None,
        occurred_at: datetime,
        source: SourceRef,
    ) -> ReturnRequest:
        """A customer asks to return goods of a delivered order (R-REF-01): unopened goods
        within the no-reason window, goods at fault within the quality window, both counted
        from delivery. ``delivered_at`` is the order's delivery time (None: not delivered);
        ``case_ref`` the complaint case the return settles, if any (for the ledger)."""
        if reason not in REASONS:
            raise ReturnRefused(f"unknown return reason {reason!r}", "R-REF-01")
        if where not in WHERE:
            raise ReturnRuleViolated(f"a return is requested online or in store, not {where!r}")
        if amount_requested <= 0:
            raise RefundRefused("the amount requested must be above zero", "R-REF-04")
        if delivered_at is None:
            raise ReturnRefused(
                f"order {order_id!r} has not been delivered; returns count from delivery",
                "R-REF-01",
            )
        if occurred_at < delivered_at:
            raise ReturnRefused(
                f"requested at {occurred_at.isoformat()}, before the order's delivery"
                f" ({delivered_at.isoformat()})",
                "R-REF-01",
            )
        policy = policy_in_force(occurred_at)
        window = return_window(reason, policy)
        if occurred_at - delivered_at > window:
            raise ReturnRefused(
                f"a {reason!r} return is accepted within {window} of delivery"
                f" ({delivered_at.isoformat()}); requested {occurred_at - delivered_at} after",
                "R-REF-01",
            )
        if reason in SEVEN_DAY_REASONS and opened:
            raise ReturnRefused(
                f"a {reason!r} return needs unopened goods; report a quality problem instead",
                "R-REF-01",
            )
        request = cls(
            return_id=return_id,
            customer_id=customer_id,
            order_id=order_id,
            reason=reason,
            opened=opened,
            where=where,
            has_receipt=has_receipt,
            amount_requested=amount_requested,
            merchant_id=merchant_id,
            items=list(items or []),
            delivered_at=delivered_at,
            case_ref=case_ref,
            policy_version=policy.version,
            occurred_at=occurred_at,
            source=source,
        )
        request._run_clocks(request.pending_events[-1])
        return request

    # -- commands ---------------------------------------------------------------------------

    def _undecided(self) -> None:
        if self.status != "requested":
            raise ReturnAlreadyDecided(
                f"return {self.return_id!r} was already {self.status}", "R-REF-02"
            )

    @command
    def approve(self, *, occurred_at: datetime, source: SourceRef) -> None:
        """Approval ends the review (R-REF-02) or the store handling (R-REF-03) and starts
        the 3-day completion clock (R-REF-02)."""
        self._undecided()
        self._record(self.Approved, occurred_at=occurred_at, source=source)

    @command
    def reject(self, *, reason: str, occurred_at: datetime, source: SourceRef) -> None:
        """Rejection ends the review (R-REF-02) or the store handling (R-REF-03)."""
        self._undecided()
        if not reason.strip():
            raise ReturnRuleViolated("a rejection states its reason", "R-REF-02")
        self._record(self.Rejected, reason=reason, occurred_at=occurred_at, source=source)

    @command
    def inspect(self, *, result: str, occurred_at: datetime, source: SourceRef) -> None:
        """The goods were inspected (R-REF-03); recorded once."""
        if result not in INSPECTION_RESULTS:
            raise ReturnRuleViolated(f"unknown inspection result {result!r}", "R-REF-03")
        if self.inspection_result is not None:
            raise ReturnRuleViolated(
                f"return {self.return_id!r} was already inspected ({self.inspection_result})",
                "R-REF-03",
            )
        self._record(self.Inspected, result=result, occurred_at=occurred_at, source=source)

    def refundable(self) -> Decimal:
        """What this request may still be refunded (R-REF-04, request side)."""
        return self.amount_requested - self.refunded_total

    def check_refund(self, amount: Decimal, occurred_at: datetime) -> None:
        """R-REF-04 on the request's side: an approved request, a positive amount, and in
        total never more than the amount requested."""
        if self.status != "approved" or self.decided_at is None:
            raise RefundRefused(
                f"return {self.return_id!r} is {self.status}; a refund needs an approved request",
                "R-REF-04",
            )
        self.require_in_order(occurred_at, self.decided_at, "the approval")
        if self.exchanged_for is not None:
            raise RefundRefused(
                f"return {self.return_id!r} was completed by an exchange", "R-REF-04"
            )
        if amount <= 0:
            raise RefundRefused("a refund is above zero", "R-REF-04")
        if amount > self.refundable():
            raise RefundRefused(
                f"refund of {amount} exceeds what return {self.return_id!r} may still be"
                f" refunded ({self.amount_requested} requested, {self.refunded_total}"
                " refunded)",
                "R-REF-04",
            )

    @command
    def refund(
        self, *, order: RefundLedger, amount: Decimal, occurred_at: datetime, source: SourceRef
    ) -> None:
        """Money back for an approved request (R-REF-04): checked against the request and
        against the order's paid minus refunded; only when every check passed does the
        order record the refund, then the request. Stops the completion clock (R-REF-02)."""
        self.check_refund(amount, occurred_at)
        order.check_refund(amount)
        order.record_refund(
            return_id=self.return_id, amount=amount, occurred_at=occurred_at, source=source
        )
        self._record(self.Refunded, amount=amount, occurred_at=occurred_at, source=source)

    @command
    def exchange(self, *, new_sku: str, occurred_at: datetime, source: SourceRef) -> None:
        """The goods were exchanged for ``new_sku``; stops the completion clock
        (R-REF-02)."""
        if self.status != "approved" or self.decided_at is None:
            raise ReturnRuleViolated(
                f"return {self.return_id!r} is {self.status}; an exchange needs an approved"
                " request",
                "R-REF-02",
            )
        self.require_in_order(occurred_at, self.decided_at, "the approval")
        if self.exchanged_for is not None or self.refunds:
            raise ReturnRuleViolated(
                f"return {self.return_id!r} was already completed by"
                f" {'an exchange' if self.exchanged_for else 'a refund'}",
                "R-REF-02",
            )
        self._record(self.Exchanged, new_sku=new_sku, occurred_at=occurred_at, source=source)

    def qualified_for_seven_day_return(self) -> bool:
        """R-REF-01/05: unopened, for the customer's own reason, within the window of the
        request's policy."""
        return (
            self.reason in SEVEN_DAY_REASONS
            and not self.opened
            and self.requested_at - self.delivered_at <= self.policy.no_reason_return_window
        )

    @command
    def merchant_respond(
        self,
        *,
        merchant_id: str,
        decision: str,
        note: str | None,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """The marketplace merchant's answer (R-REF-05): stops the 48-h clock; a merchant
        rejecting a return that qualified for the 7-day return is recorded as a fact."""
        if self.merchant_id is None:
            raise MerchantMismatch(
                f"return {self.return_id!r} is not a marketplace merchant's", "R-REF-05"
            )
        if merchant_id != self.merchant_id:
            raise MerchantMismatch(
                f"return {self.return_id!r} belongs to merchant {self.merchant_id!r},"
                f" not {merchant_id!r}",
                "R-REF-05",
            )
        if decision not in MERCHANT_DECISIONS:
            raise ReturnRuleViolated(f"unknown merchant decision {decision!r}", "R-REF-05")
        if self.merchant_decision is not None:
            raise ReturnAlreadyDecided(
                f"merchant {merchant_id!r} already answered ({self.merchant_decision})",
                "R-REF-05",
            )
        self._record(
            self.MerchantResponded,
            merchant_id=merchant_id,
            decision=decision,
            note=note,
            occurred_at=occurred_at,
            source=source,
        )
        if decision == "reject" and self.qualified_for_seven_day_return():
            self._record(
                self.MerchantRefusedValidReturn,
                merchant_id=merchant_id,
                delivered_at=self.delivered_at,
                requested_at=self.requested_at,
                occurred_at=occurred_at,
                source=source,
            )

    # -- SLA clocks -------------------------------------------------------------------------

    def clock_rules(self, fact: Any, policy: Policy) -> Iterable[ClockCommand]:
        at = fact.occurred_at
        if isinstance(fact, ReturnRequest.Requested):
            if fact.where == "online":
                yield Start("R-REF-02", REVIEW, at, policy.return_review)
            elif fact.has_receipt:
                yield Start("R-REF-03", STORE_HANDLING, at, policy.store_inspection)
            if fact.merchant_id is not None:
                yield Start("R-REF-05", MERCHANT_RESPONSE, at, policy.merchant_response)
        elif isinstance(fact, ReturnRequest.Approved):
            yield Stop(REVIEW, at)
            yield Stop(STORE_HANDLING, at)
            yield Start("R-REF-02", COMPLETION, at, policy.refund_completion)
        elif isinstance(fact, ReturnRequest.Rejected):
            yield Stop(REVIEW, at)
            yield Stop(STORE_HANDLING, at)
        elif isinstance(fact, ReturnRequest.Refunded | ReturnRequest.Exchanged):
            yield Stop(COMPLETION, at)
        elif isinstance(fact, ReturnRequest.MerchantResponded):
            yield Stop(MERCHANT_RESPONSE, at)

    def state(self) -> dict[str, Any]:
        """The request's facts as plain values (for auditors and tests)."""
        return {
            "return_id": self.return_id,
            "customer_id": self.customer_id,
            "order_id": self.order_id,
            "reason": self.reason,
            "opened": self.opened,
            "where": self.where,
            "has_receipt": self.has_receipt,
            "amount_requested": str(self.amount_requested),
            "merchant_id": self.merchant_id,
            "items": list(self.items),
            "delivered_at": self.delivered_at.isoformat(),
            "requested_at": self.requested_at.isoformat(),
            "status": self.status,
            "rejection_reason": self.rejection_reason,
            "inspection_result": self.inspection_result,
            "refunds": [str(amount) for amount in self.refunds],
            "refunded_total": str(self.refunded_total),
            "exchanged_for": self.exchanged_for,
            "merchant_decision": self.merchant_decision,
            "merchant_refused_valid_return": self.merchant_refused_valid_return,
            "policy_version": self.policy_version,
            "outcomes": {k: (o.rule, o.met, o.actual) for k, o in sorted(self.outcomes().items())},
        }

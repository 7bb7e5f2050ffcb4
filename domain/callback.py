"""A callback: the service calls the customer back (R-SAT-04).

Callbacks are due **7 days** after a completed transaction (a delivered order), on
birthdays and holidays, and on new-product launches for a matching preference. Each one
runs a clock from delivery (after a delivery) or from scheduling (the others) to its due
time, and ends once: completed with an outcome, or missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import Fact, JourneyAggregate, command
from domain.clocks import Cancel, ClockCommand, Start, Stop
from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.policy import Policy, policy_in_force
from domain.provenance import SourceRef

AFTER_DELIVERY = "after_delivery"
REASONS = frozenset({AFTER_DELIVERY, "birthday", "holiday", "launch"})  # R-SAT-04
OUTCOMES = frozenset({"reached", "no_answer", "declined", "issue_raised"})  # R-SAT-04

CLOCK = "R-SAT-04"


class CallbackRuleViolated(DomainError):
    pass


class CallbackExists(DomainError):
    """A second ``callback.scheduled`` for a callback id already in use."""


class CallbackEnded(CallbackRuleViolated):
    """A callback completes or is missed once (R-SAT-04)."""


class Callback(JourneyAggregate):
    started_by = "the callback's scheduling"

    class Scheduled(Aggregate.Created):
        callback_id: str
        customer_id: str
        reason: str
        order_id: str | None
        delivered_at: datetime | None
        due_at: datetime
        preference: str | None
        policy_version: str
        occurred_at: datetime
        source: SourceRef

    class Completed(Fact["Callback"]):
        outcome: str

        def apply_fact(self, aggregate: Callback) -> None:
            aggregate.status = "completed"
            aggregate.outcome = self.outcome
            aggregate.ended_at = self.occurred_at

    class Missed(Fact["Callback"]):
        reason: str | None

        def apply_fact(self, aggregate: Callback) -> None:
            aggregate.status = "missed"
            aggregate.miss_reason = self.reason
            aggregate.ended_at = self.occurred_at

    @staticmethod
    def create_id(callback_id: str) -> UUID:
        return aggregate_id("callback", callback_id)

    @event(Scheduled)
    def __init__(
        self,
        *,
        callback_id: str,
        customer_id: str,
        reason: str,
        order_id: str | None,
        delivered_at: datetime | None,
        due_at: datetime,
        preference: str | None,
        policy_version: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        self._begin(policy_version, occurred_at, source)
        self.callback_id = callback_id
        self.customer_id = customer_id
        self.reason = reason
        self.order_id = order_id
        self.delivered_at = delivered_at
        self.due_at = due_at
        self.preference = preference
        self.scheduled_at = occurred_at
        self.status = "scheduled"
        self.outcome: str | None = None
        self.miss_reason: str | None = None
        self.ended_at: datetime | None = None

    @classmethod
    def schedule(
        cls,
        *,
        callback_id: str,
        customer_id: str,
        reason: str,
        order_id: str | None = None,
        delivered_at: datetime | None = None,
        due_at: datetime | None = None,
        preference: str | None = None,
        occurred_at: datetime,
        source: SourceRef,
    ) -> Callback:
        """R-SAT-04: an ``after_delivery`` callback is due ``policy.callback_after_delivery``
        after its order's delivery (``delivered_at``: ``None`` when the order is not
        delivered, which is refused); the others are due at the given ``due_at``."""
        if reason not in REASONS:
            raise CallbackRuleViolated(
                f"unknown callback reason {reason!r}; one of {sorted(REASONS)}", CLOCK
            )
        policy = policy_in_force(occurred_at)
        if reason == AFTER_DELIVERY:
            if not order_id:
                raise CallbackRuleViolated("an after-delivery callback names its order", CLOCK)
            if due_at is not None:
                raise CallbackRuleViolated(
                    "an after-delivery callback's due time is computed from the delivery,"
                    " not given",
                    CLOCK,
                )
            if delivered_at is None:
                raise CallbackRuleViolated(
                    f"order {order_id!r} is not delivered; an after-delivery callback follows"
                    " a completed transaction",
                    CLOCK,
                )
            if occurred_at < delivered_at:
                raise CallbackRuleViolated(
                    f"scheduled at {occurred_at.isoformat()}, before the delivery of order"
                    f" {order_id!r} ({delivered_at.isoformat()}); an after-delivery callback"
                    " follows a completed transaction",
                    CLOCK,
                )
            due = delivered_at + policy.callback_after_delivery
        else:
            if due_at is None:
                raise CallbackRuleViolated(f"a {reason} callback needs a due time", CLOCK)
            if due_at <= occurred_at:
                raise CallbackRuleViolated(
                    f"due time {due_at.isoformat()} is not after the scheduling"
                    f" ({occurred_at.isoformat()})",
                    CLOCK,
                )
            due = due_at
        callback = cls(
            callback_id=callback_id,
            customer_id=customer_id,
            reason=reason,
            order_id=order_id,
            delivered_at=delivered_at if reason == AFTER_DELIVERY else None,
            due_at=due,
            preference=preference,
            policy_version=policy.version,
            occurred_at=occurred_at,
            source=source,
        )
        callback._run_clocks(callback.pending_events[-1])
        return callback

    # -- commands ---------------------------------------------------------------------------

    def check_live(self, occurred_at: datetime) -> None:
        """Refuses a second ending (R-SAT-04)."""
        if self.status != "scheduled":
            raise CallbackEnded(
                f"callback {self.callback_id!r} is already {self.status}; a callback completes"
                " or is missed once",
                CLOCK,
            )

    @command
    def complete(self, *, outcome: str, occurred_at: datetime, source: SourceRef) -> None:
        """The customer was called; every callback has an outcome (R-SAT-04)."""
        if outcome not in OUTCOMES:
            raise CallbackRuleViolated(
                f"callback {self.callback_id!r}: outcome {outcome!r} is not one of"
                f" {sorted(OUTCOMES)}; every callback has an outcome",
                CLOCK,
            )
        self._record(self.Completed, outcome=outcome, occurred_at=occurred_at, source=source)

    @command
    def miss(self, *, reason: str | None, occurred_at: datetime, source: SourceRef) -> None:
        """The callback will not be made. Before its due time this calls the clock off;
        after it, the due time had already passed unmet (R-SAT-04)."""
        self._record(self.Missed, reason=reason, occurred_at=occurred_at, source=source)

    # -- SLA clocks -------------------------------------------------------------------------

    def clock_rules(self, fact: Any, policy: Policy) -> Iterable[ClockCommand]:
        at = fact.occurred_at
        if isinstance(fact, Callback.Scheduled):
            # R-SAT-04: from delivery to 7 days later, or from scheduling to the due time.
            if fact.reason == AFTER_DELIVERY and fact.delivered_at is not None:
                yield Start(CLOCK, CLOCK, fact.delivered_at, policy.callback_after_delivery)
            else:
                yield Start(CLOCK, CLOCK, at, fact.due_at - at)
        elif isinstance(fact, Callback.Completed):
            yield Stop(CLOCK, at)
        elif isinstance(fact, Callback.Missed):
            yield Cancel(CLOCK, at, fact.reason or "callback missed")

    def state(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "callback_id": self.callback_id,
            "customer_id": self.customer_id,
            "reason": self.reason,
            "order_id": self.order_id,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "due_at": self.due_at.isoformat(),
            "preference": self.preference,
            "scheduled_at": self.scheduled_at.isoformat(),
            "status": self.status,
            "outcome": self.outcome,
            "miss_reason": self.miss_reason,
            "policy_version": self.policy_version,
            "outcomes": {k: (o.rule, o.met, o.actual) for k, o in sorted(self.outcomes().items())},
        }

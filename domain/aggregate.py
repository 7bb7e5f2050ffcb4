"""What every aggregate of the journey shares.

- **Facts** are the events that record what happened in the customer's journey. Each
  carries its event time (``occurred_at``) and the source record it came from
  (``source``); a source ``event_id`` already applied has no further effect.
- **Commands** (methods marked :func:`command`) go through one guard,
  :meth:`JourneyAggregate.fresh`: a source event already applied is ignored, a fact older
  than the aggregate's creation is refused (``LateFact``), then the aggregate's own
  refusals shared by all its commands (:meth:`JourneyAggregate.check_live`); only then
  the command's own checks run.
- **Clock decisions** are the events the SLA clocks derive from facts and the policy
  (``domain.clocks``): deadline started, met, breached, settled, cancelled. Each names its
  rule id, its target and the actual duration.
- **The policy version** in force when the aggregate started is recorded on creation and
  used for its clocks; ``outcomes_under`` replays the facts alone under another version.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import (
    Any,
    ClassVar,
    Concatenate,
    Generic,
    Literal,
    ParamSpec,
    Self,
    TypeVar,
    cast,
    overload,
)

from eventsourcing.domain import Aggregate

from domain.clocks import (
    Breached,
    Cancelled,
    ClockCommand,
    Clocks,
    Decision,
    Met,
    Outcome,
    Settled,
    Started,
)
from domain.errors import DomainError
from domain.policy import Policy, policy_named
from domain.provenance import SourceRef


class LateFact(DomainError):
    """A fact older than one it must follow; refused rather than applied out of order."""


A_contra = TypeVar("A_contra", bound="JourneyAggregate", contravariant=True)
"""The aggregate a fact applies to (a fact of any journey aggregate applies to each)."""


class Fact(Aggregate.Event, Generic[A_contra]):
    """Base of the facts recorded after creation; ``Fact[Case]`` is a fact of a case, so
    its ``apply_fact`` is type-checked against the case's attributes."""

    occurred_at: datetime
    source: SourceRef
    moves_event_time: ClassVar[bool] = True
    """False for an administrative fact (an erasure request): its ``occurred_at`` is when
    someone acted on the record, not a moment of the customer's journey, so it never moves
    the event-time watermark (``advances_event_time``) that SLA clocks and segments are
    judged by."""

    def apply(self, aggregate: A_contra) -> None:
        aggregate._note(self)
        self.apply_fact(aggregate)

    def apply_fact(self, aggregate: A_contra) -> None:
        """Subclasses change the aggregate's state here."""


class JourneyAggregate(Aggregate):
    # Subclasses' creation events carry ``policy_version``, ``occurred_at``, ``source``.

    # -- clock decision events --------------------------------------------------------------

    class DeadlineStarted(Aggregate.Event):
        rule: str
        key: str
        started_at: datetime
        due_at: datetime
        policy_version: str

        def apply(self, aggregate: Any) -> None:
            aggregate.clocks.apply(Started(self.rule, self.key, self.started_at, self.due_at))

    class DeadlineMet(Aggregate.Event):
        rule: str
        key: str
        at: datetime
        actual: timedelta

        def apply(self, aggregate: Any) -> None:
            aggregate.clocks.apply(Met(self.rule, self.key, self.at, self.actual))

    class DeadlineBreached(Aggregate.Event):
        rule: str
        key: str
        due_at: datetime
        target: timedelta
        actual: timedelta | None
        detected_by: Literal["fact", "watermark"]

        def apply(self, aggregate: Any) -> None:
            aggregate.clocks.apply(
                Breached(
                    self.rule, self.key, self.due_at, self.target, self.actual, self.detected_by
                )
            )

    class DeadlineSettled(Aggregate.Event):
        rule: str
        key: str
        at: datetime
        actual: timedelta
        within_target: bool

        def apply(self, aggregate: Any) -> None:
            aggregate.clocks.apply(
                Settled(self.rule, self.key, self.at, self.actual, self.within_target)
            )

    class DeadlineCancelled(Aggregate.Event):
        rule: str
        key: str
        at: datetime
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.clocks.apply(Cancelled(self.rule, self.key, self.at, self.reason))

    class Acknowledged(Fact["JourneyAggregate"]):
        """A source event that changed nothing (e.g. a repeat of what is already known),
        recorded so that its ``event_id`` counts as applied: delivered again later, when the
        state has moved on, it must still have no effect."""

        type: str

    _DECISIONS: ClassVar[dict[type, str]] = {
        Started: "DeadlineStarted",
        Met: "DeadlineMet",
        Breached: "DeadlineBreached",
        Settled: "DeadlineSettled",
        Cancelled: "DeadlineCancelled",
    }

    # -- state shared by every aggregate ----------------------------------------------------

    started_by: ClassVar[str]
    """The creation fact as a refusal names it ("the case's opening"): no later fact may be
    older (:meth:`require_after_start`)."""

    policy_version: str
    clocks: Clocks
    applied: set[str]
    first_event_at: datetime
    last_event_at: datetime
    chains: dict[str, datetime]

    def _begin(self, policy_version: str, occurred_at: datetime, source: SourceRef) -> None:
        """Called by each subclass's ``__init__`` (its creation fact). The policy version
        in force when the clocks start is recorded with them and used for the aggregate's
        whole life (R-CH-02)."""
        self.policy_version = policy_version
        self.clocks = Clocks()
        self.applied = {source.event_id}
        self.first_event_at = occurred_at  # the creation fact's time: see started_by
        self.last_event_at = occurred_at
        self.chains: dict[str, datetime] = {}

    def _note(self, fact: Fact[Self]) -> None:
        self.applied.add(fact.source.event_id)
        self.last_event_at = max(self.last_event_at, fact.occurred_at)

    def has_applied(self, event_id: str) -> bool:
        return event_id in self.applied

    # -- the guard of every command ---------------------------------------------------------

    def fresh(self, occurred_at: datetime, source: SourceRef, *, after_start: bool = True) -> bool:
        """The guard every command goes through (:func:`command`), in this order: False
        for a source event already applied (a duplicate has no effect); a fact older than
        the creation is refused (unless ``after_start`` is False: the command orders
        itself against something else); then :meth:`check_live`. True: the command's own
        checks run next."""
        if self.has_applied(source.event_id):
            return False
        if after_start:
            self.require_after_start(occurred_at)
        self.check_live(occurred_at)
        return True

    def require_after_start(self, occurred_at: datetime) -> None:
        self.require_in_order(occurred_at, self.first_event_at, self.started_by)

    def check_live(self, occurred_at: datetime) -> None:
        """Refusals every command of the aggregate shares after the order check (a
        contact that has ended, a callback that has ended); none by default."""

    @property
    def policy(self) -> Policy:
        """The recorded policy version's targets and windows (R-CH-02)."""
        return policy_named(self.policy_version)

    # -- recording facts and their clock decisions ------------------------------------------

    def clock_rules(self, fact: Any, policy: Policy) -> Iterable[ClockCommand]:
        """What the clocks must do after ``fact`` was applied. Pure: reads the fact and the
        aggregate's fact state, never the clocks or the wall clock."""
        return ()

    def _acknowledge(self, event_type: str, occurred_at: datetime, source: SourceRef) -> None:
        self._record(self.Acknowledged, type=event_type, occurred_at=occurred_at, source=source)

    def _record(self, event_class: type[Fact[Self]], **kwargs: Any) -> None:
        """Record a fact, then the clock decisions it leads to."""
        self.trigger_event(event_class, **kwargs)
        self._run_clocks(self.pending_events[-1])

    def _run_clocks(self, fact: Any) -> None:
        for command in self.clock_rules(fact, self.policy):
            for decision in self.clocks.decide(command):
                self._decide(decision)

    def _decide(self, decision: Decision) -> None:
        fields = dict(vars(decision))  # flat values: no need for asdict's deep copy
        if isinstance(decision, Started):
            fields["policy_version"] = self.policy_version
        self.trigger_event(getattr(type(self), self._DECISIONS[type(decision)]), **fields)

    def advance_clock(self, watermark: datetime, lateness: timedelta | None = None) -> None:
        """Breach every deadline the watermark is past by more than the allowed lateness:
        the recorded policy's ``allowed_lateness`` unless ``lateness`` is given (the
        wall-clock timer gives ``timedelta(0)``: it breaches at the deadline). The
        watermark is event time (the latest event time seen) or, in live mode, the wall
        clock; the breach itself carries only event-time values."""
        allowed = self.policy.allowed_lateness if lateness is None else lateness
        for decision in self.clocks.on_watermark(watermark, allowed):
            self._decide(decision)

    def outcomes(self) -> dict[str, Outcome]:
        return dict(self.clocks.outcomes)

    def advance_chain(self, chain: str, at: datetime) -> None:
        """Called by the facts that start the next link of a chain of clocks (the next
        progress update, hand-off request, promise...), from their ``apply_fact``."""
        previous = self.chains.get(chain)
        self.chains[chain] = at if previous is None else max(previous, at)

    def require_chain_order(self, chain: str, occurred_at: datetime) -> None:
        """The next link of a chain is applied in event-time order only: a link older than
        the latest one would re-key the clocks behind it, so it is refused instead."""
        latest = self.chains.get(chain)
        if latest is not None:
            self.require_in_order(occurred_at, latest, f"the latest {chain.replace('_', ' ')}")

    def require_in_order(self, occurred_at: datetime, after: datetime, what: str) -> None:
        if occurred_at < after:
            raise LateFact(
                f"occurred_at {occurred_at.isoformat()} is before {what}"
                f" ({after.isoformat()}); refused rather than applied out of order"
            )


J = TypeVar("J", bound=JourneyAggregate)
P = ParamSpec("P")
CommandMethod = Callable[Concatenate[J, P], None]


@overload
def command(method: CommandMethod[J, P], /) -> CommandMethod[J, P]: ...


@overload
def command(
    *, after_start: bool = True
) -> Callable[[CommandMethod[J, P]], CommandMethod[J, P]]: ...


def command(
    method: CommandMethod[J, P] | None = None, /, *, after_start: bool = True
) -> CommandMethod[J, P] | Callable[[CommandMethod[J, P]], CommandMethod[J, P]]:
    """Marks a command of a journey aggregate: its body runs only when
    :meth:`JourneyAggregate.fresh` passes for the command's keyword arguments
    ``occurred_at`` and ``source``; a source event already applied is a no-op.
    ``@command(after_start=False)`` for a command ordered against something else than the
    aggregate's creation (checked in its body)."""

    def decorate(body: CommandMethod[J, P]) -> CommandMethod[J, P]:
        @functools.wraps(body)
        def guarded(aggregate: J, /, *args: P.args, **kwargs: P.kwargs) -> None:
            occurred_at = cast(datetime, kwargs["occurred_at"])  # keyword-only in commands
            source = cast(SourceRef, kwargs["source"])
            if aggregate.fresh(occurred_at, source, after_start=after_start):
                body(aggregate, *args, **kwargs)

        return guarded

    return decorate if method is None else decorate(method)


def is_fact(event: Any) -> bool:
    return hasattr(event, "source") and hasattr(event, "occurred_at")


def advances_event_time(event: Any) -> bool:
    """Whether ``event`` moves the event-time watermark: a fact of the journey, not an
    administrative one (``Fact.moves_event_time``)."""
    return is_fact(event) and getattr(type(event), "moves_event_time", True)


def replay_facts(facts: Sequence[Any], policy: Policy, horizon: datetime) -> Any:
    """The aggregate built from ``facts`` alone (its creation first, then in the order
    given), its clocks decided afresh under ``policy`` and breached by a watermark at
    ``horizon``. Clock decisions recorded with the facts are not used: what-if and the
    state as of an event time (``application.audit``) decide them again."""
    aggregate: Any = facts[0].mutate(None)
    clocks = aggregate.clocks = Clocks()
    for index, fact in enumerate(facts):
        if index:
            fact.apply(aggregate)
        for command in aggregate.clock_rules(fact, policy):
            for decision in clocks.decide(command):
                clocks.apply(decision)
    for decision in clocks.on_watermark(horizon, policy.allowed_lateness):
        clocks.apply(decision)
    return aggregate


def outcomes_under(
    events: Sequence[Any], alternative: Policy, as_of: datetime | None = None
) -> dict[str, Outcome]:
    """What-if: the SLA outcomes the stored facts of one aggregate would have had under
    another policy, as of ``as_of`` (default: its latest fact). Stored events are only
    read; clock decisions recorded under the original policy are ignored."""
    facts = [e for e in events if is_fact(e)]
    if not facts:
        return {}
    horizon = as_of or max(f.occurred_at for f in facts)
    return dict(replay_facts(facts, alternative, horizon).clocks.outcomes)

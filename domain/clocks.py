"""SLA clocks on event time.

A rule with a target becomes a deadline when the fact that starts it happens; a later fact
stops it. Every decision is a value computed from event times only (``occurred_at`` of the
facts and the deadline's own due time), never from the machine's clock, so replaying the
same facts gives the same decisions.

A deadline that no fact stops is breached once the watermark (the latest event time seen,
or the wall clock in live mode) is past its due time plus the allowed lateness (the
policy's ``allowed_lateness`` on event time; none on the wall clock). Between its due time
and that breach the deadline is *overdue* (:func:`is_overdue`): still open, past due,
waiting for a late fact. If the stopping fact turns up after the breach, the breach is
settled with the real duration: met when the fact happened in time (it only arrived
late), breached otherwise. The final outcome therefore depends on the facts alone, not on
when or in which batches they arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

# -- what aggregate rules ask for -----------------------------------------------------------


@dataclass(frozen=True)
class Start:
    rule: str
    key: str
    at: datetime
    target: timedelta


@dataclass(frozen=True)
class Stop:
    key: str
    at: datetime


@dataclass(frozen=True)
class Cancel:
    """The deadline no longer applies (e.g. the contact was abandoned); not a breach."""

    key: str
    at: datetime
    reason: str


ClockCommand = Start | Stop | Cancel

# -- what the clocks decide (each becomes a domain event) -----------------------------------


@dataclass(frozen=True)
class Started:
    rule: str
    key: str
    started_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class Met:
    rule: str
    key: str
    at: datetime
    actual: timedelta


@dataclass(frozen=True)
class Breached:
    """``actual`` is the real duration when a late fact stopped the clock, or ``None``
    when the watermark passed the due time with no such fact (yet)."""

    rule: str
    key: str
    due_at: datetime
    target: timedelta
    actual: timedelta | None
    detected_by: Literal["fact", "watermark"]


@dataclass(frozen=True)
class Settled:
    """A stopping fact for a deadline already decided arrived late: it stops a
    watermark breach, or it happened earlier than the fact that decided the outcome. Its
    real duration, and whether it was within target after all."""

    rule: str
    key: str
    at: datetime
    actual: timedelta
    within_target: bool


@dataclass(frozen=True)
class Cancelled:
    rule: str
    key: str
    at: datetime
    reason: str


Decision = Started | Met | Breached | Settled | Cancelled


@dataclass(frozen=True)
class Deadline:
    rule: str
    key: str
    started_at: datetime
    due_at: datetime

    @property
    def target(self) -> timedelta:
        return self.due_at - self.started_at


@dataclass(frozen=True)
class Outcome:
    rule: str
    key: str
    target: timedelta
    met: bool
    actual: timedelta | None
    """``None``: breached, and the stopping fact has not happened (yet)."""


@dataclass
class Clocks:
    """The deadlines of one aggregate. Decisions are computed by ``decide`` and
    ``on_watermark`` without changing anything; ``apply`` records one.

    The earliest stopping or cancelling fact decides, whatever order facts arrive in: a
    stop earlier than the one behind an outcome settles it again, a cancel earlier than
    that stop (and before the due time) calls the deadline off, and a stop earlier than the
    cancel settles it after all.
    """

    open: dict[str, Deadline] = field(default_factory=dict)
    decided: dict[str, Deadline] = field(default_factory=dict)
    stopped_at: dict[str, datetime] = field(default_factory=dict)
    """When the fact behind each outcome happened; absent while none has (a breach by
    the watermark, or by a cancel after the due time)."""
    called_off: dict[str, tuple[Deadline, datetime]] = field(default_factory=dict)
    """Cancelled deadlines and when; a stop from before the cancel reinstates them."""
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def _earlier(self, key: str, at: datetime) -> bool:
        previous = self.stopped_at.get(key)
        return previous is None or at < previous

    def decide(self, command: ClockCommand) -> list[Decision]:
        key = command.key
        if isinstance(command, Start):
            if key in self.open or key in self.decided or key in self.called_off:
                return []
            return [Started(command.rule, key, command.at, command.at + command.target)]
        if key in self.called_off:
            off, cancelled_at = self.called_off[key]
            if not off.started_at <= command.at < cancelled_at:
                return []
            if isinstance(command, Cancel):
                return [Cancelled(off.rule, key, command.at, command.reason)]
            actual = command.at - off.started_at
            return [Settled(off.rule, key, command.at, actual, command.at <= off.due_at)]
        known = self.open.get(key) or self.decided.get(key)
        if known is not None and command.at < known.started_at:
            return []  # a fact from before the deadline started cannot stop or cancel it
        deadline = self.open.get(key)
        if deadline is not None:
            if isinstance(command, Stop):
                actual = command.at - deadline.started_at
                if command.at <= deadline.due_at:
                    return [Met(deadline.rule, key, command.at, actual)]
                return [
                    Breached(deadline.rule, key, deadline.due_at, deadline.target, actual, "fact")
                ]
            if command.at > deadline.due_at:
                # Too late to call off: the target had already passed unmet.
                return [
                    Breached(deadline.rule, key, deadline.due_at, deadline.target, None, "fact")
                ]
            return [Cancelled(deadline.rule, key, command.at, command.reason)]
        deadline = self.decided.get(key)
        if deadline is None or not self._earlier(key, command.at):
            return []
        if isinstance(command, Stop):
            actual = command.at - deadline.started_at
            return [Settled(deadline.rule, key, command.at, actual, command.at <= deadline.due_at)]
        if command.at <= deadline.due_at:
            return [Cancelled(deadline.rule, key, command.at, command.reason)]
        return []

    def on_watermark(self, watermark: datetime, lateness: timedelta) -> list[Decision]:
        """Breach every open deadline the watermark is past by more than ``lateness``
        (``timedelta(0)``: past its due time at all)."""
        return [
            Breached(d.rule, d.key, d.due_at, d.target, None, "watermark")
            for d in sorted(self.open.values(), key=lambda d: (d.due_at, d.key))
            if d.due_at + lateness < watermark
        ]

    def apply(self, decision: Decision) -> None:
        key = decision.key
        if isinstance(decision, Started):
            self.open[key] = Deadline(decision.rule, key, decision.started_at, decision.due_at)
        elif isinstance(decision, Met):
            deadline = self.decided[key] = self.open.pop(key)
            self.stopped_at[key] = decision.at
            self.outcomes[key] = Outcome(decision.rule, key, deadline.target, True, decision.actual)
        elif isinstance(decision, Breached):
            deadline = self.decided[key] = self.open.pop(key)
            if decision.actual is not None:
                self.stopped_at[key] = deadline.started_at + decision.actual
            self.outcomes[key] = Outcome(
                decision.rule, key, decision.target, False, decision.actual
            )
        elif isinstance(decision, Settled):
            if key in self.called_off:
                self.decided[key] = self.called_off.pop(key)[0]
            deadline = self.decided[key]
            self.stopped_at[key] = decision.at
            self.outcomes[key] = Outcome(
                decision.rule, key, deadline.target, decision.within_target, decision.actual
            )
        elif key in self.called_off:
            self.called_off[key] = (self.called_off[key][0], decision.at)
        else:
            deadline = self.open.pop(key) if key in self.open else self.decided.pop(key)
            self.stopped_at.pop(key, None)
            self.outcomes.pop(key, None)
            self.called_off[key] = (deadline, decision.at)

    def next_due(self) -> datetime | None:
        return min((d.due_at for d in self.open.values()), default=None)


def is_overdue(due_at: datetime, watermark: datetime | None) -> bool:
    """An open deadline is overdue once the watermark is past its due time: a stopping
    fact exactly at the due time still meets it, one second later does not. It stays
    overdue (not yet breached) while the watermark is within the allowed lateness after
    the due time, and until the timer records the breach. Judged when asked, against a
    watermark, so nothing is stored for it and a replay records the same."""
    return watermark is not None and watermark > due_at

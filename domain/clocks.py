"""SLA clocks on event time.

A rule with a target becomes a deadline when the fact that starts it happens; a later fact
stops it. Every decision is a value computed from event times only (``occurred_at`` of the
facts and the deadline's own due time), never from the machine's clock, so replaying the
same facts gives the same decisions.

A deadline that no fact stops is breached once the watermark (the latest event time seen,
or the wall clock in live mode) passes its due time plus the policy's allowed lateness. If
the stopping fact turns up after that, the breach is settled with the real duration: met
when the fact happened in time (it only arrived late), breached otherwise. The final
outcome therefore depends on the facts alone, not on when or in which batches they arrived.
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
    """The fact that stops a watermark-breached deadline arrived: its real duration, and
    whether it was within target after all."""

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
    ``on_watermark`` without changing anything; ``apply`` records one."""

    open: dict[str, Deadline] = field(default_factory=dict)
    overdue: dict[str, Deadline] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def decide(self, command: ClockCommand) -> list[Decision]:
        if isinstance(command, Start):
            if command.key in self.open or command.key in self.outcomes:
                return []
            return [Started(command.rule, command.key, command.at, command.at + command.target)]
        if isinstance(command, Stop):
            deadline = self.open.get(command.key)
            if deadline is not None:
                actual = command.at - deadline.started_at
                if command.at <= deadline.due_at:
                    return [Met(deadline.rule, deadline.key, command.at, actual)]
                return [
                    Breached(
                        deadline.rule,
                        deadline.key,
                        deadline.due_at,
                        deadline.target,
                        actual,
                        "fact",
                    )
                ]
            deadline = self.overdue.get(command.key)
            if deadline is not None:
                actual = command.at - deadline.started_at
                return [
                    Settled(
                        deadline.rule,
                        deadline.key,
                        command.at,
                        actual,
                        command.at <= deadline.due_at,
                    )
                ]
            return []
        deadline = self.open.get(command.key)
        if deadline is None:
            return []
        if command.at > deadline.due_at:
            # Too late to call off: the target had already passed unmet.
            return [
                Breached(
                    deadline.rule, deadline.key, deadline.due_at, deadline.target, None, "fact"
                )
            ]
        return [Cancelled(deadline.rule, deadline.key, command.at, command.reason)]

    def on_watermark(self, watermark: datetime, lateness: timedelta) -> list[Decision]:
        return [
            Breached(d.rule, d.key, d.due_at, d.target, None, "watermark")
            for d in sorted(self.open.values(), key=lambda d: (d.due_at, d.key))
            if d.due_at + lateness < watermark
        ]

    def apply(self, decision: Decision) -> None:
        if isinstance(decision, Started):
            self.open[decision.key] = Deadline(
                decision.rule, decision.key, decision.started_at, decision.due_at
            )
        elif isinstance(decision, Met):
            deadline = self.open.pop(decision.key)
            self.outcomes[decision.key] = Outcome(
                decision.rule, decision.key, deadline.target, True, decision.actual
            )
        elif isinstance(decision, Breached):
            deadline = self.open.pop(decision.key)
            if decision.actual is None:
                self.overdue[decision.key] = deadline
            self.outcomes[decision.key] = Outcome(
                decision.rule, decision.key, decision.target, False, decision.actual
            )
        elif isinstance(decision, Settled):
            deadline = self.overdue.pop(decision.key)
            self.outcomes[decision.key] = Outcome(
                decision.rule,
                decision.key,
                deadline.target,
                decision.within_target,
                decision.actual,
            )
        else:
            self.open.pop(decision.key)

    def next_due(self) -> datetime | None:
        return min((d.due_at for d in self.open.values()), default=None)

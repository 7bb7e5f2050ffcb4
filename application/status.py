"""How far behind the pipeline is, read from the log and the store alone, so that any
process can tell (not only the one ingesting).

- Ingest lag of a partition: the log's end offset minus the next offset stored with the
  events (the store, not the log's committed offset, is the truth of what was applied).
- Projection lag: the event store's last notification id minus the projection's position.
- Dead letters: records on the dead-letter topic (the sum of its end offsets: what was ever
  written to it, including letters its retention has since deleted).
- Parked: source events waiting for the order, case... they refer to.
- Quarantined: stored events a read model could not apply, held aside for it
  (``projections.quarantine``).
- Audit verifications: per kind, the aggregates verified and those that failed, by any
  process (the API, ``journey verify``), as recorded beside the audit chain.
- Breaches: per rule, the SLA deadlines whose outcome in force is a breach (the KPI
  counters' hourly sums; a breach settled within target or called off leaves them).
- Overdue: open SLA deadlines whose due time the clock timer's watermark is past, not
  breached yet (inside the allowed lateness, or before the timer's next round).
- A stalled projection: behind the head, and its position has not moved for a while.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.sourcelog.base import LogAdmin, TopicPartition
from application.service import JourneyApplication
from projections.audit_chain import VerificationCount
from projections.base import Projection


def lag(end: int, position: int) -> int:
    """How many records (or notifications) lie after ``position`` up to ``end``. A position
    past the end (a topic recreated under a store that remembers the old one) is not
    behind: it counts 0, and :attr:`PartitionLag.ahead_of_log` tells it apart."""
    return max(end - position, 0)


@dataclass(frozen=True)
class PartitionLag:
    partition: TopicPartition
    log_end_offset: int
    stored_offset: int

    @property
    def lag(self) -> int:
        return lag(self.log_end_offset, self.stored_offset)

    @property
    def ahead_of_log(self) -> bool:
        """The store has applied offsets the log does not hold: records published at those
        offsets now would be skipped."""
        return self.stored_offset > self.log_end_offset


@dataclass(frozen=True)
class ProjectionLag:
    name: str
    position: int
    head: int
    """The event store's last notification id when the position was read."""
    indexes_deferred: bool = False
    """Catching up without its query indexes (``projections.catch_up``): queries scan."""

    @property
    def lag(self) -> int:
        return lag(self.head, self.position)


@dataclass(frozen=True)
class Status:
    partitions: list[PartitionLag]
    dead_letters: int
    notifications: int
    projections: list[ProjectionLag]
    parked: int = 0
    """Source events waiting for what they refer to (``domain.parking``), as the parked
    index has them."""
    quarantined: dict[str, int] = field(default_factory=dict)
    """Read model → stored events it could not apply and holds in quarantine."""
    verifications: Sequence[VerificationCount] = ()
    """Per kind, aggregates verified against the audit chain and those that failed."""
    overdue: int = 0
    """Open SLA deadlines past due at the clock timer's watermark, not breached yet (the
    deadline index)."""
    timer_backlog: int = 0
    """Of those, the ones past due by more than the allowed lateness: the timer has yet to
    breach them (0 once it has caught up with the watermark)."""
    event_time: datetime | None = None
    """The event-time watermark: the latest ``occurred_at`` of a journey fact applied."""
    deadlines: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per rule: open SLA deadlines, and how many of them are overdue."""
    breaches: dict[str, int] = field(default_factory=dict)
    """Per rule with a clock: deadlines whose outcome in force is a breach."""

    @property
    def ingest_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    def as_json(self) -> dict[str, Any]:
        return {
            "partitions": [
                {
                    "topic": p.partition.topic,
                    "partition": p.partition.partition,
                    "log_end_offset": p.log_end_offset,
                    "stored_offset": p.stored_offset,
                    "lag": p.lag,
                    "ahead_of_log": p.ahead_of_log,
                }
                for p in self.partitions
            ],
            "ingest_lag": self.ingest_lag,
            "dead_letters": self.dead_letters,
            "parked": self.parked,
            "quarantined": self.quarantined,
            "audit_verifications": [vars(v) for v in self.verifications],
            "overdue": self.overdue,
            "timer_backlog": self.timer_backlog,
            "event_time": None if self.event_time is None else self.event_time.isoformat(),
            "deadlines": {
                rule: {"open": n, "overdue": late} for rule, (n, late) in self.deadlines.items()
            },
            "breaches": self.breaches,
            "notifications": self.notifications,
            "projections": [
                {
                    "name": p.name,
                    "position": p.position,
                    "lag": p.lag,
                    "query_indexes": "deferred" if p.indexes_deferred else "built",
                }
                for p in self.projections
            ],
        }


def _partitions(admin: LogAdmin, topics: Sequence[str]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in range(admin.partitions_for(t))]


def read_status(
    admin: LogAdmin,
    app: JourneyApplication,
    ingress: Sequence[str],
    dead_letter_topic: str,
    projections: Sequence[Projection],
    parked: Callable[[], int] | None = None,
    quarantined: Callable[[], dict[str, int]] | None = None,
    verifications: Callable[[], Sequence[VerificationCount]] | None = None,
    overdue: Callable[[], int] | None = None,
    timer_backlog: Callable[[], int] | None = None,
    event_time: Callable[[], datetime | None] | None = None,
    deadlines: Callable[[], dict[str, tuple[int, int]]] | None = None,
    breaches: Callable[[], dict[str, int]] | None = None,
) -> Status:
    """Read positions before ends, so that a lag read while work goes on may be
    overstated by what arrived in between but is never understated. ``parked`` counts
    the parked source events, ``quarantined`` the events each read model holds in
    quarantine, ``verifications`` the audit verifications, ``overdue`` the deadlines
    past due and not breached yet, ``timer_backlog`` those the timer has yet to breach."""
    ingress_partitions = _partitions(admin, ingress)
    dead_letter_partitions = _partitions(admin, [dead_letter_topic])
    stored = {tp: app.next_offset(tp) for tp in ingress_partitions}
    positions = {p.name: p.position() for p in projections}
    deferred = {p.name for p in projections if p.query_indexes_deferred()}
    ends = admin.end_offsets([*ingress_partitions, *dead_letter_partitions])
    head = app.process_recorder.max_notification_id() or 0
    return Status(
        partitions=[PartitionLag(tp, ends[tp], stored[tp]) for tp in ingress_partitions],
        dead_letters=sum(ends[tp] for tp in dead_letter_partitions),
        notifications=head,
        projections=[
            ProjectionLag(name, pos, head, name in deferred) for name, pos in positions.items()
        ],
        parked=0 if parked is None else parked(),
        quarantined={} if quarantined is None else quarantined(),
        verifications=() if verifications is None else verifications(),
        overdue=0 if overdue is None else overdue(),
        timer_backlog=0 if timer_backlog is None else timer_backlog(),
        event_time=None if event_time is None else event_time(),
        deadlines={} if deadlines is None else deadlines(),
        breaches={} if breaches is None else breaches(),
    )


@dataclass(frozen=True)
class Stall:
    name: str
    position: int
    head: int
    still_s: float
    """How long the position has stood still while behind the head."""


class StallWatch:
    """Tells a stalled read model from a busy one: stalled when its position is behind the
    event store's head and has not moved for longer than ``stall_s``. A read model that is
    caught up is never stalled, however long nothing arrives. The watch remembers what
    earlier calls saw (in this process), so the first call can find no stall."""

    def __init__(self, stall_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_s = stall_s
        self._clock = clock
        self._since: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def check(self, positions: dict[str, int], head: int) -> list[Stall]:
        """The read models among ``positions`` (name → position) that are stalled."""
        now = self._clock()
        stalls: list[Stall] = []
        with self._lock:
            for name, position in positions.items():
                if position >= head:
                    self._since.pop(name, None)
                    continue
                seen = self._since.get(name)
                if seen is None or seen[0] != position:
                    self._since[name] = seen = (position, now)
                still = now - seen[1]
                if still > self.stall_s:
                    stalls.append(Stall(name, position, head, still))
        return stalls

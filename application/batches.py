"""Deciding one partition's batch: its source events applied to their aggregates in offset
order, in one unit of work, stored with the partition's next offset in one transaction.

- A rule's refusal (``DomainError``) refuses that event; its neighbours go on.
- An event whose prerequisite is not known yet (``MissingPrerequisite``) is parked
  (``application.parking``). An event that creates or progresses an aggregate lets in the
  events waiting for it: they are applied right after it, with their own source
  coordinates, in event-time order (the events they let in, in turn, join that order).
- An event whose handler raises something unexpected (a bug, an input no rule foresaw) may
  have left its aggregates half changed, so the batch is decided again from the store
  without it, and it is refused naming what it raised. Trouble with the store is raised.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import Tracking

from adapters.failures import is_infrastructure
from adapters.sourcelog.base import TopicPartition
from application.aggregate_cache import AggregateCache
from application.handlers import HANDLERS, UnitOfWork
from application.handlers.base import MissingPrerequisite
from application.parking import ReleasedRefusal, lot_ids, lots_for, opened, park, reopen
from contracts.envelope import SourceEvent
from domain.errors import DomainError
from domain.parking import ParkingLot, Waiting
from domain.provenance import SourceRef

if TYPE_CHECKING:
    from application.service import JourneyApplication

Where = tuple[str, int, int]
"""A source record's coordinates: topic, partition, offset."""


def ingest_tracking_name(partition: TopicPartition) -> str:
    return f"ingest:{partition.topic}:{partition.partition}"


class RecordFailed(Exception):
    """Applying one source event raised what no rule names: a record error for that
    record, with what it raised as the reason."""

    def __init__(
        self,
        source: SourceRef,
        event_type: str,
        error: Exception,
        released: Waiting | None = None,
    ) -> None:
        super().__init__(
            f"record: unexpected {type(error).__name__} while applying {event_type}: {error}"[:1000]
        )
        self.source = source
        self.error = error
        self.released = released
        """The parked event it was, if it was released in this batch."""


@dataclass
class PendingBatch:
    """The effects of one partition's batch, decided but not yet stored."""

    app: JourneyApplication
    unit: UnitOfWork
    tracking: Tracking | None
    """The partition's next offset (None: the clock timer's release, stored on its own)."""
    refusals: list[tuple[SourceRef, DomainError]] = field(default_factory=list)
    """Source events a rule refused."""
    failures: list[RecordFailed] = field(default_factory=list)
    """Source events whose handler raised something unexpected; refused too."""
    parked: list[tuple[SourceRef, MissingPrerequisite]] = field(default_factory=list)
    """Source events of this batch parked, with what they wait for."""
    released: list[Waiting] = field(default_factory=list)
    """Parked events (of this batch or earlier ones, of any partition) taken out of their
    lots and applied in this batch."""
    released_refusals: list[ReleasedRefusal] = field(default_factory=list)
    """Parked events taken out of their lots and refused: dead-lettered from what their
    lot kept, with their own source coordinates."""
    cache: AggregateCache | None = None

    def refused(self) -> list[tuple[SourceRef, Exception]]:
        """Every refused source event of the batch with its reason, in offset order."""
        both: list[tuple[SourceRef, Exception]] = [*self.refusals]
        both += [(failure.source, failure) for failure in self.failures]
        return sorted(both, key=lambda refusal: refusal[0].offset)

    def commit(self) -> None:
        """Store the new events and the partition's next offset in one transaction."""
        recordings = self.app.events.put(self.unit.events, tracking=self.tracking)
        if self.cache is not None:
            self.cache.settle(self.unit.known(), [r.notification.id for r in recordings])


def _where(source: SourceRef) -> Where:
    return (source.topic, source.partition, source.offset)


def decide(
    app: JourneyApplication,
    partition: TopicPartition,
    events: Sequence[tuple[SourceRef, SourceEvent]],
    next_offset: int,
    cache: AggregateCache | None = None,
) -> PendingBatch:
    """Apply a partition's valid source events to their aggregates, in offset order.
    ``commit()`` stores the result together with ``next_offset`` as the partition's new
    position. With a ``cache`` (one per worker) aggregates come from it when it still holds
    them as stored, and the ids the batch's creating events look up (and the lots that
    could wait for them) are asked about in one query."""
    tracking = Tracking(ingest_tracking_name(partition), next_offset)
    return _decided(app, tracking, events, (), cache)


def release_arrived(app: JourneyApplication, arrived: Sequence[UUID]) -> PendingBatch:
    """The events waiting for the ``arrived`` aggregates, tried as if those had just been
    created: what the clock timer does for lots whose prerequisite another member stored
    while this one parked. ``commit()`` stores the result without a position; the lots'
    versions make a race with the ingest fail one side's commit."""
    return _decided(app, None, (), arrived, None)


def _decided(
    app: JourneyApplication,
    tracking: Tracking | None,
    events: Sequence[tuple[SourceRef, SourceEvent]],
    arrived: Sequence[UUID],
    cache: AggregateCache | None,
) -> PendingBatch:
    failed: dict[Where, RecordFailed] = {}
    while True:
        try:
            pending = _decide(app, tracking, events, arrived, cache, failed)
        except RecordFailed as failure:
            failed[_where(failure.source)] = failure
            if cache is not None:
                cache.clear()
            continue
        pending.failures = sorted(
            (f for f in failed.values() if f.released is None), key=lambda f: f.source.offset
        )
        return pending


def _decide(
    app: JourneyApplication,
    tracking: Tracking | None,
    events: Sequence[tuple[SourceRef, SourceEvent]],
    arrived: Sequence[UUID],
    cache: AggregateCache | None,
    failed: dict[Where, RecordFailed],
) -> PendingBatch:
    if cache is not None:
        cache.begin()
    pending = PendingBatch(
        app=app,
        unit=UnitOfWork(app.repository, app.personal, cache),
        tracking=tracking,
        cache=cache,
    )
    existing = app.existing_ids
    if cache is not None and existing is not None:
        new = [i for _, event in events for i in HANDLERS.of(event).new_ids(event)]
        pending.unit.prefetch([*new, *lot_ids(new)], existing)
    for source, event in events:
        failure = failed.get(_where(source))
        # A record that failed as itself is left out; one that failed once released from
        # its lot is parked again and refused when released (below).
        if failure is None or failure.released is not None:
            _Cascade(app, pending, failed).run(source, event)
    if arrived:
        _Cascade(app, pending, failed).release(arrived)
    return pending


FromLot = tuple[Waiting, ParkingLot]
"""A parked event being let in, and the lot it waits in."""


class _Cascade:
    """One source event, then the parked events it lets in, in event-time order."""

    def __init__(
        self, app: JourneyApplication, pending: PendingBatch, failed: dict[Where, RecordFailed]
    ) -> None:
        self._app = app
        self._pending = pending
        self._unit = pending.unit
        self._failed = failed
        self._due: list[tuple[datetime, int, Waiting, ParkingLot]] = []
        self._queued: set[str] = set()
        self._order = count()

    def run(self, source: SourceRef, event: SourceEvent) -> None:
        self._take(self._apply(source, event, None))
        self._drain()

    def release(self, arrived: Sequence[UUID]) -> None:
        self._take(arrived)
        self._drain()

    def _take(self, arrived: Iterable[UUID]) -> None:
        """Queue the events waiting for what arrived (each once at a time)."""
        for lot in lots_for(self._unit, arrived):
            for waiting in lot.in_order():
                if waiting.event_id not in self._queued:
                    self._queued.add(waiting.event_id)
                    entry = (waiting.occurred_at, next(self._order), waiting, lot)
                    heapq.heappush(self._due, entry)
        self._unit.collect()

    def _drain(self) -> None:
        while self._due:
            _, _, waiting, lot = heapq.heappop(self._due)
            self._queued.discard(waiting.event_id)
            if lot.waiting.get(waiting.event_id) is waiting:
                self._take(self._released((waiting, lot)))

    def _released(self, released: FromLot) -> list[UUID]:
        waiting, _ = released
        failure = self._failed.get(_where(waiting.source))
        if failure is not None:
            self._refuse(released, str(failure))
            return []
        again = reopen(self._app.personal, waiting)
        if isinstance(again, ReleasedRefusal):
            self._refuse(released, again.reason)
            return []
        return self._apply(waiting.source, again, released)

    def _apply(self, source: SourceRef, event: SourceEvent, released: FromLot | None) -> list[UUID]:
        """Apply one event; returns the ids it created or progressed."""
        unit = self._unit
        try:
            HANDLERS.of(event)(unit, event, source)
        except MissingPrerequisite as missing:
            unit.discard()
            self._wait(source, event, missing, released)
            return []
        except DomainError as error:
            unit.discard()
            if released is None:
                self._pending.refusals.append((source, error))
            else:
                self._refuse(released, str(error))
            return []
        except Exception as error:
            if is_infrastructure(error):
                raise
            waiting = None if released is None else released[0]
            raise RecordFailed(source, event.type, error, waiting) from error
        arrived = unit.arrivals()
        if released is not None:
            waiting, lot = released
            self._out_of(lot, waiting)
            self._pending.released.append(waiting)
        unit.collect()
        return arrived

    def _wait(
        self,
        source: SourceRef,
        event: SourceEvent,
        missing: MissingPrerequisite,
        released: FromLot | None,
    ) -> None:
        """Park the event; one released from a lot that now waits for something else moves
        to that lot (one that waits for the same, again, stays where it is)."""
        if released is not None:
            waiting, lot = released
            if lot.id != ParkingLot.create_id(missing.aggregate_id):
                self._out_of(lot, waiting)
        else:
            self._pending.parked.append((source, missing))
        park(self._unit, self._app.personal, event, source, missing)
        self._unit.collect()

    def _refuse(self, released: FromLot, reason: str) -> None:
        waiting, lot = released
        self._out_of(lot, waiting)
        envelope = opened(self._app.personal, waiting)
        self._pending.released_refusals.append(ReleasedRefusal(waiting, reason, envelope))
        self._unit.collect()

    def _out_of(self, lot: ParkingLot, waiting: Waiting) -> None:
        lot.release([waiting.event_id])
        self._unit.touch(lot)

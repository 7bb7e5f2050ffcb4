"""Deciding one partition's batch: its source events applied to their aggregates in offset
order, in one unit of work, stored with the partition's next offset in one transaction.

- A rule's refusal (``DomainError``) refuses that event; its neighbours go on.
- An event whose prerequisite is not known yet is parked (``application.parking``); an event
  that creates an aggregate releases what waits for it, applied right after it.
- An event whose handler raises something unexpected (a bug, an input no rule foresaw) may
  have left its aggregates half changed, so the batch is decided again from the store
  without it, and it is refused naming what it raised. Trouble with the store is raised.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eventsourcing.persistence import Tracking

from adapters.failures import is_infrastructure
from adapters.sourcelog.base import TopicPartition
from application.aggregate_cache import AggregateCache
from application.handlers import HANDLERS, UnitOfWork
from application.handlers.base import MissingPrerequisite
from application.parking import ReleasedRefusal, lot_ids, opened, park, release, reopen
from contracts.envelope import SourceEvent
from domain.errors import DomainError
from domain.parking import Waiting
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
    tracking: Tracking
    refusals: list[tuple[SourceRef, DomainError]] = field(default_factory=list)
    """Source events a rule refused."""
    failures: list[RecordFailed] = field(default_factory=list)
    parked: list[str] = field(default_factory=list)
    """Event ids parked in this batch (their prerequisite unknown yet)."""
    released: list[str] = field(default_factory=list)
    """Event ids released from their lots in this batch (applied, or refused below)."""
    released_refusals: list[ReleasedRefusal] = field(default_factory=list)
    """Released events that were refused: dead-lettered from what their lot kept."""
    """Source events whose handler raised something unexpected; refused too."""

    def refused(self) -> list[tuple[SourceRef, Exception]]:
        """Every refused source event with its reason, in offset order."""
        both: list[tuple[SourceRef, Exception]] = [*self.refusals]
        both += [(failure.source, failure) for failure in self.failures]
        return sorted(both, key=lambda refusal: refusal[0].offset)

    cache: AggregateCache | None = None

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
    failed: dict[Where, RecordFailed] = {}
    while True:
        try:
            pending = _decide(app, partition, events, next_offset, cache, failed)
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
    partition: TopicPartition,
    events: Sequence[tuple[SourceRef, SourceEvent]],
    next_offset: int,
    cache: AggregateCache | None,
    failed: dict[Where, RecordFailed],
) -> PendingBatch:
    if cache is not None:
        cache.begin()
    pending = PendingBatch(
        app=app,
        unit=UnitOfWork(app.repository, app.personal, cache),
        tracking=Tracking(ingest_tracking_name(partition), next_offset),
        cache=cache,
    )
    existing = app.existing_ids
    if cache is not None and existing is not None:
        new = [i for _, event in events for i in HANDLERS.of(event).new_ids(event)]
        pending.unit.prefetch([*new, *lot_ids(new)], existing)
    for source, event in events:
        if _where(source) not in failed:
            _apply(app, pending, source, event, failed)
    return pending


def _apply(
    app: JourneyApplication,
    pending: PendingBatch,
    source: SourceRef,
    event: SourceEvent,
    failed: dict[Where, RecordFailed],
) -> None:
    """Apply one source event, then whatever it released, in order."""
    unit = pending.unit
    queue: deque[tuple[SourceRef, SourceEvent, Waiting | None]] = deque([(source, event, None)])
    while queue:
        source, event, released = queue.popleft()
        try:
            HANDLERS.of(event)(unit, event, source)
        except MissingPrerequisite as missing:
            unit.discard()
            park(unit, app.personal, event, source, missing)
            pending.parked.append(event.event_id)
        except DomainError as error:
            unit.discard()
            if released is None:
                pending.refusals.append((source, error))
            else:
                envelope = opened(app.personal, released)
                pending.released_refusals.append(ReleasedRefusal(released, str(error), envelope))
            continue
        except Exception as error:
            if is_infrastructure(error):
                raise
            raise RecordFailed(source, event.type, error, released) from error
        created = unit.created_ids()
        unit.collect()
        for waiting in release(unit, created):
            pending.released.append(waiting.event_id)
            if (failure := failed.get(_where(waiting.source))) is not None:
                pending.released_refusals.append(
                    ReleasedRefusal(waiting, str(failure), opened(app.personal, waiting))
                )
                continue
            again = reopen(app.personal, waiting)
            if isinstance(again, ReleasedRefusal):
                pending.released_refusals.append(again)
            else:
                queue.append((waiting.source, again, waiting))
        unit.collect()

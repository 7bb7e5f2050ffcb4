"""The event-sourced application: source events in, aggregate events stored with the
position of the source record that caused them, in one transaction.

The store, not the log, is the truth of what has been applied: for every log partition the
store keeps the next offset to read as a tracking record (``ingest:<topic>:<partition>``),
written atomically with the aggregates' new events. A consumer resumes from there, so a
crash between the store commit and the log commit never applies a record twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    JSONTranscoder,
    ProcessRecorder,
    Tracking,
    Transcoder,
)

from adapters.failures import is_infrastructure
from adapters.privacy.keys import InMemoryCustomerKeys
from adapters.privacy.personal import PersonalData
from adapters.sourcelog.base import TopicPartition
from adapters.transcoding import FastJSONTranscoder, register_transcodings
from application.aggregate_cache import AggregateCache
from application.existing_ids import ExistingIds, existing_ids_of
from application.handlers import HANDLERS, UnitOfWork
from contracts.envelope import SourceEvent
from domain.aggregate import JourneyAggregate, outcomes_under
from domain.clocks import Outcome
from domain.errors import DomainError, NotFound
from domain.policy import policy_named
from domain.provenance import SourceRef


def ingest_tracking_name(partition: TopicPartition) -> str:
    return f"ingest:{partition.topic}:{partition.partition}"


class RecordFailed(Exception):
    """Applying one source event raised what no rule names: a record error for that
    record, with what it raised as the reason."""

    def __init__(self, source: SourceRef, event_type: str, error: Exception) -> None:
        super().__init__(
            f"record: unexpected {type(error).__name__} while applying {event_type}: {error}"[:1000]
        )
        self.source = source
        self.error = error


@dataclass
class PendingBatch:
    """The effects of one partition's batch, decided but not yet stored."""

    app: JourneyApplication
    unit: UnitOfWork
    tracking: Tracking
    refusals: list[tuple[SourceRef, DomainError]] = field(default_factory=list)
    """Source events a rule refused."""
    failures: list[RecordFailed] = field(default_factory=list)
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


class JourneyApplication(Application[UUID]):
    name = "journey"

    def __init__(
        self, env: Mapping[str, str] | None = None, personal: PersonalData | None = None
    ) -> None:
        """``personal`` seals personal fields per customer; the composition root passes the
        key store's. Without one (unit tests) keys live in memory: still sealed."""
        super().__init__(env)
        self.personal = personal or PersonalData(InMemoryCustomerKeys())
        self._existing_ids: ExistingIds | None = existing_ids_of(self.recorder)

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        if not isinstance(recorder, ProcessRecorder):  # construct_recorder makes one
            raise TypeError(f"{type(recorder).__name__} is not a ProcessRecorder")
        return recorder

    def construct_transcoder(self) -> Transcoder:
        """``FastJSONTranscoder``, unless the environment names another transcoder."""
        if self.factory.env.get(self.factory.TRANSCODER_TOPIC):
            return super().construct_transcoder()
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def advance_clock(self, aggregate_id: UUID, watermark: datetime) -> int:
        """Let the watermark breach the aggregate's overdue deadlines; returns how many
        decisions were stored (optimistic concurrency: a racing write raises
        ``IntegrityError`` and nothing is stored)."""
        aggregate: JourneyAggregate = self.repository.get(aggregate_id)
        aggregate.advance_clock(watermark)
        return len(self.save(aggregate))

    def what_if(
        self, aggregate_id: UUID, policy_version: str, as_of: datetime | None = None
    ) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
        """The aggregate's SLA outcomes under the policy it recorded and under another
        version, both as of the same time: its stored facts are replayed, never changed."""
        events = list(self.events.get(aggregate_id))
        if not events:
            raise NotFound(f"no aggregate {aggregate_id}")
        original = policy_named(getattr(events[0], "policy_version"))  # noqa: B009
        return (
            outcomes_under(events, original, as_of),
            outcomes_under(events, policy_named(policy_version), as_of),
        )

    def next_offset(self, partition: TopicPartition) -> int:
        """The offset of the first record of ``partition`` not yet applied."""
        return self.process_recorder.max_tracking_id(ingest_tracking_name(partition)) or 0

    def prepare_batch(
        self,
        partition: TopicPartition,
        events: Sequence[tuple[SourceRef, SourceEvent]],
        next_offset: int,
        cache: AggregateCache | None = None,
    ) -> PendingBatch:
        """Apply a partition's valid source events to their aggregates, in offset order.
        Events the domain refuses are returned as refusals; ``commit()`` stores the rest
        together with ``next_offset`` as the partition's new position. With a ``cache``
        (one per worker) aggregates come from it when it still holds them as stored, and
        the ids the batch's creating events look up are asked about in one query.

        An event whose handler raises something unexpected (a bug, an input no rule
        foresaw) may have left its aggregates half changed, so the batch is decided again
        from the store without it, and it is refused naming what it raised: one record's
        failure never stops the partition. Trouble with the store itself is raised."""
        failed: dict[int, RecordFailed] = {}
        while True:
            try:
                pending = self._prepare(
                    partition,
                    [(s, e) for s, e in events if s.offset not in failed],
                    next_offset,
                    cache,
                )
            except RecordFailed as failure:
                failed[failure.source.offset] = failure
                if cache is not None:
                    cache.clear()
                continue
            pending.failures = sorted(failed.values(), key=lambda f: f.source.offset)
            return pending

    def _prepare(
        self,
        partition: TopicPartition,
        events: Sequence[tuple[SourceRef, SourceEvent]],
        next_offset: int,
        cache: AggregateCache | None,
    ) -> PendingBatch:
        if cache is not None:
            cache.begin()
        pending = PendingBatch(
            app=self,
            unit=UnitOfWork(self.repository, self.personal, cache),
            tracking=Tracking(ingest_tracking_name(partition), next_offset),
            cache=cache,
        )
        if cache is not None and self._existing_ids is not None:
            pending.unit.prefetch(
                (i for _, event in events for i in HANDLERS.of(event).new_ids(event)),
                self._existing_ids,
            )
        for source, event in events:
            try:
                HANDLERS.of(event)(pending.unit, event, source)
            except DomainError as error:
                pending.refusals.append((source, error))
                pending.unit.discard()
                continue
            except Exception as error:
                if is_infrastructure(error):
                    raise
                raise RecordFailed(source, event.type, error) from error
            pending.unit.collect()
        return pending

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
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, ProcessRecorder, Tracking, Transcoding

from domain.aggregate import JourneyAggregate, outcomes_under
from domain.clocks import Outcome
from domain.errors import DomainError, NotFound
from domain.policy import policy_named
from domain.provenance import SourceRef
from journey.envelope import SourceEvent
from journey.handlers import HANDLERS, UnitOfWork
from journey.log.base import TopicPartition
from journey.privacy.keys import InMemoryCustomerKeys
from journey.privacy.personal import PersonalData


def ingest_tracking_name(partition: TopicPartition) -> str:
    return f"ingest:{partition.topic}:{partition.partition}"


class SourceRefAsDict(Transcoding):
    type = SourceRef
    name = "source_ref"

    def encode(self, obj: SourceRef) -> dict[str, Any]:
        return {
            "event_id": obj.event_id,
            "topic": obj.topic,
            "partition": obj.partition,
            "offset": obj.offset,
        }

    def decode(self, data: dict[str, Any]) -> SourceRef:
        return SourceRef(**data)


class TimedeltaAsMicroseconds(Transcoding):
    """Durations (SLA targets and actuals) stored exactly, as whole microseconds."""

    type = timedelta
    name = "timedelta_us"

    def encode(self, obj: timedelta) -> int:
        return (obj.days * 86_400 + obj.seconds) * 1_000_000 + obj.microseconds

    def decode(self, data: int) -> timedelta:
        return timedelta(microseconds=data)


@dataclass
class PendingBatch:
    """The effects of one partition's batch, decided but not yet stored."""

    app: JourneyApplication
    unit: UnitOfWork
    tracking: Tracking
    refusals: list[tuple[SourceRef, DomainError]] = field(default_factory=list)

    def commit(self) -> None:
        """Store the new events and the partition's next offset in one transaction."""
        self.app.events.put(self.unit.events, tracking=self.tracking)


class JourneyApplication(Application[UUID]):
    name = "journey"

    def __init__(
        self, env: Mapping[str, str] | None = None, personal: PersonalData | None = None
    ) -> None:
        """``personal`` seals personal fields per customer; the composition root passes the
        key store's. Without one (unit tests) keys live in memory: still sealed."""
        super().__init__(env)
        self.personal = personal or PersonalData(InMemoryCustomerKeys())

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(SourceRefAsDict())
        transcoder.register(TimedeltaAsMicroseconds())

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
    ) -> PendingBatch:
        """Apply a partition's valid source events to their aggregates, in offset order.
        Events the domain refuses are returned as refusals; ``commit()`` stores the rest
        together with ``next_offset`` as the partition's new position."""
        pending = PendingBatch(
            app=self,
            unit=UnitOfWork(self.repository, self.personal),
            tracking=Tracking(ingest_tracking_name(partition), next_offset),
        )
        for source, event in events:
            try:
                HANDLERS[event.type](pending.unit, event, source)
            except DomainError as error:
                pending.refusals.append((source, error))
                pending.unit.discard()
                continue
            pending.unit.collect()
        return pending

"""The event-sourced application: source events in, aggregate events stored with the
position of the source record that caused them, in one transaction.

The store, not the log, is the truth of what has been applied: for every log partition the
store keeps the next offset to read as a tracking record (``ingest:<topic>:<partition>``),
written atomically with the aggregates' new events. A consumer resumes from there, so a
crash between the store commit and the log commit never applies a record twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, ProcessRecorder, Tracking, Transcoding

from domain.case import Case
from domain.errors import DomainError
from domain.provenance import SourceRef
from journey.envelope import ContactOpenedV1, SourceEvent
from journey.log.base import TopicPartition

A = TypeVar("A", bound=Aggregate)


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


class UnitOfWork:
    """Aggregates loaded or created while applying one batch, and their new events in the
    order of the source records that caused them."""

    def __init__(self, repository: Repository[UUID]) -> None:
        self._repository = repository
        self._aggregates: dict[UUID, Aggregate] = {}
        self._touched: dict[UUID, Aggregate] = {}
        self.events: list[Any] = []

    def get(self, kind: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id not in self._aggregates:
            try:
                self._aggregates[aggregate_id] = self._repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        aggregate = self._aggregates[aggregate_id]
        assert isinstance(aggregate, kind)
        self._touched[aggregate_id] = aggregate
        return aggregate

    def add(self, aggregate: Aggregate) -> None:
        self._aggregates[aggregate.id] = aggregate
        self._touched[aggregate.id] = aggregate

    def collect(self) -> None:
        """Take the new events of the aggregates touched since the last call."""
        for aggregate in self._touched.values():
            self.events.extend(aggregate.collect_events())
        self._touched.clear()


Handler = Callable[[UnitOfWork, SourceEvent, SourceRef], None]
"""Applies one source event. A handler that refuses (raises ``DomainError``) must do so
before any aggregate it touched has triggered an event."""


def contact_opened(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    """A contact opens its own case, or joins the case it names (R-CH-01)."""
    data = event.data
    assert isinstance(data, ContactOpenedV1)
    case_ref = data.case_id or data.contact_id
    case = unit.get(Case, Case.create_id(case_ref))
    if case is None:
        unit.add(
            Case(
                case_ref=case_ref,
                customer_id=event.customer_id,
                contact_id=data.contact_id,
                channel=event.envelope.channel,
                classification=data.classification,
                topic=data.topic,
                store_id=data.store_id,
                agent_group=data.agent_group,
                occurred_at=event.occurred_at,
                source=source,
            )
        )
    else:
        case.join(
            contact_id=data.contact_id,
            customer_id=event.customer_id,
            channel=event.envelope.channel,
            occurred_at=event.occurred_at,
            source=source,
        )


HANDLERS: dict[str, Handler] = {
    "contact.opened": contact_opened,
}


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
            unit=UnitOfWork(self.repository),
            tracking=Tracking(ingest_tracking_name(partition), next_offset),
        )
        for source, event in events:
            try:
                HANDLERS[event.type](pending.unit, event, source)
            except DomainError as error:
                pending.refusals.append((source, error))
            pending.unit.collect()
        return pending

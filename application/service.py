"""The event-sourced application: source events in, aggregate events stored with the
position of the source record that caused them, in one transaction.

The store, not the log, is the truth of what has been applied: for every log partition the
store keeps the next offset to read as a tracking record (``ingest:<topic>:<partition>``),
written atomically with the aggregates' new events. A consumer resumes from there, so a
crash between the store commit and the log commit never applies a record twice.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    ProcessRecorder,
    Transcoder,
)

from adapters.privacy.keys import InMemoryCustomerKeys
from adapters.privacy.personal import PersonalData
from adapters.sourcelog.base import TopicPartition
from adapters.transcoding import FastJSONTranscoder, register_transcodings
from application.aggregate_cache import AggregateCache
from application.aggregate_loading import LoadMany, loader_of
from application.batches import PendingBatch, decide, ingest_tracking_name
from application.existing_ids import ExistingIds, existing_ids_of
from application.projector import mutate_in_order
from contracts.envelope import SourceEvent
from domain.aggregate import JourneyAggregate, outcomes_under
from domain.clocks import Outcome
from domain.errors import NotFound
from domain.policy import policy_named
from domain.provenance import SourceRef

CLOSE_WAIT_S = 10.0
"""How long closing waits for statements still running on other threads."""


class JourneyApplication(Application[UUID]):
    name = "journey"

    def __init__(
        self, env: Mapping[str, str] | None = None, personal: PersonalData | None = None
    ) -> None:
        """``personal`` seals personal fields per customer; the composition root passes the
        key store's. Without one (unit tests) keys live in memory: still sealed."""
        super().__init__(env)
        self.personal = personal or PersonalData(InMemoryCustomerKeys())
        self.existing_ids: ExistingIds | None = existing_ids_of(self.recorder)
        """Asks the store which of many aggregate ids exist, in one query (None: one by one)."""
        self.load_many: LoadMany | None = loader_of(self.recorder, self.mapper)
        """Loads many aggregates with one query (None: one by one)."""

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Close the store's connections once none is in use by another thread (at most
        ``wait_s``): eventsourcing's pool closes connections in use too, and CPython's
        sqlite3 closing one another thread is executing on crashes the process."""
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        in_use = getattr(pool, "num_in_use", None)
        if isinstance(in_use, int):
            deadline = time.monotonic() + wait_s
            while getattr(pool, "num_in_use", 0) and time.monotonic() < deadline:
                time.sleep(0.01)  # the pool signals returns to its own waiters only
        super().close()

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

    def journey(self, aggregate_id: UUID) -> JourneyAggregate:
        """The journey aggregate with that id, from its stored events."""
        aggregate: JourneyAggregate = self.repository.get(
            aggregate_id, projector_func=mutate_in_order
        )
        return aggregate

    def advance_clock(
        self, aggregate_id: UUID, watermark: datetime, lateness: timedelta | None = None
    ) -> int:
        """Let the watermark breach the aggregate's deadlines it is past by more than the
        allowed lateness (the aggregate's policy's, unless ``lateness`` is given); returns
        how many decisions were stored (optimistic concurrency: a racing write raises
        ``IntegrityError`` and nothing is stored)."""
        aggregate: JourneyAggregate = self.repository.get(
            aggregate_id, projector_func=mutate_in_order
        )
        aggregate.advance_clock(watermark, lateness)
        return len(self.save(aggregate))

    def advance_clocks(
        self,
        aggregate_ids: Sequence[UUID],
        watermark: datetime,
        lateness: timedelta | None = None,
    ) -> tuple[int, list[UUID]]:
        """``advance_clock`` for several aggregates, their decisions stored in one
        transaction (one commit, where one each made a catch-up wait on the disk once per
        aggregate); returns how many decisions were stored and the aggregates a write
        raced (``IntegrityError``), for a later round. Should one race, nothing of the
        batch is stored and each is advanced alone, so the race holds back only itself."""
        aggregates: list[JourneyAggregate] = []
        for aggregate in self._journeys(aggregate_ids):
            aggregate.advance_clock(watermark, lateness)
            aggregates.append(aggregate)
        try:
            return self._stored(aggregates), []
        except IntegrityError:
            pass
        decided = 0
        raced: list[UUID] = []
        for aggregate_id in aggregate_ids:
            try:
                decided += self.advance_clock(aggregate_id, watermark, lateness)
            except IntegrityError:
                raced.append(aggregate_id)
        return decided, raced

    def _stored(self, aggregates: Sequence[JourneyAggregate]) -> int:
        """Store the new events of ``aggregates`` in one transaction; returns how many.
        They are put straight into the event store, as the ingest's batches are: ``save``
        first checks every object against a runtime-checkable protocol, about 7 % of the
        timer's cProfile samples in a CFPB catch-up. ``save`` still does it when the
        application caches aggregates or takes snapshots, which only it keeps up to date
        (neither is configured today)."""
        if self.repository.cache is not None or self.snapshots is not None:
            return len(self.save(*aggregates))
        events: list[DomainEventProtocol[UUID]] = []
        for aggregate in aggregates:
            events += aggregate.collect_events()
        return len(self.events.put(events))

    def _journeys(self, aggregate_ids: Sequence[UUID]) -> list[JourneyAggregate]:
        """The journey aggregates of those ids, loaded together where the store allows
        (``application.aggregate_loading``); an id without events is not found, as for
        the repository."""
        if self.load_many is None:
            return [self.journey(aggregate_id) for aggregate_id in aggregate_ids]
        loaded = self.load_many(aggregate_ids)
        for aggregate_id in aggregate_ids:
            if aggregate_id not in loaded:
                raise AggregateNotFoundError(aggregate_id)
        return [loaded[aggregate_id] for aggregate_id in dict.fromkeys(aggregate_ids)]

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
        """Decide a partition's batch (``application.batches.decide``)."""
        return decide(self, partition, events, next_offset, cache)

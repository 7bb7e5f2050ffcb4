"""The ingest consumer: log records in, aggregate events out, exactly once in effect.

For each partition of a poll batch: decode every record, hand the valid ones to the
application, publish the refused ones to the dead-letter topic (durably, first), then
store the new events with the partition's next offset in one transaction, then commit
the offset to the log (for lag monitoring only). A valid record whose prerequisite is not
known yet is parked in that transaction (``domain.parking``); a parked event the batch
lets in and a rule refuses is dead-lettered with the batch's own refusals. On assignment
it resumes from the offset stored with the events, never from the log's committed offset.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import IntegrityError
from prometheus_client import CollectorRegistry

from adapters.collector import tune_collector
from adapters.metrics import IngestMetrics
from adapters.sourcelog.base import LogConsumer, Record, TopicPartition, describe_partitions
from application.aggregate_cache import AggregateCache
from application.service import JourneyApplication
from consumers.deadletters import DeadLetter, DeadLetterSink
from consumers.parked import parked_letter
from contracts.envelope import InvalidEvent, Problem, SourceEvent, decode
from domain.provenance import SourceRef

logger = logging.getLogger(__name__)


def log_time(record: Record) -> datetime:
    """The log's time of ``record``, or :class:`InvalidEvent` naming ``timestamp`` when it is
    outside what a datetime holds (Kafka carries any 64-bit integer, -1 for none)."""
    try:
        if record.timestamp_ms < 0:
            raise ValueError("negative")
        return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidEvent(
            [Problem("timestamp", f"{record.timestamp_ms} ms is not a time the log can have")]
        ) from None


def decode_record(record: Record, *, max_future: timedelta, max_bytes: int) -> SourceEvent:
    """The source event ``record`` carries, or :class:`InvalidEvent` naming what is wrong
    with it: a tombstone, a time the log cannot have, or what ``contracts.envelope.decode``
    refuses. Whatever shape the record has, nothing else is raised."""
    if record.null_value:
        raise InvalidEvent(
            [Problem("value", "null (a tombstone); a source record carries one JSON event")]
        )
    # Event time is judged against the log's own time of the record, so a replay
    # decides exactly as live processing did.
    received = log_time(record)
    return decode(record.value, now=received, max_future=max_future, max_bytes=max_bytes)


def unexpected(stage: str, error: Exception) -> str:
    """The reason of a record that raised something no rule names: a record error."""
    return f"record: unexpected {type(error).__name__} while {stage}: {error}"[:1000]


class IngestWorker:
    def __init__(
        self,
        consumer: LogConsumer,
        app: JourneyApplication,
        dead_letters: DeadLetterSink,
        topics: Sequence[str],
        *,
        max_future: timedelta,
        max_record_bytes: int,
        max_records: int = 500,
        on_applied: threading.Event | None = None,
        metrics: IngestMetrics | None = None,
        cache: AggregateCache | None = None,
        beat: Callable[[], None] | None = None,
        after_stored: Callable[[TopicPartition, int], None] | None = None,
    ) -> None:
        """``after_stored`` is told each partition's next offset once a batch of it is
        stored (the embedded log then blanks erased customers' records applied so far)."""
        self._consumer = consumer
        self._app = app
        self._dead_letters = dead_letters
        self._topics = list(topics)
        self._max_future = max_future
        self._max_record_bytes = max_record_bytes
        self._max_records = max_records
        self._on_applied = on_applied
        self._cache = cache
        self._beat = beat
        self._after_stored = after_stored
        self._cache_counted = (0, 0, 0)
        # Without a registry from the composition root, count into one of our own.
        self._metrics = metrics if metrics is not None else IngestMetrics(CollectorRegistry())
        self.applied = 0

    def start(self) -> None:
        tune_collector()
        self._consumer.subscribe(self._topics, self._resume, self._revoked)

    def _resume(self, partitions: list[TopicPartition]) -> None:
        for partition in partitions:
            offset = self._app.next_offset(partition)
            logger.debug("%s resumes at stored offset %d", partition, offset)
            self._consumer.seek(partition, offset)
        logger.info(
            "assigned %d partitions: %s (resuming at the offsets stored with the events)",
            len(partitions),
            describe_partitions(partitions),
            extra={"partitions": len(partitions)},
        )

    def _revoked(self, partitions: list[TopicPartition]) -> None:
        logger.info(
            "revoked %d partitions: %s",
            len(partitions),
            describe_partitions(partitions),
            extra={"partitions": len(partitions)},
        )
        if self._cache is not None:
            # Whoever takes these partitions over writes to their aggregates.
            self._cache.clear()

    def _decode(self, record: Record) -> SourceEvent:
        return decode_record(record, max_future=self._max_future, max_bytes=self._max_record_bytes)

    def apply(self, partition: TopicPartition, records: Sequence[Record]) -> None:
        started = time.perf_counter()
        valid: list[tuple[SourceRef, SourceEvent]] = []
        letters: list[DeadLetter] = []
        by_offset = {r.offset: r for r in records}
        for record in records:
            try:
                event = self._decode(record)
            except InvalidEvent as error:
                letters.append(DeadLetter(record, str(error)))
                continue
            except Exception as error:  # a record error, never the worker's end
                logger.exception("unexpected error decoding %s", record.coordinates)
                letters.append(DeadLetter(record, unexpected("decoding", error)))
                continue
            ref = SourceRef(event.event_id, record.topic, record.partition, record.offset)
            valid.append((ref, event))
        next_offset = records[-1].offset + 1
        pending = self._app.prepare_batch(partition, valid, next_offset, self._cache)
        letters += [DeadLetter(by_offset[ref.offset], str(err)) for ref, err in pending.refused()]
        letters.sort(key=lambda letter: letter.record.offset)
        # Parked events this batch let in and a rule then refused: from their own partition.
        released = [
            parked_letter(r.waiting, r.reason, r.envelope) for r in pending.released_refusals
        ]
        self._dead_letters.send([*letters, *released])
        self._metrics.dead_lettered(partition.topic, [letter.reason for letter in letters])
        for letter in released:
            self._metrics.dead_lettered(letter.record.topic, [letter.reason])
        try:
            pending.commit()
        except IntegrityError:
            # Another member stored a later position for this partition (we lost it in a
            # rebalance): drop our work and resume from what the store holds.
            # Or a write to one of its aggregates raced ours (the clock timer): either way
            # what we hold in memory is not what is stored.
            logger.warning("%s moved on in the store; resuming from there", partition)
            if self._cache is not None:
                self._cache.clear()
            self._consumer.seek(partition, self._app.next_offset(partition))
            return
        parked = len(pending.parked)
        if parked:
            logger.info(
                "%s: %d events parked until what they refer to arrives",
                partition,
                parked,
                extra={"partition": str(partition), "parked": parked},
            )
        self.applied += len(valid) - len(pending.refused()) - parked + len(pending.released)
        self._consumer.commit({partition: next_offset})
        if self._after_stored is not None:
            self._after_stored(partition, next_offset)
        # A record changed something if one of the new events came from it (a parked one
        # records its lot's event, not a fact with it as its source).
        changed = {
            source.offset
            for event in pending.unit.events
            if isinstance(source := getattr(event, "source", None), SourceRef)
            and (source.topic, source.partition) == (partition.topic, partition.partition)
        }
        applied = {ref.offset for ref, _ in valid if ref.offset in changed}
        # Each record counts once, as what became of it by the end of the batch: one parked
        # and let in by a later record of the batch was applied, or refused from its lot.
        refused = {letter.record.offset for letter in letters} | {
            r.waiting.source.offset
            for r in pending.released_refusals
            if r.waiting.source.offset in by_offset
            and (r.waiting.source.topic, r.waiting.source.partition)
            == (partition.topic, partition.partition)
        }
        waiting = {ref.offset for ref, _ in pending.parked} - applied - refused
        self._metrics.batch_stored(
            partition.topic,
            applied=len(applied),
            refused=len(refused),
            parked=len(waiting),
            ignored=len(records) - len(applied | refused | waiting),
            seconds=time.perf_counter() - started,
        )
        if self._cache is not None:
            self._count_cache(self._cache)
        if self._on_applied is not None:
            self._on_applied.set()

    def _count_cache(self, cache: AggregateCache) -> None:
        hits, misses, forgotten = self._cache_counted
        self._metrics.cache_used(
            hits=cache.hits - hits,
            misses=cache.misses - misses,
            forgotten=cache.evicted_for_others - forgotten,
        )
        self._cache_counted = (cache.hits, cache.misses, cache.evicted_for_others)

    def run_once(self, timeout_s: float = 0.5) -> int:
        batches = self._consumer.poll(timeout_s, self._max_records)
        for partition, records in sorted(batches.items()):
            self.apply(partition, records)
        return sum(len(records) for records in batches.values())

    def close(self) -> None:
        """Leave the group."""
        self._consumer.close()

    def run(self, stop: threading.Event) -> None:
        self.start()
        try:
            while not stop.is_set():
                self.run_once()
                if self._beat is not None:
                    self._beat()
        finally:
            self.close()

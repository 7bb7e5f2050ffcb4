"""Refused records go to the dead-letter topic with their original bytes, the reason
naming the field or the rule, and the coordinates they came from.

They are read back from the beginning of that topic by a consumer of its own (a fresh
group that never commits, so the ingest group is never disturbed), listed with personal
fields masked, and replayed: their original bytes go back to their source topic with
their key, so they keep their ``event_id``. A replayed letter that is still invalid is
simply dead-lettered again; one whose ``event_id`` was applied meanwhile has no effect.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson

from adapters.privacy.records import Shown, shown
from adapters.privacy.tokens import ERASED
from adapters.sourcelog.base import (
    Coordinates,
    Headers,
    Log,
    LogPublisher,
    LogUnavailable,
    OutgoingRecord,
    Record,
    TopicPartition,
)


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    reason: str


class DeadLetterSink:
    def __init__(self, publisher: LogPublisher, topic: str) -> None:
        self._publisher = publisher
        self._topic = topic
        self.count = 0

    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Publish durably; returns once the log has acknowledged every letter."""
        if not letters:
            return
        self._publisher.publish_many(
            [
                OutgoingRecord(
                    topic=self._topic,
                    key=letter.record.key,
                    value=letter.record.value,
                    headers=(
                        ("reason", letter.reason.encode()),
                        ("source_topic", letter.record.topic.encode()),
                        ("source_partition", str(letter.record.partition).encode()),
                        ("source_offset", str(letter.record.offset).encode()),
                    ),
                )
                for letter in letters
            ]
        )
        self.count += len(letters)


def _text(coordinates: Coordinates) -> str:
    return f"{coordinates.topic}:{coordinates.partition}:{coordinates.offset}"


@dataclass(frozen=True)
class StoredDeadLetter:
    """A record of the dead-letter topic, read back."""

    record: Record

    @property
    def source(self) -> Coordinates | None:
        """Where the refused record was, from the headers the sink wrote."""
        topic = self.record.header("source_topic")
        partition = self.record.header("source_partition")
        offset = self.record.header("source_offset")
        if topic is None or partition is None or offset is None:
            return None
        return Coordinates(topic.decode(), int(partition), int(offset))

    @property
    def reason(self) -> str:
        return (self.record.header("reason") or b"").decode(errors="replace")

    @property
    def original(self) -> bytes:
        return self.record.value

    @cached_property
    def _envelope(self) -> dict[str, Any] | None:
        try:
            body = orjson.loads(self.record.value)
        except orjson.JSONDecodeError:
            return None
        return body if isinstance(body, dict) else None

    def _field(self, name: str) -> str | None:
        value = (self._envelope or {}).get(name)
        return value if isinstance(value, str) else None

    @property
    def event_id(self) -> str | None:
        return self._field("event_id")

    @property
    def type(self) -> str | None:
        return self._field("type")

    @property
    def customer_id(self) -> str | None:
        """Whose record it was: the record key (channels key by customer), else the
        envelope's ``customer_id``."""
        if self.record.key:
            return self.record.key.decode(errors="replace")
        return self._field("customer_id")

    @property
    def schema_version(self) -> int | None:
        value = (self._envelope or {}).get("schema_version")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def display(self, limit: int = 500, erased: bool = False) -> tuple[str, Shown, bool]:
        """The original bytes as text for people, cut at ``limit`` characters; how they were
        made safe to show (``adapters.privacy.records``: personal fields masked, or opaque
        when nested too deep to walk); and whether the text was cut. Nothing of the original
        is shown once its customer is ``erased``."""
        if erased:
            return ERASED, "erased", False
        text, how = shown(self.record.value)
        return (text[:limit], how, True) if len(text) > limit else (text, how, False)

    def replay_record(self) -> OutgoingRecord:
        """The original bytes, to their source topic, with their key; headers as a channel
        publishing them sets them, where the bytes tell them."""
        source = self.source
        if source is None:
            raise ValueError(f"dead letter {_text(self.record.coordinates)} has no source")
        headers: Headers = tuple(
            (name, value.encode())
            for name, value in (
                ("event_id", self.event_id),
                ("type", self.type),
                (
                    "schema_version",
                    None if self.schema_version is None else str(self.schema_version),
                ),
            )
            if value is not None
        )
        return OutgoingRecord(source.topic, self.record.key, self.record.value, headers)

    def as_json(self, limit: int = 500, erased: bool = False) -> dict[str, Any]:
        original, how, truncated = self.display(limit, erased)
        source = self.source
        return {
            "dead_letter": _text(self.record.coordinates),
            "source": None if source is None else _text(source),
            "source_topic": None if source is None else source.topic,
            "source_partition": None if source is None else source.partition,
            "source_offset": None if source is None else source.offset,
            "event_id": self.event_id,
            "type": self.type,
            "reason": self.reason,
            "original": original,
            "original_shown": how,
            "original_bytes": len(self.record.value),
            "truncated": truncated,
        }


def read_dead_letters(
    log: Log,
    topic: str,
    *,
    group_prefix: str = "journey-deadletters",
    timeout_s: float = 60,
    idle_s: float = 5,
) -> list[StoredDeadLetter]:
    """Every letter on ``topic`` up to its end when called, ordered by source coordinates.

    A fresh consumer group reads from offset 0 and never commits. It stops when every
    partition reached the end offsets taken at the start, or when, once assigned, nothing
    more arrived for ``idle_s`` (the letters missing up to the ends were deleted by the
    topic's retention); it fails if the group assigns it nothing within ``timeout_s``."""
    admin = log.admin()
    try:
        partitions = [TopicPartition(topic, p) for p in range(admin.partitions_for(topic))]
        ends = {tp: end for tp, end in admin.end_offsets(partitions).items() if end > 0}
    finally:
        admin.close()
    if not ends:
        return []
    consumer = log.consumer(f"{group_prefix}-{uuid.uuid4().hex[:12]}")
    assigned_at: float | None = None

    def from_the_beginning(assigned: list[TopicPartition]) -> None:
        nonlocal assigned_at
        for tp in assigned:
            consumer.seek(tp, 0)
        assigned_at = time.monotonic()

    consumer.subscribe([topic], from_the_beginning, lambda _: None)
    letters: list[StoredDeadLetter] = []
    reached = dict.fromkeys(ends, 0)
    started = last_record = time.monotonic()
    try:
        while any(reached[tp] < end for tp, end in ends.items()):
            now = time.monotonic()
            if assigned_at is None:
                if now - started > timeout_s:
                    raise LogUnavailable(f"{topic} was not assigned within {timeout_s:g} s")
            elif now - max(assigned_at, last_record) > idle_s:
                break  # what is missing up to the ends was deleted by retention
            for tp, records in consumer.poll(0.5, 1000).items():
                if tp not in ends:
                    continue
                letters += [StoredDeadLetter(r) for r in records if r.offset < ends[tp]]
                reached[tp] = max(reached[tp], records[-1].offset + 1)
                last_record = time.monotonic()
    finally:
        consumer.close()
    return sorted(letters, key=_order)


def _order(letter: StoredDeadLetter) -> tuple[str, int, int, int, int]:
    source = letter.source or Coordinates("", -1, -1)
    here = letter.record
    return (source.topic, source.partition, source.offset, here.partition, here.offset)


def select(
    letters: Iterable[StoredDeadLetter],
    *,
    sources: Sequence[Coordinates] = (),
    all_from: str | None = None,
) -> list[StoredDeadLetter]:
    """The letters of the given source coordinates, or every letter from ``all_from``,
    one per source record (dead letters are at least once: a record may have several).
    Raises ``LookupError`` naming the coordinates that have no letter."""
    first: dict[Coordinates, StoredDeadLetter] = {}
    for letter in letters:
        source = letter.source
        if source is not None and source not in first:
            first[source] = letter
    if all_from is not None:
        return [letter for source, letter in first.items() if source.topic == all_from]
    missing = [_text(s) for s in sources if s not in first]
    if missing:
        raise LookupError(f"no dead letter comes from {', '.join(missing)}")
    return [first[s] for s in dict.fromkeys(sources)]


def replay(
    letters: Sequence[StoredDeadLetter], publisher: LogPublisher, ingress: Collection[str]
) -> list[Coordinates]:
    """Publish the letters' original bytes back to their source topics (ingress topics
    only); returns where each landed, in order."""
    records = [letter.replay_record() for letter in letters]
    outside = sorted({r.topic for r in records} - set(ingress))
    if outside:
        raise ValueError(f"not an ingress topic: {', '.join(outside)}")
    return publisher.publish_many(records)

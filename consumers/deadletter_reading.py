"""Reading the dead-letter topic back: every letter (to replay them), or one page of the
letters a filter admits, oldest first, resumable from an opaque cursor.

A fresh consumer group reads from the positions asked for and never commits, so the ingest
group is never disturbed. Its partitions are merged by the time each letter was written
(then partition, then offset), and a page's cursor holds, per partition, the offset after
the last letter it passed over: the next page continues the same merge from there, so
every letter is seen once however the pages are cut, and letters written meanwhile come
on later pages.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections import deque
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass

import orjson

from adapters.sourcelog.base import Coordinates, Log, LogUnavailable, Record, TopicPartition
from application.deadletter_query import DeadLetterFilter, InvalidCursor
from consumers.deadletters import StoredDeadLetter

MAX_CURSOR_PARTITIONS = 10_000


def encode_cursor(positions: dict[int, int]) -> str:
    """Per partition of the topic, where the next page starts."""
    listed = [positions.get(p, 0) for p in range(max(positions, default=-1) + 1)]
    return base64.urlsafe_b64encode(orjson.dumps(listed)).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[int, int]:
    try:
        listed = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidCursor("cursor: not a cursor from a previous page") from None
    if (
        not isinstance(listed, list)
        or len(listed) > MAX_CURSOR_PARTITIONS
        or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in listed)
    ):
        raise InvalidCursor("cursor: not a cursor from a previous page")
    return dict(enumerate(listed))


class _Scan:
    """The letters of ``topic`` from ``starts`` (partition → offset; 0 when absent) up to
    the end offsets taken when made, merged by time. ``next`` tells, per partition, the
    offset after the last letter yielded."""

    def __init__(
        self,
        log: Log,
        topic: str,
        starts: dict[int, int],
        group_prefix: str,
        timeout_s: float,
        idle_s: float,
    ) -> None:
        admin = log.admin()
        try:
            partitions = [TopicPartition(topic, p) for p in range(admin.partitions_for(topic))]
            self.ends = admin.end_offsets(partitions)
        finally:
            admin.close()
        self.next = {tp: starts.get(tp.partition, 0) for tp in partitions}
        self._log, self._topic, self._group_prefix = log, topic, group_prefix
        self._timeout_s, self._idle_s = timeout_s, idle_s

    @property
    def written(self) -> int:
        """Letters ever written to the topic (the sum of its end offsets)."""
        return sum(self.ends.values())

    @property
    def exhausted(self) -> bool:
        return all(self.next[tp] >= end for tp, end in self.ends.items())

    def positions(self) -> dict[int, int]:
        return {tp.partition: offset for tp, offset in self.next.items()}

    def records(self) -> Generator[Record, None, None]:
        ends = self.ends
        reached = {tp: self.next[tp] for tp in ends if self.next[tp] < ends[tp]}
        if not reached:
            return
        buffers: dict[TopicPartition, deque[Record]] = {tp: deque() for tp in reached}
        consumer = self._log.consumer(f"{self._group_prefix}-{uuid.uuid4().hex[:12]}")
        assigned_at: float | None = None

        def resume(assigned: list[TopicPartition]) -> None:
            nonlocal assigned_at
            for tp in assigned:
                consumer.seek(tp, reached.get(tp, self.next.get(tp, 0)))
            assigned_at = time.monotonic()

        consumer.subscribe([self._topic], resume, lambda _: None)
        started = last_record = time.monotonic()
        try:
            while True:
                waiting = [tp for tp in reached if not buffers[tp] and reached[tp] < ends[tp]]
                if not waiting:
                    heads = [buffer[0] for buffer in buffers.values() if buffer]
                    if not heads:
                        return
                    first = min(heads, key=lambda r: (r.timestamp_ms, r.partition, r.offset))
                    tp = TopicPartition(first.topic, first.partition)
                    buffers[tp].popleft()
                    self.next[tp] = first.offset + 1
                    yield first
                    continue
                now = time.monotonic()
                if assigned_at is None:
                    if now - started > self._timeout_s:
                        raise LogUnavailable(
                            f"{self._topic} was not assigned within {self._timeout_s:g} s"
                        )
                elif now - max(assigned_at, last_record) > self._idle_s:
                    for tp in waiting:  # what is missing up to the end was deleted by retention
                        reached[tp] = self.next[tp] = ends[tp]
                    continue
                for tp, records in consumer.poll(0.5, 1000).items():
                    if tp not in reached:
                        continue
                    fresh = [r for r in records if reached[tp] <= r.offset < ends[tp]]
                    buffers[tp].extend(fresh)
                    reached[tp] = max(reached[tp], records[-1].offset + 1)
                    last_record = time.monotonic()
        finally:
            consumer.close()


@dataclass(frozen=True)
class DeadLetterPage:
    items: list[StoredDeadLetter]
    next_cursor: str | None
    """Where the next page starts; None when this page reached the topic's end."""
    written: int
    """Letters ever written to the topic, whatever the filter."""


def read_page(
    log: Log,
    topic: str,
    where: DeadLetterFilter,
    cursor: str | None = None,
    limit: int | None = None,
    *,
    group_prefix: str = "journey-deadletters",
    timeout_s: float = 60,
    idle_s: float = 5,
) -> DeadLetterPage:
    """The letters ``where`` admits from ``cursor`` on, oldest first, at most ``limit``
    (None: all up to the topic's end). Raises ``InvalidCursor`` for a cursor no page gave."""
    scan = _Scan(
        log, topic, decode_cursor(cursor) if cursor else {}, group_prefix, timeout_s, idle_s
    )
    items: list[StoredDeadLetter] = []
    with closing(scan.records()) as records:  # closing it closes its consumer
        for record in records:
            letter = StoredDeadLetter(record)
            if letter.matches(where):
                items.append(letter)
                if len(items) == limit:
                    break
    next_cursor = None if scan.exhausted else encode_cursor(scan.positions())
    return DeadLetterPage(items, next_cursor, scan.written)


def read_dead_letters(
    log: Log,
    topic: str,
    *,
    group_prefix: str = "journey-deadletters",
    timeout_s: float = 60,
    idle_s: float = 5,
) -> list[StoredDeadLetter]:
    """Every letter on ``topic`` up to its end when called, ordered by source coordinates.

    It stops when every partition reached the end offsets taken at the start, or when, once
    assigned, nothing more arrived for ``idle_s`` (the letters missing up to the ends were
    deleted by the topic's retention); it fails if the group assigns it nothing within
    ``timeout_s``."""
    page = read_page(
        log,
        topic,
        DeadLetterFilter(),
        group_prefix=group_prefix,
        timeout_s=timeout_s,
        idle_s=idle_s,
    )
    return sorted(page.items, key=_order)


def _order(letter: StoredDeadLetter) -> tuple[str, int, int, int, int]:
    source = letter.source or Coordinates("", -1, -1)
    here = letter.record
    return (source.topic, source.partition, source.offset, here.partition, here.offset)

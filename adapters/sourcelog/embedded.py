"""An embedded source log in one SQLite file, with the contract of ``adapters.sourcelog.base``.

It is what ``make run`` uses so that one process and no broker is enough, and it keeps
Kafka's shape so that the code above it does not change when Kafka replaces it: topics with
a fixed number of partitions, keys hashed to partitions with Kafka's own murmur2, dense
offsets per partition, consumer groups whose committed offsets are stored.

Like a Kafka topic it keeps records for a bounded retention (``retention_ms``, by append
time; offsets never reused), and it blanks erased customers' records (``forget``): see
``adapters.sourcelog.embedded_upkeep``.

Limits, by design: a consumer group has one member at a time here (embedded mode is one
process); publishers in other processes are seen by polling the file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson
from kafka.partitioner import murmur2

from adapters.sourcelog import embedded_upkeep as upkeep
from adapters.sourcelog.base import (
    AssignmentCallback,
    Coordinates,
    Log,
    LogAdmin,
    LogConsumer,
    LogPublisher,
    OutgoingRecord,
    Record,
    TopicPartition,
    TopicSpec,
)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS log_topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS log_records ("
    " topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,"
    " key BLOB, value BLOB NOT NULL, headers BLOB NOT NULL, timestamp_ms INTEGER NOT NULL,"
    " PRIMARY KEY (topic, partition, offset)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS log_group_offsets ("
    " group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,"
    " offset INTEGER NOT NULL, PRIMARY KEY (group_id, topic, partition)) WITHOUT ROWID",
)

# How often a waiting consumer looks at the file for records written by another process.
_CROSS_PROCESS_POLL_S = 0.05
# How often, at most, appending also deletes the records past the retention.
RETENTION_EVERY_S = 3600.0

logger = logging.getLogger(__name__)


def partition_for(key: bytes | None, partitions: int) -> int:
    """Kafka's default partitioner for keyed records (murmur2, positive, modulo)."""
    if key is None:
        return 0
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


class UnknownTopic(LookupError):
    def __init__(self, topic: str) -> None:
        super().__init__(f"topic {topic!r} does not exist; create it first")
        self.topic = topic


class EmbeddedLog(Log):
    """Owns the SQLite file; hands out admin, publishers and consumers that share it.
    Records appended more than ``retention_ms`` ago are deleted (None: kept), on opening
    and then at most every ``RETENTION_EVERY_S`` while appending."""

    def __init__(self, path: Path, retention_ms: int | None = None) -> None:
        self.path = path
        self.retention_ms = retention_ms
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._appended = threading.Condition()
        self._conn = self.connect()
        with self._write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
            upkeep.create(conn)
        self._retention_due = 0.0
        self.apply_retention()

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # Deleted and blanked records are overwritten with zeros, not left in free pages.
        conn.execute("PRAGMA secure_delete=ON")
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def partitions_for(self, topic: str) -> int:
        rows = self.read("SELECT partitions FROM log_topics WHERE name = ?", (topic,))
        if not rows:
            raise UnknownTopic(topic)
        count: int = rows[0][0]  # type: ignore[assignment]
        return count

    def append(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        now_ms = int(time.time() * 1000)
        counts = {topic: self.partitions_for(topic) for topic in {r.topic for r in records}}
        placed: list[Coordinates] = []
        with self._write() as conn:
            next_offsets: dict[tuple[str, int], int] = {}
            for record in records:
                partition = partition_for(record.key, counts[record.topic])
                slot = (record.topic, partition)
                if slot not in next_offsets:
                    next_offsets[slot] = upkeep.next_offset(conn, *slot)
                offset = next_offsets[slot]
                next_offsets[slot] = offset + 1
                conn.execute(
                    "INSERT INTO log_records VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.topic,
                        partition,
                        offset,
                        record.key,
                        record.value,
                        orjson.dumps([[k, v.decode("latin-1")] for k, v in record.headers]),
                        now_ms,
                    ),
                )
                placed.append(Coordinates(record.topic, partition, offset))
            for (topic, partition), offset in next_offsets.items():
                upkeep.set_next_offset(conn, topic, partition, offset)
        with self._appended:
            self._appended.notify_all()
        if time.monotonic() >= self._retention_due:
            self.apply_retention()
        return placed

    def apply_retention(self, now_ms: int | None = None) -> int:
        """Delete the records appended more than ``retention_ms`` before ``now_ms`` (now);
        how many. Offsets go on from where they were."""
        self._retention_due = time.monotonic() + RETENTION_EVERY_S
        if self.retention_ms is None:
            return 0
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self._write() as conn:
            deleted = upkeep.expire(conn, now_ms - self.retention_ms)
        if deleted:
            self._scrub()
        return deleted

    def forget(
        self,
        keys: Collection[bytes],
        applied: Mapping[TopicPartition, int],
        unbounded: Collection[str],
    ) -> None:
        if not keys and not self.read("SELECT 1 FROM log_forgotten LIMIT 1"):
            return  # nobody erased: the usual case after every stored batch, and cheap
        with self._write() as conn:
            blanked = upkeep.forget(conn, keys, applied, unbounded)
        if blanked:
            self._scrub()

    def _scrub(self) -> None:
        with self._lock:
            if not upkeep.scrub(self._conn):
                logger.warning("%s: a reader kept part of the write-ahead log", self.path)

    def fetch(self, partition: TopicPartition, offset: int, limit: int) -> list[Record]:
        rows = self.read(
            "SELECT offset, key, value, headers, timestamp_ms FROM log_records"
            " WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
            (partition.topic, partition.partition, offset, limit),
        )
        return [
            Record(
                topic=partition.topic,
                partition=partition.partition,
                offset=int(off),  # type: ignore[call-overload]
                key=key,  # type: ignore[arg-type]
                value=value,  # type: ignore[arg-type]
                headers=tuple(
                    (k, v.encode("latin-1"))
                    for k, v in orjson.loads(headers)  # type: ignore[arg-type]
                ),
                timestamp_ms=int(ts),  # type: ignore[call-overload]
            )
            for off, key, value, headers, ts in rows
        ]

    def wait_for_append(self, timeout_s: float) -> None:
        """Block until a record is appended in this process, or a short while passes so
        that appends from other processes are noticed too."""
        with self._appended:
            self._appended.wait(min(timeout_s, _CROSS_PROCESS_POLL_S))

    def admin(self) -> EmbeddedAdmin:
        return EmbeddedAdmin(self)

    def publisher(self) -> EmbeddedPublisher:
        return EmbeddedPublisher(self)

    def consumer(self, group_id: str) -> EmbeddedConsumer:
        return EmbeddedConsumer(self, group_id)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class EmbeddedAdmin(LogAdmin):
    def __init__(self, log: EmbeddedLog) -> None:
        self._log = log

    def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        created = []
        with self._log._write() as conn:
            for spec in specs:
                cursor = conn.execute(
                    "INSERT INTO log_topics VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    (spec.name, spec.partitions),
                )
                if cursor.rowcount:
                    created.append(spec.name)
        return created

    def partitions_for(self, topic: str) -> int:
        return self._log.partitions_for(topic)

    def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        ends = {}
        for tp in partitions:
            row = self._log.read(
                "SELECT next_offset FROM log_ends WHERE topic = ? AND partition = ?",
                (tp.topic, tp.partition),
            )
            ends[tp] = int(row[0][0]) if row else 0  # type: ignore[call-overload]
        return ends


class EmbeddedPublisher(LogPublisher):
    def __init__(self, log: EmbeddedLog) -> None:
        self._log = log

    def publish_many(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        return self._log.append(records) if records else []


class EmbeddedConsumer(LogConsumer):
    def __init__(self, log: EmbeddedLog, group_id: str) -> None:
        self._log = log
        self._group_id = group_id
        self._topics: list[str] = []
        self._positions: dict[TopicPartition, int] = {}
        self._pending_assignment = False
        self._on_assigned: AssignmentCallback = lambda _: None
        self._on_revoked: AssignmentCallback = lambda _: None

    def subscribe(
        self,
        topics: Sequence[str],
        on_assigned: AssignmentCallback,
        on_revoked: AssignmentCallback,
    ) -> None:
        self._topics = list(topics)
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked
        self._pending_assignment = True

    def _assign(self) -> None:
        partitions = [
            TopicPartition(topic, p)
            for topic in self._topics
            for p in range(self._log.partitions_for(topic))
        ]
        committed = {
            TopicPartition(str(t), int(p)): int(o)  # type: ignore[call-overload]
            for t, p, o in self._log.read(
                "SELECT topic, partition, offset FROM log_group_offsets WHERE group_id = ?",
                (self._group_id,),
            )
        }
        self._positions = {tp: committed.get(tp, 0) for tp in partitions}
        self._pending_assignment = False
        self._on_assigned(partitions)

    def poll(self, timeout_s: float, max_records: int) -> dict[TopicPartition, list[Record]]:
        if self._pending_assignment:
            self._assign()
        deadline = time.monotonic() + timeout_s
        while True:
            batch: dict[TopicPartition, list[Record]] = {}
            budget = max_records
            for tp, position in sorted(self._positions.items()):
                if budget <= 0:
                    break
                records = self._log.fetch(tp, position, budget)
                if records:
                    batch[tp] = records
                    self._positions[tp] = records[-1].offset + 1
                    budget -= len(records)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                return batch
            self._log.wait_for_append(remaining)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._positions[partition] = offset

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        with self._log._write() as conn:
            conn.executemany(
                "INSERT INTO log_group_offsets VALUES (?, ?, ?, ?)"
                " ON CONFLICT (group_id, topic, partition) DO UPDATE SET offset = excluded.offset",
                [(self._group_id, tp.topic, tp.partition, off) for tp, off in offsets.items()],
            )

    def assignment(self) -> list[TopicPartition]:
        return sorted(self._positions)

    def close(self) -> None:
        if self._positions:
            self._on_revoked(sorted(self._positions))
        self._positions = {}

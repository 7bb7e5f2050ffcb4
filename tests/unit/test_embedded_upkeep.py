"""The embedded log's upkeep (adapters/sourcelog/embedded_upkeep.py): records older than the
retention are deleted, offsets are never reused, and none of the deleted bytes stay in the
file or its WAL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sourcelog.base import OutgoingRecord, Record, TopicPartition, TopicSpec
from adapters.sourcelog.embedded import EmbeddedLog

PARTITIONS = 2
INGRESS, DEAD = "t.customers", "t.deadletters"
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "log.sqlite"


@pytest.fixture
def log(path: Path) -> Iterator[EmbeddedLog]:
    made = EmbeddedLog(path, retention_ms=DAY_MS)
    made.admin().create_topics([TopicSpec(INGRESS, PARTITIONS), TopicSpec(DEAD, PARTITIONS)])
    yield made
    made.close()


def file_bytes(path: Path) -> bytes:
    """The log file and its -wal and -shm, as they are on disk."""
    return b"".join(p.read_bytes() for p in sorted(path.parent.iterdir()) if p.is_file())


def everything(log: EmbeddedLog, topic: str) -> list[Record]:
    return [
        record
        for p in range(PARTITIONS)
        for record in log.fetch(TopicPartition(topic, p), 0, 10_000)
    ]


def test_records_past_the_retention_are_deleted_and_offsets_go_on(
    log: EmbeddedLog, path: Path
) -> None:
    old = [OutgoingRecord(INGRESS, b"c-1", b'{"name": "Old Secret %d"}' % n) for n in range(3)]
    placed = log.append(old)
    tp = TopicPartition(INGRESS, placed[0].partition)
    assert log.apply_retention(int(time.time() * 1000) + 1000) == 0  # a day is not over
    assert log.apply_retention(int(time.time() * 1000) + DAY_MS + 1000) == 3
    assert log.fetch(tp, 0, 100) == []
    assert log.admin().end_offsets([tp]) == {tp: 3}  # the partition goes on from where it was
    [again] = log.append([OutgoingRecord(INGRESS, b"c-1", b"{}")])
    assert again.offset == 3
    assert [r.offset for r in log.fetch(tp, 0, 100)] == [3]
    assert b"Old Secret" not in file_bytes(path)


def test_retention_applies_on_opening(path: Path) -> None:
    first = EmbeddedLog(path)  # keeps everything
    first.admin().create_topics([TopicSpec(INGRESS, PARTITIONS)])
    first.append([OutgoingRecord(INGRESS, b"c-1", b'"Old Secret"')])
    first.close()
    with sqlite3.connect(path) as conn:  # appended two days ago
        conn.execute("UPDATE log_records SET timestamp_ms = timestamp_ms - ?", (2 * DAY_MS,))
    conn.close()
    reopened = EmbeddedLog(path, retention_ms=DAY_MS)
    assert everything(reopened, INGRESS) == []
    assert b"Old Secret" not in file_bytes(path)
    reopened.close()


def test_a_file_made_before_the_partition_ends_were_kept_goes_on_from_its_records(
    path: Path,
) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:  # the schema as it was
        conn.execute("CREATE TABLE log_topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL)")
        conn.execute(
            "CREATE TABLE log_records (topic TEXT NOT NULL, partition INTEGER NOT NULL,"
            " offset INTEGER NOT NULL, key BLOB, value BLOB NOT NULL, headers BLOB NOT NULL,"
            " timestamp_ms INTEGER NOT NULL, PRIMARY KEY (topic, partition, offset)) WITHOUT ROWID"
        )
        conn.execute("INSERT INTO log_topics VALUES (?, 1)", (INGRESS,))
        for offset in range(5):
            conn.execute(
                "INSERT INTO log_records VALUES (?, 0, ?, NULL, x'7b7d', '[]', ?)",
                (INGRESS, offset, int(time.time() * 1000)),
            )
    conn.close()
    log = EmbeddedLog(path, retention_ms=DAY_MS)
    tp = TopicPartition(INGRESS, 0)
    assert log.admin().end_offsets([tp]) == {tp: 5}
    assert log.append([OutgoingRecord(INGRESS, None, b"{}")])[0].offset == 5
    log.close()

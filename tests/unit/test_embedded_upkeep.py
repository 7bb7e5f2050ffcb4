"""The embedded log's upkeep (adapters/sourcelog/embedded_upkeep.py): records older than the
retention are deleted and offsets are never reused; an erased customer's records are
blanked where the event store applied them, in flight once applied, and on the dead-letter
topic at once; and none of the deleted or blanked bytes stay in the file or its WAL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sourcelog.base import REDACTED, OutgoingRecord, Record, TopicPartition, TopicSpec
from adapters.sourcelog.embedded import EmbeddedLog, partition_for

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


def letter_of(record: OutgoingRecord) -> OutgoingRecord:
    return OutgoingRecord(DEAD, record.key, record.value, (("reason", b"body: not JSON"),))


def test_an_erased_customers_records_are_blanked_where_applied_and_once_applied(
    log: EmbeddedLog, path: Path
) -> None:
    erased, kept = b"c-erased", b"c-kept"
    partition = partition_for(erased, PARTITIONS)
    tp = TopicPartition(INGRESS, partition)
    applied_before = [
        OutgoingRecord(INGRESS, erased, b'{"customer_id": "c-erased", "name": "Applied Secret"}'),
        OutgoingRecord(INGRESS, kept, b'{"customer_id": "c-kept", "name": "Kept Person"}'),
    ]
    log.append(applied_before)
    naming = OutgoingRecord(DEAD, None, b'{"customer_id":"c-erased","name":"Keyless Secr')
    letters = [letter_of(applied_before[0]), naming, letter_of(applied_before[1])]
    log.append(letters)
    [in_flight] = log.append(
        [OutgoingRecord(INGRESS, erased, b'{"customer_id": "c-erased", "note": "Flight Secret"}')]
    )
    applied = {TopicPartition(INGRESS, p): 0 for p in range(PARTITIONS)}
    applied[tp] = in_flight.offset  # the store applied everything before it

    log.forget([erased], applied, [DEAD])

    ingress = {r.value: r for r in everything(log, INGRESS)}
    dead = [r.value for r in everything(log, DEAD)]
    assert applied_before[0].value not in ingress
    assert ingress[in_flight_bytes(log, tp)].key == erased  # in flight: yet to be applied
    assert b"Flight Secret" in in_flight_bytes(log, tp)
    assert applied_before[1].value in ingress  # someone else's
    # Their letter and the keyless one naming them are blanked; the other customer's not.
    assert sorted(dead) == sorted([REDACTED, REDACTED, letters[2].value])
    blob = file_bytes(path)
    assert b"Applied Secret" not in blob
    assert b"Keyless Secr" not in blob
    assert b"Kept Person" in blob

    # Applied now: the ingest says so after storing the batch, and it is blanked; so is a
    # letter of theirs written since.
    log.append([letter_of(OutgoingRecord(INGRESS, erased, b'{"name": "Late Letter"}'))])
    log.forget((), {tp: in_flight.offset + 1}, [DEAD])
    assert in_flight_bytes(log, tp) == REDACTED
    blob = file_bytes(path)
    assert b"Flight Secret" not in blob
    assert b"Late Letter" not in blob
    # Blanked records keep their place, key and headers.
    [redacted] = [r for r in everything(log, DEAD) if r.key == erased and r.offset == 0]
    assert redacted.headers == (("reason", b"body: not JSON"),)


def in_flight_bytes(log: EmbeddedLog, tp: TopicPartition) -> bytes:
    return log.fetch(tp, 0, 100)[-1].value

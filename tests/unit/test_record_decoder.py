"""Any record a producer can write on Kafka's wire, read by our Kafka adapter and judged by
the ingest's decoder, gives a source event or a refusal, never another exception (issue 13,
item 2): null key or value, headers with null values or names of any bytes, any timestamp
(the producer's or the log's). The same for what the embedded log carries, and what it
cannot carry it refuses whole. Beside ``test_one_decoder.py``, which gives the same
decoder any bytes and any JSON shaped like an envelope.

The bytes are parsed as our consumer parses a fetched batch: with kafka-python's record
batches made lenient by ``adapters.sourcelog.kafka_wire`` (kafka-python alone raised on a
header name that is not UTF-8, and since a batch is parsed from its start, no seek could
step over it: the partition stopped for good)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CorruptRecordError
from kafka.record.default_records import DefaultRecordBatch
from kafka.record.memory_records import MemoryRecords

from adapters.sourcelog.base import OutgoingRecord, Record, TopicPartition, TopicSpec
from adapters.sourcelog.embedded import EmbeddedLog
from adapters.sourcelog.kafka import record_of
from adapters.sourcelog.kafka_wire import lenient_batches
from consumers.ingest import decode_record
from contracts.envelope import InvalidEvent, SourceEvent
from tests.builders.raw_records import RawRecord, wire_batch
from tests.factories import contact_opened

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
LIMITS: dict[str, Any] = {"max_future": timedelta(minutes=5), "max_bytes": 65536}
KEY = b"cust-1"


def good(n: int) -> bytes:
    return orjson.dumps(
        contact_opened(event_id=f"ev-{n}", contact_id=f"ct-{n}", occurred_at=NOW.isoformat())
    )


def read(batch: bytes) -> list[Record]:
    """What our Kafka consumer hands the ingest for ``batch`` fetched from ``t:0``: the
    records as kafka-python's fetcher makes them (``ConsumerRecord``, the sizes computed as
    it does), through the adapter's ``record_of``."""
    lenient_batches()
    records = MemoryRecords(batch)
    got = []
    while (fetched := records.next_batch()) is not None:
        for r in fetched:
            header_size = sum(len(k.encode("utf-8")) + len(v or b"") for k, v in r.headers)
            fields = (r.offset, r.timestamp, r.timestamp_type, r.key, r.value, r.headers)
            got.append(record_of(ConsumerRecord("t", 0, -1, *fields, None, -1, -1, header_size)))
    return got


def test_a_header_name_that_is_not_utf8_is_read_and_its_neighbours_too() -> None:
    odd = ((b"\xff\xfe", b"v"), (b"no value", None), (b"", b"\x00"))
    batch = wire_batch(
        [
            RawRecord(KEY, good(0), timestamp_ms=NOW_MS),
            RawRecord(KEY, good(1), odd, NOW_MS),
            RawRecord(KEY, good(2), timestamp_ms=NOW_MS),
        ]
    )
    with pytest.raises(CorruptRecordError, match="UnicodeDecodeError"):
        list(DefaultRecordBatch(batch))  # kafka-python alone: the whole batch unreadable

    first, odd_one, last = read(batch)

    assert [r.offset for r in (first, odd_one, last)] == [0, 1, 2]
    # As Java's client reads it: U+FFFD for what is not UTF-8; a null value as empty.
    assert odd_one.headers == (("\ufffd\ufffd", b"v"), ("no value", b""), ("", b"\x00"))
    events = [decode_record(r, **LIMITS) for r in (first, odd_one, last)]
    assert [e.event_id for e in events] == ["ev-0", "ev-1", "ev-2"]


def test_a_tombstone_and_a_time_no_date_holds_are_refused_naming_them() -> None:
    def one(record: RawRecord) -> Record:
        (got,) = read(wire_batch([record]))
        return got

    with pytest.raises(InvalidEvent, match=r"^value: null \(a tombstone\)"):
        decode_record(one(RawRecord(KEY, None)), **LIMITS)
    for ms in (2**62, -1):
        with pytest.raises(InvalidEvent, match=rf"^timestamp: {ms} ms is not a time"):
            decode_record(one(RawRecord(KEY, good(1), timestamp_ms=ms)), **LIMITS)
    # A null key is no fault: the body says whose event it is.
    assert decode_record(one(RawRecord(None, good(1), timestamp_ms=NOW_MS)), **LIMITS)


names = st.binary(max_size=12) | st.text(max_size=6).map(str.encode)
headers = st.lists(st.tuples(names, st.none() | st.binary(max_size=12)), max_size=4).map(tuple)
values = st.none() | st.binary(max_size=200) | st.integers(0, 3).map(good)
shapes = st.builds(RawRecord, key=st.none() | st.binary(max_size=16), value=values, headers=headers)
timestamps = st.none() | st.sampled_from([-1, 0, NOW_MS, 2**62]) | st.integers(-(2**63), 2**63 - 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(shapes, min_size=1, max_size=4), timestamps, st.booleans())
def test_any_kafka_record_shape_gives_an_event_or_a_refusal(
    records: list[RawRecord], timestamp_ms: int | None, log_append_time: bool
) -> None:
    """One timestamp for a batch's records: the wire holds each as a 64-bit delta from the
    batch's first, so no producer writes two further apart."""
    stamped = [RawRecord(r.key, r.value, r.headers, timestamp_ms) for r in records]

    got = read(wire_batch(stamped, log_append_time=log_append_time))

    assert [r.offset for r in got] == list(range(len(records)))
    for record, sent in zip(got, stamped, strict=True):
        assert (record.key, record.null_value) == (sent.key, sent.value is None)
        with contextlib.suppress(InvalidEvent):
            assert isinstance(decode_record(record, **LIMITS), SourceEvent)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedLog]:
    log = EmbeddedLog(tmp_path_factory.mktemp("embedded") / "log.sqlite")
    log.admin().create_topics([TopicSpec("t", 1)])
    yield log
    log.close()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            OutgoingRecord,
            topic=st.just("t"),
            key=st.none() | st.binary(max_size=16),
            value=st.binary(max_size=200) | st.integers(0, 3).map(good),
            headers=st.lists(st.tuples(st.text(max_size=6), st.binary(max_size=12))).map(tuple),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_what_the_embedded_log_carries_it_returns_as_given_to_the_decoder(
    embedded: EmbeddedLog, records: list[OutgoingRecord]
) -> None:
    try:
        placed = embedded.append(records)
    except TypeError:  # a header name that is no text (a lone surrogate): nothing stored
        return
    got = embedded.fetch(TopicPartition("t", 0), placed[0].offset, len(records))
    assert [(r.key, r.value, r.headers) for r in got] == [
        (r.key, r.value, r.headers) for r in records
    ]
    for record in got:
        with contextlib.suppress(InvalidEvent):
            assert isinstance(decode_record(record, **LIMITS), SourceEvent)


@pytest.mark.parametrize(
    "shape",
    [
        OutgoingRecord("t", b"k", None),  # type: ignore[arg-type]
        OutgoingRecord("t", b"k", b"v", (("no value", None),)),  # type: ignore[arg-type]
        OutgoingRecord("t", b"k", b"v", (("\udcff not UTF-8", b"v"),)),
    ],
    ids=["a tombstone", "a header's null value", "a header name that is not UTF-8"],
)
def test_what_the_embedded_log_cannot_carry_its_append_refuses_storing_nothing(
    embedded: EmbeddedLog, shape: OutgoingRecord
) -> None:
    partition = TopicPartition("t", 0)
    (end,) = embedded.admin().end_offsets([partition]).values()
    with pytest.raises((sqlite3.IntegrityError, AttributeError, TypeError)):
        embedded.append([OutgoingRecord("t", b"k", good(0)), shape])
    assert embedded.admin().end_offsets([partition]) == {partition: end}
    assert embedded.fetch(partition, end, 10) == []

"""One contract, two logs: the embedded SQLite log and a real Apache Kafka broker must
behave the same for everything the ingest path relies on."""

from __future__ import annotations

import time

import pytest

from adapters.sourcelog.base import (
    Log,
    LogConsumer,
    OutgoingRecord,
    Record,
    TopicPartition,
    TopicSpec,
)
from tests.factories import unique
from tests.integration.placements import assert_placed_densely

PARTITIONS = 3


@pytest.fixture
def topic(log: Log) -> str:
    name = unique("contract.")
    admin = log.admin()
    try:
        assert admin.create_topics([TopicSpec(name, PARTITIONS)]) == [name]
    finally:
        admin.close()
    return name


def poll_until(consumer: LogConsumer, count: int, timeout_s: float = 30) -> list[Record]:
    """Poll until ``count`` records arrived (a position, not a pause) or fail."""
    got: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} records arrived"
        for records in consumer.poll(0.5, 500).values():
            got.extend(records)
    return got


def records_for(topic: str, keys: list[str]) -> list[OutgoingRecord]:
    return [
        OutgoingRecord(
            topic=topic,
            key=key.encode(),
            value=f"value-{i}".encode(),
            headers=(("event_id", f"e{i}".encode()), ("bin", bytes([0, 255, i % 256]))),
        )
        for i, key in enumerate(keys)
    ]


def test_creating_topics_is_idempotent(log: Log, topic: str) -> None:
    admin = log.admin()
    try:
        assert admin.create_topics([TopicSpec(topic, PARTITIONS)]) == []
        assert admin.partitions_for(topic) == PARTITIONS
    finally:
        admin.close()


def test_keys_map_to_kafkas_partitions_and_offsets_are_dense(log: Log, topic: str) -> None:
    keys = [f"customer-{i % 7}" for i in range(40)]
    publisher = log.publisher()
    try:
        placed = publisher.publish_many(records_for(topic, keys))
    finally:
        publisher.close()
    assert_placed_densely(log, topic, PARTITIONS, placed, [k.encode() for k in keys])


def test_a_group_member_gets_every_partition_in_order_and_can_seek(log: Log, topic: str) -> None:
    keys = [f"customer-{i % 5}" for i in range(30)]
    publisher = log.publisher()
    sent = publisher.publish_many(records_for(topic, keys))
    publisher.close()

    consumer = log.consumer(unique("group-"))
    assigned: list[TopicPartition] = []
    consumer.subscribe([topic], assigned.extend, lambda _: None)
    got = poll_until(consumer, len(keys))
    assert sorted(assigned) == [TopicPartition(topic, p) for p in range(PARTITIONS)]
    assert sorted(r.coordinates for r in got) == sorted(sent)
    for partition in range(PARTITIONS):
        offsets = [r.offset for r in got if r.partition == partition]
        assert offsets == sorted(offsets)
    first = min(got, key=lambda r: (r.partition, r.offset))
    assert first.header("bin") == bytes([0, 255, int(first.value.split(b"-")[1]) % 256])
    assert first.key is not None
    assert first.key.decode() in keys

    # Seeking back re-delivers from the chosen offset (at-least-once, resume anywhere).
    consumer.seek(TopicPartition(topic, first.partition), 0)
    again = poll_until(consumer, 1)
    assert again[0].coordinates == first.coordinates
    consumer.close()


def test_committed_offsets_are_where_a_new_member_resumes(log: Log, topic: str) -> None:
    keys = ["k-a", "k-b", "k-c", "k-d"] * 3
    publisher = log.publisher()
    sent = publisher.publish_many(records_for(topic, keys))
    publisher.close()
    group = unique("group-")

    first = log.consumer(group)
    first.subscribe([topic], lambda _: None, lambda _: None)
    got = poll_until(first, len(keys))
    last = {}
    for record in got:
        last[TopicPartition(record.topic, record.partition)] = record.offset
    # Commit all but the last record of each partition.
    first.commit({tp: offset for tp, offset in last.items()})
    first.close()

    second = log.consumer(group)
    second.subscribe([topic], lambda _: None, lambda _: None)
    resumed = poll_until(second, len(last))
    second.close()
    assert sorted(r.coordinates for r in resumed) == sorted(
        c for c in sent if last[TopicPartition(c.topic, c.partition)] == c.offset
    )

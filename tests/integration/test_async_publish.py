"""Publishing without a thread that waits (issue 18), against a real broker: the Kafka
publisher's ``publish_many_async`` places records as ``publish_many`` does (and as the
embedded log does), a record the broker refuses is ``LogUnavailable``, and over HTTP
``POST /v1/events`` answers where each event landed, or the 503 problem when the broker
refuses it (on SQLite, whose key lookups stay on the event loop, and on PostgreSQL, whose
go to a worker thread)."""

from __future__ import annotations

import asyncio
import time
from unittest.mock import patch

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from adapters.sourcelog.base import (
    Coordinates,
    Log,
    LogUnavailable,
    OutgoingRecord,
    TopicSpec,
)
from api.main import create_api
from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique
from tests.integration.placements import assert_placed_densely

PARTITIONS = 3
SMALL = 2048
"""A topic's ``max.message.bytes`` that the broker enforces on a record over it."""


def create(log: Log, *specs: TopicSpec) -> None:
    admin = log.admin()
    try:
        admin.create_topics(list(specs))
    finally:
        admin.close()


def records(topic: str, count: int, size: int = 10) -> list[OutgoingRecord]:
    return [
        OutgoingRecord(topic, f"cust-{n % 7}".encode(), b"v" * size, (("event_id", b"e"),))
        for n in range(count)
    ]


def test_awaited_records_land_as_published_ones_do(log: Log) -> None:
    topic = unique("async.")
    create(log, TopicSpec(topic, PARTITIONS))
    publisher = log.publisher()
    first = records(topic, 20)
    # The first publish may go the thread way (the producer learns the topic's partitions);
    # once it knows them, none may (a worker thread waiting would be the old way).
    placed = asyncio.run(publisher.publish_many_async(first))
    again = records(topic, 20)
    if log.__class__.__name__ == "KafkaLog":
        with patch("asyncio.to_thread", side_effect=AssertionError("a thread waited")):
            placed += asyncio.run(publisher.publish_many_async(again))
    else:
        placed += asyncio.run(publisher.publish_many_async(again))
    keys = [r.key or b"" for r in first + again]
    assert_placed_densely(log, topic, PARTITIONS, placed, keys)
    assert all(c.topic == topic for c in placed)


def limit_records(bootstrap: str, topic: str, size: int) -> None:
    """Give ``topic`` a record size limit the broker enforces (its producers do not)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        config = {"max.message.bytes": str(size)}
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=config)])
    finally:
        admin.close()


@pytest.mark.kafka
def test_a_record_the_broker_refuses_is_log_unavailable(kafka_bootstrap: str) -> None:
    from adapters.sourcelog.kafka import KafkaLog

    log = KafkaLog(kafka_bootstrap)
    topic = unique("async.")
    create(log, TopicSpec(topic, 1, (("max.message.bytes", str(SMALL)),)))
    publisher = log.publisher()
    try:
        asyncio.run(publisher.publish_many_async(records(topic, 1)))  # the topic is known
        with pytest.raises(LogUnavailable, match=r"Kafka did not acknowledge: .*MessageSize"):
            asyncio.run(publisher.publish_many_async(records(topic, 1, size=4 * SMALL)))
        with pytest.raises(LogUnavailable, match=r"Kafka did not acknowledge: .*MessageSize"):
            publisher.publish_many(records(topic, 1, size=4 * SMALL))
    finally:
        log.close()


def event_ids_at(runtime: Runtime, topic: str, placed: list[Coordinates]) -> list[bytes]:
    """The ``event_id`` header of the record at each of ``placed``, read back from the log."""
    consumer = runtime.log.consumer(unique("g"))
    found: dict[Coordinates, bytes] = {}
    deadline = time.monotonic() + 60
    try:
        consumer.subscribe([topic], lambda _: None, lambda _: None)
        while not set(placed) <= set(found):
            assert time.monotonic() < deadline, f"read {len(found)} of {len(placed)} records"
            for batch in consumer.poll(1.0, 500).values():
                found |= {r.coordinates: r.header("event_id") or b"" for r in batch}
    finally:
        consumer.close()
    return [found[c] for c in placed]


def test_over_http_each_event_is_where_the_answer_says_or_the_answer_is_503(
    kafka_runtime: Runtime,
) -> None:
    runtime = kafka_runtime
    key = runtime.api_keys.create("channel").secret_text
    headers = {"Authorization": f"Bearer {key}"}
    events = [contact_opened(customer_id=unique("cust-")) for _ in range(5)]
    topic = runtime.topics.for_type("contact.opened")
    with TestClient(create_api(runtime)) as client:
        first = client.post("/v1/events", json=events[:1], headers=headers)  # learns the topic
        answer = client.post("/v1/events", json=events[1:], headers=headers)
        assert (first.status_code, answer.status_code) == (202, 202)
        accepted = first.json()["accepted"] + answer.json()["accepted"]
        assert [a["event_id"] for a in accepted] == [e["event_id"] for e in events]
        placed = [Coordinates.parse(a["position"]) for a in accepted]
        assert [found.decode() for found in event_ids_at(runtime, topic, placed)] == [
            e["event_id"] for e in events
        ]

        # Every event is over this limit; the broker applies it a moment after it is set.
        limit_records(runtime.settings.kafka_bootstrap, topic, 100)
        deadline = time.monotonic() + 30
        while True:
            event = contact_opened(customer_id=unique("cust-"))
            refused = client.post("/v1/events", json=event, headers=headers)
            if refused.status_code != 202:
                break
            assert time.monotonic() < deadline, "the broker kept accepting records over its limit"
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"] == "log_unavailable"

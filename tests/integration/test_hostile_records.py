"""Any record Kafka can carry, beside good neighbours on the same partition (issue 13, item
2): a tombstone (null value), a null key, headers with null values or odd bytes, timestamps
no datetime holds. Each bad one is dead-lettered with a reason naming what is wrong, the good
ones are applied, and the worker never raises — a record that raised would stop the worker
again after every restart. Produced with kafka-python's own producer, which can send what
our publisher never would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer

from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique
from tests.integration.drive import PAIRINGS, ingest_everything, make_runtime, until
from tests.integration.processes import dead_letters, source_coordinates, stored_facts

KAFKA_PAIRINGS = [p for p in PAIRINGS if p.id != "embedded-sqlite"]


@pytest.fixture(params=KAFKA_PAIRINGS)
def kafka_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    yield from make_runtime(request, tmp_path, settings_env)


def good(customer: str, n: int) -> bytes:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2) + timedelta(minutes=n)
    return orjson.dumps(
        contact_opened(
            event_id=unique(f"ev-{n}-"),
            customer_id=customer,
            contact_id=f"{customer}-c{n}",
            occurred_at=at.isoformat(),
        )
    )


def test_any_kafka_record_shape_is_dead_lettered_or_applied_never_raised(
    kafka_runtime: Runtime,
) -> None:
    runtime = kafka_runtime
    customer = unique("cust-")
    key = customer.encode()
    topic = runtime.topics.for_type("contact.opened")
    bad: dict[str, tuple[dict[str, object], str]] = {
        "tombstone": ({"value": None}, "value: null (a tombstone)"),
        "far future timestamp": (
            {"value": good(customer, 90), "timestamp_ms": 2**62},
            "timestamp:",
        ),
        "empty value": ({"value": b""}, "body: not JSON"),
        "not UTF-8": ({"value": b"\xff\xfe\x00{"}, "body: not JSON"),
    }
    producer = KafkaProducer(bootstrap_servers=runtime.settings.kafka_bootstrap, acks="all")
    sent: list[tuple[str, int]] = []
    try:
        goods = [good(customer, n) for n in range(3)]
        plan: list[tuple[str, dict[str, object]]] = [("good-0", {"value": goods[0]})]
        for label, (kwargs, _) in bad.items():
            plan.append((label, kwargs))
        plan += [
            ("good-1, odd headers", {"value": goods[1], "headers": [("x", b""), ("é", b"\xff")]}),
            ("good-2", {"value": goods[2]}),
        ]
        for label, kwargs in plan:
            metadata = producer.send(topic, key=key, **kwargs).get(30)
            sent.append((label, metadata.offset))
        producer.flush()
    finally:
        producer.close()

    ingest_everything(runtime)

    letters = {source_coordinates(letter).offset: letter for letter in dead_letters(runtime)}
    by_label = dict(sent)
    applied = {f.event_id for f in stored_facts(runtime.app) if f.type == "Contact.Opened"}
    for label, (kwargs, reason) in bad.items():
        letter = letters.get(by_label[label])
        if label == "far future timestamp":
            # The ingress topics take the broker's append time (issue 13, item 3): the
            # producer's time is replaced, the record judged by the log's time and applied.
            assert letter is None
            assert orjson.loads(kwargs["value"])["event_id"] in applied  # type: ignore[arg-type]
            continue
        assert letter is not None, f"{label} was not dead-lettered"
        assert reason in (letter.header("reason") or b"").decode(), label
    for n, body in enumerate(goods):
        assert orjson.loads(body)["event_id"] in applied, f"good-{n} not applied"


def test_a_producer_cannot_move_event_time_ahead_with_its_own_timestamp(
    kafka_runtime: Runtime,
) -> None:
    """Issue 13, item 3: stamped two days ahead by its producer, carrying ``occurred_at`` one
    day ahead, a record was applied and the watermark jumped a day. The ingress topics take
    the broker's append time, so the record is judged against now and refused."""
    runtime = kafka_runtime
    customer = unique("cust-")
    now = datetime.now(UTC)
    ahead = contact_opened(
        event_id=unique("ev-ahead-"),
        customer_id=customer,
        occurred_at=(now + timedelta(days=1)).isoformat(),
    )
    producer = KafkaProducer(bootstrap_servers=runtime.settings.kafka_bootstrap, acks="all")
    try:
        topic = runtime.topics.for_type("contact.opened")
        stamped = int((now + timedelta(days=2)).timestamp() * 1000)
        sent = producer.send(
            topic, key=customer.encode(), value=orjson.dumps(ahead), timestamp_ms=stamped
        )
        offset = sent.get(30).offset
    finally:
        producer.close()

    ingest_everything(runtime)

    (letter,) = [d for d in dead_letters(runtime) if source_coordinates(d).offset == offset]
    assert (letter.header("reason") or b"").decode().startswith("occurred_at: ")
    watermark = runtime.deadlines.watermark()
    assert watermark is None or watermark < now + timedelta(hours=1)


def test_ingress_topics_made_before_get_the_log_append_time_at_start(
    kafka_runtime: Runtime,
) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

    runtime = kafka_runtime
    bootstrap = runtime.settings.kafka_bootstrap
    client = KafkaAdminClient(bootstrap_servers=bootstrap)
    key = "message.timestamp.type"

    def stamping(topics: list[str]) -> set[str]:
        """The topics' timestamp types, once the broker describes them (a topic just made
        may not, for a moment)."""
        held: dict[str, Any] = {}

        def described() -> bool:
            nonlocal held
            held = client.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t, configs={key: None}) for t in topics],
                config_filter="all",
            ).get("topic", {})
            return all(key in held.get(t, {}) for t in topics)

        until(described, f"the broker describes {topics}")
        return {held[t][key]["value"] for t in topics}

    try:
        assert stamping(runtime.topics.ingress) == {"LogAppendTime"}, "made by create_topics"
        from adapters.topics import Topics

        topics = Topics(unique("old-") + ".", 1, retention_days=1)
        specs = topics.specs()
        old = [spec.name for spec in specs]
        client.create_topics([NewTopic(t, 1, 1) for t in old])  # as an older version made them
        admin = runtime.log.admin()
        try:
            changed = admin.align_configs(specs)
            assert sorted(changed) == sorted(old), "each differs at least in its retention"
            assert admin.align_configs(specs) == [], "aligned once, then nothing to do"
        finally:
            admin.close()
        assert stamping(topics.ingress) == {"LogAppendTime"}
        retained = client.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, t, configs={"retention.ms": None})
                for t in old
            ],
            config_filter="all",
        )["topic"]
        assert {retained[t]["retention.ms"]["value"] for t in old} == {str(topics.retention_ms)}
        client.delete_topics(old)
    finally:
        client.close()

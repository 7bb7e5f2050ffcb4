"""Log → ingest → event store → complaint ledger, on every pairing of log and store.

The same scenario runs on the embedded log with SQLite, and on a real Kafka broker with
SQLite and with a real PostgreSQL: good records are applied once, bad ones are refused to
the dead-letter topic with a reason naming the field or rule, and a consumer that resumes
without the log's committed offsets (as after a crash between the store commit and the
log commit) resumes from the store and applies nothing twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest.mock import patch

import orjson
import pytest

from journey.bootstrap import Runtime, build
from journey.log.base import OutgoingRecord, Record, TopicPartition
from journey.settings import Settings
from tests.conftest import PostgresServer
from tests.factories import contact_opened, unique

PAIRINGS = [
    pytest.param(("embedded", "sqlite"), id="embedded-sqlite"),
    pytest.param(("kafka", "sqlite"), id="kafka-sqlite", marks=pytest.mark.kafka),
    pytest.param(
        ("kafka", "postgres"), id="kafka-postgres", marks=[pytest.mark.kafka, pytest.mark.postgres]
    ),
]


@pytest.fixture(params=PAIRINGS)
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    log_backend, store_backend = request.param
    env = dict(settings_env, JOURNEY_TOPIC_PARTITIONS="3")
    if log_backend == "kafka":
        env |= {
            "JOURNEY_LOG_BACKEND": "kafka",
            "JOURNEY_KAFKA_BOOTSTRAP": request.getfixturevalue("kafka_bootstrap"),
        }
    if store_backend == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        env |= server.settings_env(request.getfixturevalue("postgres_schema"))
    with patch.dict(os.environ, env):
        made = build(Settings())
    made.create_topics()
    yield made
    made.close()


def until(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"


def publish(runtime: Runtime, bodies: list[bytes], key: str) -> list[int]:
    topic = runtime.topics.for_type("contact.opened")
    placed = runtime.publisher.publish_many(
        [OutgoingRecord(topic, key.encode(), body) for body in bodies]
    )
    return [c.offset for c in placed]


def ingest_everything(runtime: Runtime, group: str | None = None) -> int:
    """Run an ingest worker until the store's position reached the end of every
    partition; returns how many records it read."""
    worker = runtime.ingest_worker(group)
    worker.start()
    partitions = [
        TopicPartition(topic, p)
        for topic in runtime.topics.ingress
        for p in range(runtime.settings.topic_partitions)
    ]
    admin = runtime.log.admin()
    ends = admin.end_offsets(partitions)
    admin.close()
    read = 0

    def caught_up() -> bool:
        nonlocal read
        read += worker.run_once(0.2)
        return all(runtime.app.next_offset(tp) >= end for tp, end in ends.items())

    until(caught_up, "the store holds the end offset of every partition")
    worker.close()
    return read


def project_everything(runtime: Runtime) -> None:
    target = runtime.app.process_recorder.max_notification_id() or 0
    until(
        lambda: runtime.projection_runner.run_once() >= 0 and runtime.ledger.position() >= target,
        "the ledger reached the last notification",
    )


def dead_letters(runtime: Runtime, count: int) -> list[Record]:
    consumer = runtime.log.consumer(unique("dlq-reader-"))
    consumer.subscribe([runtime.topics.dead_letters], lambda _: None, lambda _: None)
    got: list[Record] = []

    def arrived() -> bool:
        for records in consumer.poll(0.2, 100).values():
            got.extend(records)
        return len(got) >= count

    until(arrived, f"{count} dead letters arrived")
    consumer.close()
    return sorted(got, key=lambda r: int(r.header("source_offset") or b"-1"))


def stored_event_count(runtime: Runtime) -> int:
    return len(runtime.app.process_recorder.select_notifications(start=None, limit=100_000))


def test_good_records_are_applied_once_and_bad_ones_dead_lettered(runtime: Runtime) -> None:
    customers = [f"cust-{i}" for i in range(4)]
    good = [
        contact_opened(
            customer_id=c, contact_id=f"{c}-contact-{n}", case_id=f"{c}-case", channel=ch
        )
        for c in customers
        for n, ch in enumerate(["app", "phone", "web"])
    ]
    bad = {
        "not json": (b"{not json", "body"),
        "wrong field": (
            orjson.dumps(contact_opened(customer_id="cust-0", classification="angry")),
            "data.classification",
        ),
        "unknown type": (
            orjson.dumps({**contact_opened(customer_id="cust-0"), "type": "contact.teleported"}),
            "type",
        ),
        "other customer's case": (
            orjson.dumps(contact_opened(customer_id="cust-0", case_id="cust-1-case")),
            "R-CH-01",
        ),
    }
    # Everything on one key, hence one partition: bad records sit between good ones.
    bodies = [orjson.dumps(g) for g in good[:6]]
    bodies += [raw for raw, _ in bad.values()]
    bodies += [orjson.dumps(g) for g in good[6:]]
    bodies.append(orjson.dumps(good[0]))  # the same event_id again: no effect
    publish(runtime, bodies, key="one-key")

    ingest_everything(runtime)
    project_everything(runtime)

    rows = runtime.ledger.page(limit=100)
    assert sorted(r["case_ref"] for r in rows) == sorted(f"{c}-case" for c in customers)
    assert {r["contacts"] for r in rows} == {3}
    assert all(r["channels"] == ["app", "phone", "web"] for r in rows)
    assert stored_event_count(runtime) == len(good)

    letters = dead_letters(runtime, len(bad))
    assert len(letters) == len(bad)
    for letter, (raw, named) in zip(letters, bad.values(), strict=True):
        assert letter.value == raw
        reason = (letter.header("reason") or b"").decode()
        assert named in reason, reason
        assert letter.header("source_topic") == runtime.topics.for_type("contact.opened").encode()

    # A member with no committed log offsets at all resumes from the store's positions.
    assert ingest_everything(runtime, group=unique("fresh-group-")) == 0
    project_everything(runtime)
    assert stored_event_count(runtime) == len(good)
    assert runtime.ledger.page(limit=100) == rows

"""Drive a runtime through its stages in tests: publish, ingest, project, each until a
position is reached (never a pause)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
from pydantic import SecretStr

from adapters.sourcelog.base import OutgoingRecord, TopicPartition
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.services import PostgresServer

PAIRINGS = [
    pytest.param(("embedded", "sqlite"), id="embedded-sqlite"),
    pytest.param(("kafka", "sqlite"), id="kafka-sqlite", marks=pytest.mark.kafka),
    pytest.param(
        ("kafka", "postgres"), id="kafka-postgres", marks=[pytest.mark.kafka, pytest.mark.postgres]
    ),
]


def make_runtime(
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
        lambda: (
            runtime.projection_runner.run_once() >= 0
            and min(p.position() for p in runtime.projections) >= target
        ),
        "every read model reached the last notification",
    )


def env_of(settings: Settings) -> dict[str, str]:
    """The environment that gives a ``journey`` command the same settings."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, set | frozenset):
            value = ",".join(sorted(value))
        env[f"JOURNEY_{name.upper()}"] = str(value)
    return env

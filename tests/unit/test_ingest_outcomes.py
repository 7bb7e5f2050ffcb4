"""The ingest counts each record of a stored batch once, by what became of it there
(``journey_ingest_records_total{outcome}``). A record parked and let in by a later record
of its own batch counted as parked *and* applied: ``ignored`` came out negative, the
counter refused it, and the worker failed after every such batch although the batch was
stored (issue 13's hostile-input suite found it: a contact joining a case opened right
after it on the same partition). Embedded log and SQLite in a temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import orjson
import pytest

from adapters.sourcelog.base import OutgoingRecord, TopicPartition
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.factories import contact_opened, source_event

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def runtime(tmp_path: Path, settings_env: dict[str, str]) -> Iterator[Runtime]:
    with patch.dict(os.environ, {**settings_env, "JOURNEY_TOPIC_PARTITIONS": "1"}):
        made = build(Settings())
    made.create_topics()
    yield made
    made.close()


def at(minute: int) -> str:
    return (START + timedelta(minutes=minute)).isoformat()


def ingest(runtime: Runtime, *bodies: dict[str, Any]) -> dict[str, float]:
    """Publish ``bodies`` on one partition, ingest them in one batch; the outcomes counted."""
    topic = runtime.topics.for_type("contact.opened")
    placed = runtime.publisher.publish_many(
        [OutgoingRecord(topic, b"cust-1", orjson.dumps(body)) for body in bodies]
    )
    worker = runtime.ingest_worker()
    worker.start()
    try:
        assert worker.run_once(0) == len(bodies), "one batch"
    finally:
        worker.close()
    assert runtime.app.next_offset(TopicPartition(topic, 0)) == placed[-1].offset + 1
    return {
        outcome: runtime.registry.get_sample_value(
            "journey_ingest_records_total", {"topic": topic, "outcome": outcome}
        )
        or 0.0
        for outcome in ("applied", "refused", "parked", "ignored")
    }


def counts(
    applied: int = 0, refused: int = 0, parked: int = 0, ignored: int = 0
) -> dict[str, float]:
    return {"applied": applied, "refused": refused, "parked": parked, "ignored": ignored}


def test_a_record_let_in_within_its_own_batch_counts_as_applied(runtime: Runtime) -> None:
    joins = contact_opened(contact_id="k-2", case_id="k-1", occurred_at=at(2))
    opens = contact_opened(contact_id="k-1", occurred_at=at(1))

    assert ingest(runtime, joins, opens) == counts(applied=2)


def test_a_record_let_in_within_its_own_batch_and_refused_counts_as_refused(
    runtime: Runtime,
) -> None:
    resolves = source_event("case.resolved", {"case_id": "k-1", "option": "x"}, occurred_at=at(2))
    opens = contact_opened(contact_id="k-1", occurred_at=at(1))

    assert ingest(runtime, resolves, opens) == counts(applied=1, refused=1)
    (letter,) = runtime.all_dead_letters()
    assert letter.reason.startswith("R-CMP-01: "), letter.reason


def test_a_record_still_waiting_when_its_batch_is_stored_counts_as_parked(
    runtime: Runtime,
) -> None:
    joins = contact_opened(contact_id="k-2", case_id="k-never", occurred_at=at(2))
    opens = contact_opened(contact_id="k-1", occurred_at=at(1))

    assert ingest(runtime, joins, opens, opens) == counts(applied=1, parked=1, ignored=1)

"""What the ingest logs for an operator (issue 17, item 4): one line for a whole partition
assignment instead of one per partition, one WARNING per dead-lettered record naming its
source and reason but never its value. Embedded log and SQLite in a temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest

from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime, build
from journey.settings import Settings


@pytest.fixture
def runtime(tmp_path: Path, settings_env: dict[str, str]) -> Iterator[Runtime]:
    with patch.dict(os.environ, {**settings_env, "JOURNEY_TOPIC_PARTITIONS": "3"}):
        made = build(Settings())
    made.create_topics()
    yield made
    made.close()


def test_an_assignment_is_one_line_naming_topics_and_partition_runs(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    worker = runtime.ingest_worker()
    with caplog.at_level("INFO", logger="consumers.ingest"):
        worker.start()
        worker.run_once(0)
        worker.close()
    assigned = [r for r in caplog.records if r.getMessage().startswith("assigned ")]
    ingress = sorted(runtime.topics.ingress)
    assert len(assigned) == 1
    (line,) = assigned
    expected = ", ".join(f"{topic}[0-2]" for topic in ingress)
    assert line.getMessage() == (
        f"assigned {3 * len(ingress)} partitions: {expected}"
        " (resuming at the offsets stored with the events)"
    )
    assert line.__dict__["partitions"] == 3 * len(ingress)


def test_a_dead_letter_is_one_warning_with_its_source_and_reason_not_its_value(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    topic = runtime.topics.for_type("contact.opened")
    secret = b'{"not": "an envelope", "name": "Li Wei"}'
    (placed,) = runtime.publisher.publish_many([OutgoingRecord(topic, b"cust-1", secret)])
    worker = runtime.ingest_worker()
    with caplog.at_level("INFO"):
        worker.start()
        worker.run_once(0)
        worker.close()
    (letter,) = [r for r in caplog.records if r.getMessage().startswith("dead-lettered")]
    assert letter.levelname == "WARNING"
    assert letter.__dict__["source"] == str(placed)
    assert letter.__dict__["reason"]
    assert "Li Wei" not in letter.getMessage()
    assert all("Li Wei" not in str(v) for v in letter.__dict__.values())

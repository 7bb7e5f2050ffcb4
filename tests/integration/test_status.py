"""``journey status`` and ``GET /metrics`` on every pairing of log and store: lag is the
log's end offset minus the offset stored with the events, positive before ingesting and
zero after; the ingest counters say what was applied, refused and ignored."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.sourcelog.base import OutgoingRecord, TopicPartition
from api.main import create_api
from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique
from tests.integration.cli import run, run_cli
from tests.integration.drive import ingest_everything, project_everything
from tests.integration.metrics_text import samples


def _by_partition(status: Any) -> dict[tuple[str, int], Any]:
    return {(p["topic"], p["partition"]): p for p in status["partitions"]}


def test_status_shows_lag_before_ingesting_and_none_after(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = runtime.topics.for_type("contact.opened")
    customer = unique("cust-")
    good = [contact_opened(customer_id=customer, contact_id=unique("contact-")) for _ in range(3)]
    bodies = [orjson.dumps(g) for g in good]
    bodies += [b"not json", orjson.dumps(contact_opened(customer_id=customer, topic=7))]
    bodies.append(orjson.dumps(good[0]))  # a duplicate: ignored
    placed = runtime.publisher.publish_many(
        [OutgoingRecord(topic, customer.encode(), body) for body in bodies]
    )
    here = (topic, placed[0].partition)
    end = placed[-1].offset + 1

    before = run_cli(runtime, capsys, "status", "--json")
    partitions = _by_partition(before)
    assert set(partitions) == {
        (t, p) for t in runtime.topics.ingress for p in range(runtime.settings.topic_partitions)
    }
    assert partitions[here] == {
        "topic": topic,
        "partition": here[1],
        "log_end_offset": end,
        "stored_offset": 0,
        "lag": len(bodies),
        "ahead_of_log": False,
    }
    assert before["ingest_lag"] == len(bodies)
    assert before["dead_letters"] == 0

    ingest_everything(runtime)
    after = run_cli(runtime, capsys, "status", "--json")
    assert after["ingest_lag"] == 0
    assert all(p["lag"] == 0 for p in _by_partition(after).values())
    assert _by_partition(after)[here]["stored_offset"] == end
    assert after["dead_letters"] == 2
    head = after["notifications"]
    assert head > 0
    assert {p["name"]: p["lag"] for p in after["projections"]} == {
        p.name: head for p in runtime.projections
    }

    project_everything(runtime)
    until_projected = run_cli(runtime, capsys, "status", "--json")
    ledger = {p["name"]: p for p in until_projected["projections"]}["complaint_ledger"]
    assert (ledger["position"], ledger["lag"]) == (head, 0)

    # The text form: one line per partition with its figures.
    capsys.readouterr()
    assert run(runtime, "status") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [f"{topic}:{here[1]}", str(end), str(end), "0"] in [line.split() for line in lines]
    assert f"dead letters: 2 on {runtime.topics.dead_letters}" in lines


def test_metrics_count_applied_refused_and_ignored_records(runtime: Runtime) -> None:
    topic = runtime.topics.for_type("contact.opened")
    customer = unique("cust-")
    good = [contact_opened(customer_id=customer, contact_id=unique("contact-")) for _ in range(4)]
    bodies = [orjson.dumps(g) for g in good]
    # Refused: not JSON; a second opening of an open contact (another event_id).
    bodies += [b"{", orjson.dumps({**good[0], "event_id": unique("ev-")})]
    bodies += [orjson.dumps(good[1]), orjson.dumps(good[2])]  # duplicates: ignored
    placed = runtime.publisher.publish_many(
        [OutgoingRecord(topic, customer.encode(), body) for body in bodies]
    )
    partition = str(placed[0].partition)

    with TestClient(create_api(runtime, workers=set())) as client:
        before = client.get("/metrics")
        assert before.status_code == 200
        assert before.headers["content-type"].startswith("text/plain; version=")
        got = samples(before.text)
        assert got[("journey_status_up", frozenset())] == 1
        lag = ("journey_ingest_lag", frozenset({("topic", topic), ("partition", partition)}))
        assert got[lag] == len(bodies)

        ingest_everything(runtime)
        project_everything(runtime)
        got = samples(client.get("/metrics").text)

    def records(outcome: str) -> float:
        return got[
            ("journey_ingest_records_total", frozenset({("topic", topic), ("outcome", outcome)}))
        ]

    assert (records("applied"), records("refused"), records("ignored")) == (4, 2, 2)
    letters = {
        dict(labels)["reason"]: value
        for (name, labels), value in got.items()
        if name == "journey_dead_letters_published_total" and dict(labels)["topic"] == topic
    }
    assert letters == {"body": 1, "other": 1}  # not JSON; a second opening of an open contact
    assert got[lag] == 0
    assert got[("journey_dead_letters", frozenset())] == 2
    batches = got[("journey_ingest_batch_records_count", frozenset())]
    assert batches >= 1
    assert got[("journey_ingest_batch_records_sum", frozenset())] == len(bodies)
    assert got[("journey_ingest_batch_seconds_count", frozenset())] == batches
    head = runtime.app.process_recorder.max_notification_id()
    assert got[("journey_notifications_max_id", frozenset())] == head
    ledger = frozenset({("projection", "complaint_ledger")})
    assert got[("journey_projection_position", ledger)] == head
    assert got[("journey_projection_lag", ledger)] == 0


def test_metrics_count_the_aggregate_cache_of_the_ingest(runtime: Runtime) -> None:
    """A second batch that joins a case the first batch opened finds the case in memory."""
    topic = runtime.topics.for_type("contact.opened")
    customer = unique("cust-")
    first = contact_opened(customer_id=customer, contact_id=unique("contact-"))
    joining = contact_opened(
        customer_id=customer, contact_id=unique("contact-"), case_id=first["data"]["contact_id"]
    )
    worker = runtime.ingest_worker()  # one worker, one cache, across both batches
    worker.start()
    try:
        with TestClient(create_api(runtime, workers=set())) as client:
            for body in (first, joining):
                [placed] = runtime.publisher.publish_many(
                    [OutgoingRecord(topic, customer.encode(), orjson.dumps(body))]
                )
                partition = TopicPartition(placed.topic, placed.partition)
                for _ in range(300):  # a minute at most: wait for the stored position
                    if runtime.app.next_offset(partition) > placed.offset:
                        break
                    worker.run_once(0.2)
                else:
                    pytest.fail(f"{partition} did not pass offset {placed.offset}")
            got = samples(client.get("/metrics").text)
    finally:
        worker.close()
    assert got[("journey_ingest_cache_lookups_total", frozenset({("result", "hit")}))] >= 1
    assert ("journey_ingest_cache_forgotten_total", frozenset()) in got

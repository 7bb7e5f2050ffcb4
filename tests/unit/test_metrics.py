"""Lag arithmetic, the status read from a log and a store, and its Prometheus rendering."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from consumers.status import PartitionLag, ProjectionLag, Status, lag, read_status
from journey.application import JourneyApplication, ingest_tracking_name
from journey.log.base import LogAdmin, TopicPartition, TopicSpec
from journey.metrics import IngestMetrics, StatusCollector, render
from journey.readstore import Cursor
from projections.base import Projection


def samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the rendered text, parsed back: (name, labels) → value."""
    text = render(registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return (name, frozenset(labels.items()))


@pytest.mark.parametrize(
    ("end", "position", "expected"),
    [(0, 0, 0), (10, 4, 6), (4, 4, 0), (3, 5, 0)],
    ids=["empty", "behind", "caught-up", "store-ahead"],
)
def test_lag_is_the_end_minus_the_position_never_below_zero(
    end: int, position: int, expected: int
) -> None:
    assert lag(end, position) == expected


def test_a_store_ahead_of_the_log_is_not_lag_but_is_flagged() -> None:
    ahead = PartitionLag(TopicPartition("t.contacts", 0), log_end_offset=3, stored_offset=5)
    behind = PartitionLag(TopicPartition("t.contacts", 1), log_end_offset=9, stored_offset=2)
    assert (ahead.lag, ahead.ahead_of_log) == (0, True)
    assert (behind.lag, behind.ahead_of_log) == (7, False)


def _status() -> Status:
    return Status(
        partitions=[
            PartitionLag(TopicPartition("t.contacts", 0), 10, 10),
            PartitionLag(TopicPartition("t.contacts", 1), 12, 5),
            PartitionLag(TopicPartition("t.orders", 0), 3, 0),
        ],
        dead_letters=4,
        notifications=40,
        projections=[ProjectionLag("complaint_ledger", 31, 40), ProjectionLag("deadlines", 40, 40)],
    )


def test_status_sums_the_lag_of_every_partition_for_json() -> None:
    status = _status()
    assert status.ingest_lag == 0 + 7 + 3
    as_json = status.as_json()
    assert as_json["ingest_lag"] == 10
    assert as_json["partitions"][1] == {
        "topic": "t.contacts",
        "partition": 1,
        "log_end_offset": 12,
        "stored_offset": 5,
        "lag": 7,
        "ahead_of_log": False,
    }
    assert as_json["dead_letters"] == 4
    assert as_json["projections"] == [
        {"name": "complaint_ledger", "position": 31, "lag": 9},
        {"name": "deadlines", "position": 40, "lag": 0},
    ]


class FakeAdmin(LogAdmin):
    def __init__(self, ends: dict[TopicPartition, int]) -> None:
        self.ends = ends

    def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        raise NotImplementedError

    def partitions_for(self, topic: str) -> int:
        return len([tp for tp in self.ends if tp.topic == topic])

    def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.ends[tp] for tp in partitions}


class FixedProjection(Projection):
    def __init__(self, name: str, position: int) -> None:
        self.name = name  # type: ignore[misc]  # a test double named per instance
        self.position_name = name
        self._position = position

    def ddl(self) -> Sequence[str]:
        return ()

    def apply(self, cursor: Cursor, notification_id: int, event: Any) -> None:
        raise NotImplementedError

    def position(self) -> int:
        return self._position


def test_read_status_takes_positions_from_the_store_and_ends_from_the_log() -> None:
    contacts = [TopicPartition("t.contacts", p) for p in range(2)]
    dead = [TopicPartition("t.deadletters", p) for p in range(2)]
    admin = FakeAdmin(dict(zip([*contacts, *dead], [7, 5, 2, 1], strict=True)))
    app = JourneyApplication(env={})  # in memory
    app.process_recorder.insert_events([], tracking=Tracking(ingest_tracking_name(contacts[0]), 4))
    for _ in range(3):
        app.save(Aggregate())

    status = read_status(
        admin, app, ["t.contacts"], "t.deadletters", [FixedProjection("ledger", 1)]
    )

    assert [(p.partition, p.log_end_offset, p.stored_offset, p.lag) for p in status.partitions] == [
        (contacts[0], 7, 4, 3),
        (contacts[1], 5, 0, 5),
    ]
    assert status.ingest_lag == 8
    assert status.dead_letters == 3
    assert status.notifications == 3
    assert [(p.name, p.position, p.lag) for p in status.projections] == [("ledger", 1, 2)]


def test_ingest_counters_and_batch_histograms_render_as_prometheus_text() -> None:
    registry = CollectorRegistry()
    metrics = IngestMetrics(registry)
    metrics.batch_stored("t.contacts", applied=5, refused=2, ignored=1, seconds=0.02)
    metrics.batch_stored("t.contacts", applied=3, refused=0, ignored=0, seconds=0.3)
    metrics.batch_stored("t.orders", applied=1, refused=1, ignored=0, seconds=0.001)
    metrics.dead_lettered("t.contacts", 2)
    metrics.dead_lettered("t.orders", 1)

    got = samples(registry)
    records = "journey_ingest_records_total"
    assert got[key(records, topic="t.contacts", outcome="applied")] == 8
    assert got[key(records, topic="t.contacts", outcome="refused")] == 2
    assert got[key(records, topic="t.contacts", outcome="ignored")] == 1
    assert got[key(records, topic="t.orders", outcome="applied")] == 1
    assert got[key(records, topic="t.orders", outcome="refused")] == 1
    assert got[key("journey_dead_letters_published_total", topic="t.contacts")] == 2
    assert got[key("journey_ingest_batch_records_count")] == 3
    assert got[key("journey_ingest_batch_records_sum")] == 8 + 3 + 2
    assert got[key("journey_ingest_batch_records_bucket", le="2.0")] == 1
    assert got[key("journey_ingest_batch_records_bucket", le="5.0")] == 2
    assert got[key("journey_ingest_batch_seconds_count")] == 3
    assert got[key("journey_ingest_batch_seconds_sum")] == pytest.approx(0.321)
    assert got[key("journey_ingest_batch_seconds_bucket", le="0.025")] == 2
    text = render(registry).decode()
    assert "# TYPE journey_ingest_records_total counter" in text
    assert "# TYPE journey_ingest_batch_seconds histogram" in text


def test_the_status_collector_renders_lag_per_partition_and_per_projection() -> None:
    registry = CollectorRegistry()
    registry.register(StatusCollector(_status))

    got = samples(registry)
    assert got[key("journey_status_up")] == 1
    assert got[key("journey_ingest_lag", topic="t.contacts", partition="1")] == 7
    assert got[key("journey_ingest_log_end_offset", topic="t.contacts", partition="1")] == 12
    assert got[key("journey_ingest_stored_offset", topic="t.contacts", partition="1")] == 5
    assert got[key("journey_ingest_lag", topic="t.orders", partition="0")] == 3
    assert got[key("journey_dead_letters")] == 4
    assert got[key("journey_notifications_max_id")] == 40
    assert got[key("journey_projection_position", projection="complaint_ledger")] == 31
    assert got[key("journey_projection_lag", projection="complaint_ledger")] == 9
    assert got[key("journey_projection_lag", projection="deadlines")] == 0


def test_a_status_that_cannot_be_read_still_renders_and_says_so() -> None:
    def unreachable() -> Status:
        raise ConnectionError("store down")

    registry = CollectorRegistry()
    registry.register(StatusCollector(unreachable))
    IngestMetrics(registry).batch_stored("t", applied=1, refused=0, ignored=0, seconds=0.1)

    got = samples(registry)
    assert got[key("journey_status_up")] == 0
    assert not [name for name, _ in got if name == "journey_ingest_lag"]
    assert got[key("journey_ingest_records_total", topic="t", outcome="applied")] == 1


def test_registering_builds_nothing_until_a_scrape() -> None:
    reads: list[int] = []

    def counted() -> Status:
        reads.append(1)
        return _status()

    registry = CollectorRegistry()
    registry.register(StatusCollector(counted))
    assert reads == []
    render(registry)
    render(registry)
    assert len(reads) == 2

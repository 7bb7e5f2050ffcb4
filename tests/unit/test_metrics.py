"""Lag arithmetic, the status read from a log and a store, and its Prometheus rendering;
stalled read models and GET /readyz; the HTTP series of GET /metrics on the real API."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch

import orjson
import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from adapters.logformat import configure_logging
from adapters.metrics import IngestMetrics, http_metrics, render
from adapters.readstore import Cursor
from adapters.sourcelog.base import LogAdmin, OutgoingRecord, TopicPartition, TopicSpec
from adapters.status_metrics import StatusCollector
from api.main import create_api
from application.batches import ingest_tracking_name
from application.service import JourneyApplication
from application.status import (
    PartitionLag,
    ProjectionLag,
    StallWatch,
    Status,
    lag,
    read_status,
)
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from projections.audit_chain import VerificationCount
from projections.base import Projection
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything, project_everything


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
        projections=[
            ProjectionLag("complaint_ledger", 31, 40, True),
            ProjectionLag("deadlines", 40, 40),
        ],
        parked=2,
        timer_backlog=6,
    )


def test_status_sums_the_lag_of_every_partition_for_json() -> None:
    status = _status()
    assert status.ingest_lag == 0 + 7 + 3
    as_json = status.as_json()
    assert as_json["ingest_lag"] == 10
    assert as_json["timer_backlog"] == 6
    assert as_json["partitions"][1] == {
        "topic": "t.contacts",
        "partition": 1,
        "log_end_offset": 12,
        "stored_offset": 5,
        "lag": 7,
        "ahead_of_log": False,
    }
    assert as_json["dead_letters"] == 4
    assert as_json["parked"] == 2
    assert as_json["projections"] == [
        {"name": "complaint_ledger", "position": 31, "lag": 9, "query_indexes": "deferred"},
        {"name": "deadlines", "position": 40, "lag": 0, "query_indexes": "built"},
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

    def query_indexes_deferred(self) -> bool:
        return self.name == "ledger"


def test_read_status_takes_positions_from_the_store_and_ends_from_the_log() -> None:
    contacts = [TopicPartition("t.contacts", p) for p in range(2)]
    dead = [TopicPartition("t.deadletters", p) for p in range(2)]
    admin = FakeAdmin(dict(zip([*contacts, *dead], [7, 5, 2, 1], strict=True)))
    app = JourneyApplication(env={})  # in memory
    app.process_recorder.insert_events([], tracking=Tracking(ingest_tracking_name(contacts[0]), 4))
    for _ in range(3):
        app.save(Aggregate())

    status = read_status(
        admin,
        app,
        ["t.contacts"],
        "t.deadletters",
        [FixedProjection("ledger", 1), FixedProjection("kpis", 3)],
        lambda: 3,
    )

    assert [(p.partition, p.log_end_offset, p.stored_offset, p.lag) for p in status.partitions] == [
        (contacts[0], 7, 4, 3),
        (contacts[1], 5, 0, 5),
    ]
    assert status.ingest_lag == 8
    assert status.parked == 3
    assert status.dead_letters == 3
    assert status.notifications == 3
    assert [(p.name, p.position, p.lag, p.indexes_deferred) for p in status.projections] == [
        ("ledger", 1, 2, True),
        ("kpis", 3, 0, False),
    ]


def test_ingest_counters_and_batch_histograms_render_as_prometheus_text() -> None:
    registry = CollectorRegistry()
    metrics = IngestMetrics(registry)
    metrics.batch_stored("t.contacts", applied=5, refused=2, ignored=1, seconds=0.02)
    metrics.batch_stored("t.contacts", applied=3, refused=0, ignored=0, seconds=0.3)
    metrics.batch_stored("t.orders", applied=1, refused=1, parked=2, ignored=0, seconds=0.001)
    metrics.dead_lettered("t.contacts", ["R-CMP-01: never offered", "data.contact_id: required"])
    metrics.dead_lettered("t.orders", ["unknown order 'o-1'; not arrived within 24h (parked)"])
    metrics.cache_used(hits=7, misses=2, forgotten=0)
    metrics.cache_used(hits=3, misses=0, forgotten=1)

    got = samples(registry)
    assert got[key("journey_ingest_cache_lookups_total", result="hit")] == 10
    assert got[key("journey_ingest_cache_lookups_total", result="miss")] == 2
    assert got[key("journey_ingest_cache_forgotten_total")] == 1
    records = "journey_ingest_records_total"
    assert got[key(records, topic="t.contacts", outcome="applied")] == 8
    assert got[key(records, topic="t.contacts", outcome="refused")] == 2
    assert got[key(records, topic="t.contacts", outcome="ignored")] == 1
    assert got[key(records, topic="t.orders", outcome="applied")] == 1
    assert got[key(records, topic="t.orders", outcome="refused")] == 1
    assert got[key(records, topic="t.orders", outcome="parked")] == 2
    assert got[key(records, topic="t.contacts", outcome="parked")] == 0
    letters = "journey_dead_letters_published_total"
    assert got[key(letters, topic="t.contacts", reason="R-CMP-01")] == 1
    assert got[key(letters, topic="t.contacts", reason="data")] == 1
    assert got[key(letters, topic="t.orders", reason="not_arrived")] == 1
    assert got[key("journey_ingest_batch_records_count")] == 3
    assert got[key("journey_ingest_batch_records_sum")] == 8 + 3 + 4
    assert got[key("journey_ingest_batch_records_bucket", le="2.0")] == 0
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
    deferred = "journey_projection_query_indexes_deferred"
    assert got[key(deferred, projection="complaint_ledger")] == 1
    assert got[key(deferred, projection="deadlines")] == 0
    assert got[key("journey_parked_events")] == 2
    assert got[key("journey_timer_backlog_deadlines")] == 6


def test_audit_verifications_and_their_failures_are_counters_per_kind() -> None:
    """Read from the store on each scrape: recorded by whichever process verified (the API
    or ``journey verify``, issue 13, item 11)."""
    counts = [VerificationCount("cases", 5, 0), VerificationCount("orders", 3, 2)]
    registry = CollectorRegistry()
    registry.register(StatusCollector(lambda: Status([], 0, 0, [], verifications=counts)))

    got = samples(registry)
    assert got[key("journey_audit_verifications_total", kind="cases")] == 5
    assert got[key("journey_audit_verification_failures_total", kind="cases")] == 0
    assert got[key("journey_audit_verifications_total", kind="orders")] == 3
    assert got[key("journey_audit_verification_failures_total", kind="orders")] == 2
    text = render(registry).decode()
    assert "# TYPE journey_audit_verification_failures_total counter" in text
    assert _status().as_json()["audit_verifications"] == []


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


# -- stalled read models (GET /readyz) -----------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_read_model_behind_the_head_that_does_not_move_is_stalled_after_the_limit() -> None:
    clock = FakeClock()
    watch = StallWatch(60, clock)
    assert watch.check({"ledger": 5}, head=9) == []
    clock.now += 60
    assert watch.check({"ledger": 5}, head=9) == []  # not longer than the limit yet
    clock.now += 1
    (stall,) = watch.check({"ledger": 5}, head=12)
    assert (stall.name, stall.position, stall.head, stall.still_s) == ("ledger", 5, 12, 61)


def test_a_read_model_that_moves_or_is_caught_up_is_not_stalled() -> None:
    clock = FakeClock()
    watch = StallWatch(60, clock)
    watch.check({"busy": 1, "idle": 9}, head=9)
    clock.now += 100
    assert watch.check({"busy": 2, "idle": 9}, head=9) == []  # moved; caught up
    clock.now += 100
    # Caught up for long, then events arrive: the clock starts now, not when it last moved.
    assert watch.check({"busy": 3, "idle": 9}, head=20) == []
    clock.now += 61
    assert [s.name for s in watch.check({"busy": 4, "idle": 9}, head=20)] == ["idle"]


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.floats(0, 100)), max_size=30))
def test_stalled_only_when_behind_and_still_for_longer_than_the_limit(
    steps: list[tuple[int, int, float]],
) -> None:
    """Against a model of the rule: the time since the position last changed or was last
    seen caught up."""
    clock = FakeClock()
    watch = StallWatch(60, clock)
    since: float | None = None
    last: int | None = None
    for position, behind, elapsed in steps:
        clock.now += elapsed
        head = position + behind
        if behind == 0:
            since = None
        elif since is None or last != position:
            since = clock.now
        last = position
        stalled = bool(watch.check({"m": position}, head))
        assert stalled == (since is not None and clock.now - since > 60)


@pytest.fixture
def runtime(tmp_path: Path, settings_env: dict[str, str]) -> Iterator[Runtime]:
    with patch.dict(os.environ, {**settings_env, "JOURNEY_TOPIC_PARTITIONS": "2"}):
        made = build(Settings())
    yield made
    made.close()


def _publish_contacts(runtime: Runtime, count: int) -> None:
    customer = unique("cust-")
    runtime.publisher.publish_many(
        [
            OutgoingRecord(
                runtime.topics.for_type("contact.opened"),
                customer.encode(),
                orjson.dumps(contact_opened(customer_id=customer, contact_id=unique("k-"))),
            )
            for _ in range(count)
        ]
    )


def test_readyz_reports_a_stalled_read_model_and_recovers_when_it_moves(runtime: Runtime) -> None:
    app = create_api(runtime, workers=set())
    clock = FakeClock()
    app.state.stall_watch = StallWatch(60, clock)
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {
            "event_store",
            "log",
            *(f"projection:{p.name}" for p in runtime.projections),
        }
        _publish_contacts(runtime, 3)
        ingest_everything(runtime)
        assert client.get("/readyz").status_code == 200  # behind, but not for long
        clock.now += 61
        stalled = client.get("/readyz")
        assert stalled.status_code == 503
        body = stalled.json()
        assert body["ready"] is False
        assert body["checks"]["event_store"] == "ok"
        assert body["checks"]["projection:complaint_ledger"].startswith("stalled: at 0 of ")
        project_everything(runtime)
        assert client.get("/readyz").status_code == 200


def test_readyz_reports_an_unreachable_store_and_a_dead_worker(runtime: Runtime) -> None:
    with TestClient(create_api(runtime, workers=set())) as client:
        client.app.state.workers.failed["ingest"] = "OperationalError: gone"  # type: ignore[attr-defined]
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["worker:ingest"] == "stopped: OperationalError: gone"
        client.app.state.workers.failed.clear()  # type: ignore[attr-defined]

        def unreachable() -> int:
            raise ConnectionError("store down")

        with patch.object(runtime.app.process_recorder, "max_notification_id", unreachable):
            answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["event_store"] == "unreachable: ConnectionError"
        assert "store down" not in answer.text


def test_healthz_answers_without_io(runtime: Runtime) -> None:
    with TestClient(create_api(runtime, workers=set())) as client:

        def unreachable() -> int:
            raise ConnectionError("store down")

        with patch.object(runtime.app.process_recorder, "max_notification_id", unreachable):
            assert client.get("/healthz").json() == {"status": "up"}


# -- HTTP metrics on the real API ----------------------------------------------------------------


def test_apis_built_twice_over_one_runtime_count_into_one_set_of_series(runtime: Runtime) -> None:
    for _ in range(2):
        with TestClient(create_api(runtime, workers=set())) as client:
            assert client.get("/healthz").status_code == 200
    got = samples(runtime.registry)
    labels = {"route": "/healthz", "method": "GET", "status_class": "2xx"}
    assert got[key("journey_http_requests_total", **labels)] == 2
    assert http_metrics(runtime.registry) is http_metrics(runtime.registry)


def test_metrics_render_http_series_beside_lag_and_projection_positions(runtime: Runtime) -> None:
    _publish_contacts(runtime, 2)
    with TestClient(create_api(runtime, workers=set())) as client:
        client.get("/v1/customers/someone-42")
        text = client.get("/metrics").text
    got = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    routes = {dict(labels).get("route") for name, labels in got if name.startswith("journey_http")}
    assert "/v1/customers/{customer_id}" in routes
    assert not [r for r in routes if r and "someone-42" in r]
    lags = [v for (name, _), v in got.items() if name == "journey_ingest_lag"]
    assert len(lags) == len(runtime.topics.ingress) * 2
    assert sum(lags) == 2
    projections = {
        dict(labels)["projection"] for name, labels in got if name == "journey_projection_lag"
    }
    assert projections == {p.name for p in runtime.projections}
    assert ("journey_dead_letters", frozenset()) in got


def test_the_access_line_names_the_key_the_real_auth_found(runtime: Runtime) -> None:
    issued = runtime.api_keys.create("analyst")
    stream = io.StringIO()
    handler = configure_logging("json", stream=stream)
    try:
        with TestClient(create_api(runtime, workers=set())) as client:
            bearer = {"Authorization": f"Bearer {issued.secret_text}"}
            client.get("/v1/customers/someone", headers=bearer)
            client.get("/v1/customers/someone")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [orjson.loads(line) for line in stream.getvalue().split("\n") if line]
    access = [(a["status"], a["key_id"]) for a in lines if a["logger"] == "journey.access"]
    assert access == [(404, issued.key_id), (401, None)]


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("R-CMP-01: resolved on an option never offered", "R-CMP-01"),
        ("R-SAT-04: callback before the delivery", "R-SAT-04"),
        ("data.contact_id: control character U+0000", "data"),
        ("data.items[0].sku: required", "data"),
        ("body: not JSON", "body"),
        ("value: null (a tombstone)", "value"),
        ("occurred_at: 2 days after the log's time", "occurred_at"),
        ("unknown order 'o-1'; not arrived within 24h (parked at 2026-03-02)", "not_arrived"),
        ("contact 'k' is already open", "other"),
        ("R-XYZ-99: invented", "other"),
        ("R-CMP-99: out of range", "other"),
        ("attacker-chosen-name: extra field", "other"),
        ("", "other"),
    ],
)
def test_a_dead_letter_reason_is_a_label_from_a_bounded_set(reason: str, label: str) -> None:
    from adapters.metrics import reason_label

    assert reason_label(reason) == label


def test_a_runtime_s_registry_carries_no_created_series() -> None:
    """A counter is one series, not two: no ``_created`` companion (issue 17, item 5)."""
    from adapters.metrics import new_registry

    registry = new_registry()
    IngestMetrics(registry).batch_stored("t", applied=1, refused=0, ignored=0, seconds=0.1)
    text = render(registry).decode()
    assert "journey_ingest_records_total" in text
    assert "_created" not in text

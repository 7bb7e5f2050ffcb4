"""The journey simulator (docs/data.md, "Simulator"): deterministic for a seed, inside its
window, valid for the catalog and for the domain in the order published, with bad records
of every named kind that the catalog (or, for ``domain_rule``, the domain) refuses naming
the field at fault, and with rates near the ones it documents."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sourcelog.base import TopicPartition
from adapters.topics import Topics
from application.service import JourneyApplication
from contracts.envelope import InvalidEvent, SourceEvent, decode
from tests.unit.feeding import Feed
from tools.simulator import BAD_KINDS, SimConfig, SimRecord, SimSummary, simulate

NOW = datetime.fromisoformat("2100-01-01T00:00:00+00:00")
"""Validation's 'now' for good records: after every simulated time."""
MAX_FUTURE = timedelta(minutes=5)
LIMIT = 256 * 1024


def records(config: SimConfig) -> list[SimRecord]:
    return list(simulate(config))


def as_bytes(stream: list[SimRecord]) -> list[tuple[str, bytes, bytes, tuple[object, ...]]]:
    return [(r.route, r.key, r.value, r.headers) for r in stream]


def good(stream: list[SimRecord]) -> list[SimRecord]:
    return [r for r in stream if r.bad_kind is None]


def check(record: SimRecord, now: datetime = NOW) -> SourceEvent:
    return decode(record.value, now=now, max_future=MAX_FUTURE, max_bytes=LIMIT)


def test_same_seed_same_bytes_other_seed_other_stream() -> None:
    config = SimConfig(customers=40, days=20, seed=11, bad_rate=0.05)
    first = as_bytes(records(config))
    assert first == as_bytes(records(config))
    assert first != as_bytes(records(SimConfig(customers=40, days=20, seed=12, bad_rate=0.05)))


def test_spilled_runs_give_the_same_stream() -> None:
    """The order in bounded memory (runs spilled to files) is the order in memory."""
    config = SimConfig(customers=30, days=20, seed=5, bad_rate=0.05)
    assert as_bytes(list(simulate(config, run_size=50))) == as_bytes(records(config))


def test_bad_rate_adds_records_without_changing_the_good_ones() -> None:
    clean = records(SimConfig(customers=30, days=20, seed=3))
    dirty = records(SimConfig(customers=30, days=20, seed=3, bad_rate=0.2))
    assert all(r.bad_kind is None for r in clean)
    assert as_bytes(good(dirty)) == as_bytes(clean)
    assert len(dirty) > len(clean)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.integers(1, 12),
    days=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 10, 1)),
)
def test_events_lie_in_the_window_in_event_time_order(
    customers: int, days: int, seed: int, start: date
) -> None:
    config = SimConfig(customers=customers, days=days, seed=seed, start=start)
    summary = SimSummary(config)
    stream = list(simulate(config, summary))
    times = [check(r).occurred_at for r in stream]
    assert all(config.start_at <= at < config.end_at for at in times)
    assert times == sorted(times)
    assert summary.events == len(stream) == summary.planned
    ids = [r.headers[0][1] for r in stream]
    assert len(set(ids)) == len(ids)


def test_every_good_record_passes_the_catalog_and_goes_to_the_api_topic_but_for_riders() -> None:
    """Each journey rides on the topic of its first step (``Topics.for_type``): a survey
    with its case, returns and after-delivery callbacks with their order."""
    topics = Topics(prefix="j.", partitions=3)
    riders = {"survey", "return", "refund", "merchant", "callback"}
    for record in good(records(SimConfig(customers=60, days=45, seed=1))):
        event = check(record)
        assert event.type == record.type
        assert event.customer_id == record.key.decode()
        topic = record.outgoing(topics).topic
        if record.type.split(".")[0] not in riders:
            assert topic == topics.for_type(record.type)
        else:
            assert topic in (topics.for_type(record.type), "j.contacts", "j.orders")


def test_every_bad_kind_is_refused_naming_its_field() -> None:
    stream = records(SimConfig(customers=60, days=30, seed=2, bad_rate=0.3))
    bad = [r for r in stream if r.bad_kind is not None]
    assert {r.bad_kind for r in bad} == set(BAD_KINDS)
    for record in bad:
        assert record.bad_field
        if record.bad_kind == "domain_rule":
            check(record)  # valid for the catalog; the domain refuses it (next test)
            continue
        # "now" is the record's own time, as the ingest judges it by the append time.
        with pytest.raises(InvalidEvent) as refused:
            check(record, now=datetime.fromisoformat("2026-12-01T00:00:00+00:00"))
        assert record.bad_field in str(refused.value), (record.bad_kind, str(refused.value))


def test_the_domain_accepts_every_good_record_in_published_order(app: JourneyApplication) -> None:
    """Applied in the order published (one partition: stricter than one per topic), the
    domain refuses no good record and every domain-rule bad record (R-ORD-04)."""
    stream = records(SimConfig(customers=80, days=60, seed=4, bad_rate=0.02))
    feed = Feed(app, TopicPartition("j.all", 0))
    refused: list[str] = []
    events = iter([(r, check(r)) for r in stream if r.bad_kind in (None, "domain_rule")])
    while batch := list(islice(events, 500)):
        refused += [str(ref.event_id) for ref, _ in feed(*(event for _, event in batch))]
    bad_ids = {r.headers[0][1].decode() for r in stream if r.bad_kind == "domain_rule"}
    assert bad_ids
    assert set(refused) == bad_ids


def test_rates_are_near_the_documented_ones() -> None:
    """Deterministic for the seed; the bounds say what docs/data.md promises."""
    stream = good(records(SimConfig(customers=600, days=90, seed=9)))
    types = Counter(r.type for r in stream)
    bodies = [orjson.loads(r.value) for r in stream]
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for body in bodies:
        by_type[body["type"]].append(body)
    delivered = types["order.delivered"]
    assert 0.8 < delivered / types["order.placed"] < 1.0
    # Late deliveries (Olist: 8 % of delivered orders); returns (Olist: ~4 %; R-KPI-03).
    promised = {
        b["data"]["order_id"]: b["data"]["promised_delivery_at"] for b in by_type["order.placed"]
    }
    promised |= {
        b["data"]["order_id"]: b["data"]["new_promised_delivery_at"]
        for b in by_type["order.delay_announced"]
    }
    late = sum(
        datetime.fromisoformat(b["occurred_at"])
        > datetime.fromisoformat(promised[b["data"]["order_id"]])
        for b in by_type["order.delivered"]
    )
    assert 0.05 < late / delivered < 0.12
    assert 0.02 < types["return.requested"] / delivered < 0.07
    # Surveys: both low and high scores; overall 5 the most frequent answer.
    overall = Counter(b["data"]["overall"] for b in by_type["survey.answered"])
    assert overall[5] == max(overall.values())
    assert overall[1] > 0
    # Every channel of R-CH-01 opens contacts.
    channels = {b["channel"] for b in by_type["contact.opened"]}
    assert channels == {
        "app",
        "mini_program",
        "web",
        "phone",
        "store",
        "social",
        "marketplace",
        "email",
    }
    # Escalations, reopenings (R-CMP-07), callbacks (R-SAT-04) all occur.
    for kind in ("case.escalated", "case.reopened", "callback.completed", "refund.refunded"):
        assert types[kind] > 0, kind


def test_summary_counts_every_record() -> None:
    config = SimConfig(customers=20, days=20, seed=8, bad_rate=0.1)
    summary = SimSummary(config)
    stream = list(simulate(config, summary))
    assert summary.events + summary.bad == len(stream)
    assert summary.as_json()["bad_by_kind"] == dict(
        sorted(Counter(r.bad_kind for r in stream if r.bad_kind).items())
    )
    assert "bad records by kind" in summary.render()


def test_config_refuses_nonsense() -> None:
    for bad in ({"customers": 0}, {"days": 0}, {"bad_rate": 1.5}):
        with pytest.raises(ValueError, match=next(iter(bad)).replace("_", " ")):
            SimConfig(**{"customers": 1, "days": 1, "seed": 0, **bad})  # type: ignore[arg-type]

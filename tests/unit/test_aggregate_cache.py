"""The ingest worker's aggregate cache: served from memory between batches, and never
trusted past another writer's change (the clock timer, another group member) or a batch
that was not stored. Real SQLite event stores; the property test compares a cached
ingest with an uncached one over simulated journeys, with clock advances between batches."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sourcelog.base import TopicPartition
from application.aggregate_cache import AggregateCache
from application.handlers import HANDLERS
from application.service import JourneyApplication
from contracts.envelope import SourceEvent, validate
from domain.aggregate import JourneyAggregate
from domain.case import Case
from domain.provenance import SourceRef
from tests.builders.apps import make_app
from tests.builders.ingest import PARTITION, Batch, Contact, batch, load
from tools.simulator.config import SimConfig
from tools.simulator.stream import simulate

MAY_BE_NEW = HANDLERS.creating_types()
"""The types whose handlers name ids they may create (``@handles(..., may_be_new=...)``)."""


def cache_of(app: JourneyApplication, maxsize: int = 1000) -> AggregateCache:
    return AggregateCache(app.process_recorder, maxsize)


def store(
    app: JourneyApplication, events: Batch, cache: AggregateCache | None, next_offset: int
) -> None:
    pending = app.prepare_batch(PARTITION, events, next_offset, cache)
    assert pending.refusals == []
    pending.commit()


class CountingLoads:
    """Counts the repository's loads (what the cache is for)."""

    def __init__(self, app: JourneyApplication, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ids: list[UUID] = []
        original = app.repository.get

        def get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
            self.ids.append(aggregate_id)
            return original(aggregate_id, *args, **kwargs)

        monkeypatch.setattr(app.repository, "get", get)


def test_a_stored_batch_serves_the_next_one_from_memory(
    app: JourneyApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = cache_of(app)
    store(app, batch([Contact("e1", "cust-1", "k1")]), cache, 1)
    loads = CountingLoads(app, monkeypatch)
    # A second contact joins the same case: the case comes from the cache.
    store(app, batch([Contact("e2", "cust-1", "k2", case_id="k1")], first_offset=1), cache, 2)
    assert Case.create_id("k1") not in loads.ids
    assert cache.hits >= 1
    assert load(app, "k1").state() == cached_case(cache, "k1").state()


def cached_case(cache: AggregateCache, ref: str) -> Case:
    known, case = cache.lookup(Case.create_id(ref))
    assert known
    assert isinstance(case, Case)
    return case


def test_another_writers_change_is_read_from_the_store(app: JourneyApplication) -> None:
    """The clock timer breaches the case's deadlines between two batches: the next batch
    works on the breached case, so its write does not collide with the timer's."""
    cache = cache_of(app)
    store(app, batch([Contact("e1", "cust-1", "k1")]), cache, 1)
    case_id = Case.create_id("k1")
    version_before = load(app, "k1").version
    assert app.advance_clock(case_id, datetime(2031, 1, 1).astimezone()) > 0
    store(app, batch([Contact("e2", "cust-1", "k2", case_id="k1")], first_offset=1), cache, 2)
    assert cache.evicted_for_others == 1
    stored = load(app, "k1")
    assert stored.version > version_before
    assert stored.state() == cached_case(cache, "k1").state()


def test_an_id_another_writer_created_is_no_longer_known_absent(tmp_path: Path) -> None:
    """A batch learnt that case k1 does not exist; another member (after a rebalance)
    then created it. The next batch must join the existing case, not open a new one."""
    ours, theirs = make_app(tmp_path), make_app(tmp_path)
    try:
        cache = cache_of(ours)
        store(ours, batch([Contact("e0", "cust-1", "k0")]), cache, 1)
        pending = ours.prepare_batch(PARTITION, batch([Contact("e1", "cust-1", "k1")]), 2, cache)
        assert pending.refusals == []
        # ...not stored (say the member lost the partition): the cache forgets the batch.
        theirs.prepare_batch(PARTITION, batch([Contact("e1", "cust-1", "k1")]), 2).commit()
        store(ours, batch([Contact("e2", "cust-1", "k2", case_id="k1")], 2), cache, 3)
        assert load(ours, "k1").version == load(theirs, "k1").version
        assert len(load(ours, "k1").state()["contact_ids"]) == 2
    finally:
        ours.close()
        theirs.close()


def test_an_absent_id_cached_then_created_elsewhere_is_forgotten(tmp_path: Path) -> None:
    """A contact naming the unknown case k9 is parked, and the cache learns k9 is absent;
    another member then opens k9 (releasing the parked contact into it): the next contact
    naming it joins it."""
    ours = make_app(tmp_path)
    theirs = make_app(tmp_path, ours.personal)
    try:
        cache = cache_of(ours)
        events = batch([Contact("e1", "cust-1", "k1"), Contact("e2", "cust-1", "k2", "k9")])
        pending = ours.prepare_batch(PARTITION, events, 2, cache)
        assert [(ref.event_id, str(why)) for ref, why in pending.parked] == [
            ("e2", "unknown case 'k9'")
        ]
        pending.commit()
        assert cache.lookup(Case.create_id("k9")) == (True, None)
        other = TopicPartition("journey.contacts", 1)
        (_, opening) = batch([Contact("e3", "cust-1", "k9")])[0]
        theirs.prepare_batch(other, [(SourceRef("e3", other.topic, 1, 0), opening)], 1).commit()
        store(ours, batch([Contact("e4", "cust-1", "k4", case_id="k9")], 2), cache, 3)
        assert cache.evicted_for_others >= 1
        assert load(ours, "k9").state()["contact_ids"] == ["k9", "k2", "k4"]
        assert load(ours, "k9").state() == cached_case(cache, "k9").state()
    finally:
        ours.close()
        theirs.close()


def test_a_batch_that_was_not_stored_leaves_nothing_behind(app: JourneyApplication) -> None:
    cache = cache_of(app)
    store(app, batch([Contact("e1", "cust-1", "k1")]), cache, 1)
    assert len(cache) > 0
    app.prepare_batch(PARTITION, batch([Contact("e2", "cust-1", "k2", "k1")], 1), 2, cache)
    # Never committed: the next batch starts from an empty cache.
    app.prepare_batch(PARTITION, [], 2, cache)
    assert len(cache) == 0


def test_a_write_from_a_stale_entry_is_refused_by_the_store(app: JourneyApplication) -> None:
    """The safety net under the check: a write racing the batch between its start and its
    commit makes the commit fail (optimistic concurrency); nothing of the batch is stored."""
    cache = cache_of(app)
    store(app, batch([Contact("e1", "cust-1", "k1")]), cache, 1)
    pending = app.prepare_batch(
        PARTITION, batch([Contact("e2", "cust-1", "k2", case_id="k1")], 1), 2, cache
    )
    app.advance_clock(Case.create_id("k1"), datetime(2031, 1, 1).astimezone())
    with pytest.raises(IntegrityError):
        pending.commit()
    assert app.next_offset(PARTITION) == 1
    cache.clear()  # what the worker does, then it resumes from the stored offset
    store(app, batch([Contact("e2", "cust-1", "k2", case_id="k1")], 1), cache, 2)
    assert len(load(app, "k1").state()["contact_ids"]) == 2


def test_the_cache_keeps_the_most_recently_used(app: JourneyApplication) -> None:
    cache = cache_of(app, maxsize=3)
    for n in range(4):
        store(app, batch([Contact(f"e{n}", "cust-1", f"k{n}")], n), cache, n + 1)
        assert len(cache) <= 3
    assert Case.create_id("k3") in cache
    assert Case.create_id("k0") not in cache


def test_creating_events_ask_the_store_about_new_ids_once_per_batch(
    app: JourneyApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every kind of creating event (contact, case, order, customer, callback, survey,
    return) names the ids it may create up front: a cached batch then never asks the
    store about a missing aggregate on its own."""
    events = list(simulated(0))
    creating = {event.type for _, event in events} & set(MAY_BE_NEW)
    assert creating == set(MAY_BE_NEW), "the stream lacks a creating event type"
    missing: list[UUID] = []
    original = app.repository.get

    def get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(aggregate_id, *args, **kwargs)
        except AggregateNotFoundError:
            missing.append(aggregate_id)
            raise

    monkeypatch.setattr(app.repository, "get", get)
    cache = cache_of(app)
    for start in range(0, len(events), 50):
        store(app, events[start : start + 50], cache, min(start + 50, len(events)))
    assert missing == []
    assert app.next_offset(PARTITION) == len(events)


# --- property: a cached ingest stores exactly what an uncached one stores --------------


@cache
def simulated(seed: int) -> tuple[tuple[SourceRef, SourceEvent], ...]:
    """Two months of 30 simulated customers, as validated source events on one partition."""
    config = SimConfig(customers=30, days=60, seed=seed)
    now = config.end_at + timedelta(days=1)
    out = []
    for offset, record in enumerate(simulate(config)):
        event = validate(orjson.loads(record.value), now=now, max_future=timedelta(minutes=5))
        out.append((SourceRef(event.event_id, PARTITION.topic, 0, offset), event))
    return tuple(out)


def normalised(value: Any) -> Any:
    """A stored event's body without what differs between two stores by design: the wall
    clock ``timestamp`` and the sealed personal values (random nonces, other keys)."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if k != "timestamp"}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str) and value.startswith("pii:"):
        return "pii"
    return value


def stored(app: JourneyApplication) -> list[tuple[Any, ...]]:
    notifications = app.process_recorder.select_notifications(1, 1_000_000)
    return [
        (n.originator_id, n.originator_version, n.topic, normalised(orjson.loads(n.state)))
        for n in notifications
    ]


def clocked(app: JourneyApplication) -> list[UUID]:
    """Ids of the stored aggregates that keep SLA clocks, in order of first storage."""
    ids: dict[UUID, None] = {}
    for n in app.process_recorder.select_notifications(1, 1_000_000):
        ids.setdefault(n.originator_id, None)  # type: ignore[arg-type]
    return [i for i in ids if isinstance(app.repository.get(i), JourneyAggregate)]


def ingest(
    app: JourneyApplication,
    events: Sequence[tuple[SourceRef, SourceEvent]],
    cuts: Sequence[int],
    ticks: dict[int, list[tuple[int, int]]],
    cache: AggregateCache | None,
) -> int:
    """Batches split at ``cuts``; before the batch starting at offset o, the timer
    advances the clocks in ``ticks[o]`` (index into the clocked ids, hours past the
    latest event time). Returns how many commits the store refused."""
    refused = 0
    bounds = [0, *sorted(set(cuts)), len(events)]
    for start, end in pairwise(bounds):
        if start == end:
            continue
        if ticks.get(start):
            ids = clocked(app)
            latest = max(event.occurred_at for _, event in events[:start])
            for index, hours in ticks[start]:
                if ids:
                    app.advance_clock(ids[index % len(ids)], latest + timedelta(hours=hours))
        while True:
            pending = app.prepare_batch(PARTITION, list(events[start:end]), end, cache)
            try:
                pending.commit()
                break
            except IntegrityError:
                refused += 1
                assert cache is not None
                cache.clear()
    return refused


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2),
    data=st.data(),
    maxsize=st.sampled_from([5, 50, 10_000]),
)
def test_a_cached_ingest_stores_what_an_uncached_one_stores(
    seed: int, data: st.DataObject, maxsize: int
) -> None:
    events = simulated(seed)
    n = len(events)
    cuts = data.draw(st.lists(st.integers(1, n - 1), max_size=25), label="cuts")
    tick_at = data.draw(st.lists(st.sampled_from(sorted(set(cuts)) or [0]), max_size=6))
    ticks = {
        at: data.draw(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 400)), max_size=4))
        for at in tick_at
        if at
    }
    results = []
    root = Path(tempfile.mkdtemp(prefix="cache-property-"))
    for use_cache in (False, True):
        folder = root / ("cached" if use_cache else "plain")
        folder.mkdir()
        app = make_app(folder)
        try:
            cache = AggregateCache(app.process_recorder, maxsize) if use_cache else None
            refused = ingest(app, events, cuts, ticks, cache)
            assert refused == 0, "a stale cache entry reached the store"
            results.append((stored(app), app.next_offset(PARTITION)))
        finally:
            app.close()
    shutil.rmtree(root)
    assert results[0] == results[1]

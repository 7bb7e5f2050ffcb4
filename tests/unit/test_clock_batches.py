"""Issue 18: the clock timer stores the watermark's decisions (R-RESP-01 breaches and every
other clock) for a batch of aggregates in one transaction, where one each made a catch-up
of history wait on the disk once per aggregate. Batched or one by one, the same events are
stored; a write that races one aggregate holds back only that one."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import consumers.timer
from adapters.readstore import SQLiteReadStore
from application.service import JourneyApplication
from consumers.timer import ClockTimer
from domain.contact import Contact
from projections.deadlines import DeadlineIndex
from projections.runner import NotificationReader
from tests.builders.apps import make_app
from tests.builders.kpis import T0, Journey

S = timedelta(seconds=1)
TARGET = timedelta(seconds=30)  # R-RESP-01 on a chat
LATENESS = timedelta(minutes=5)
M = timedelta(minutes=1)


def stored(app: JourneyApplication, aggregate_id: UUID) -> list[tuple[str, dict[str, Any]]]:
    """Every stored event of the aggregate: its type and its state but the stamps."""
    return [
        (
            type(event).__qualname__,
            {k: v for k, v in vars(event).items() if k not in ("timestamp", "originator_id")},
        )
        for event in app.events.get(aggregate_id)
    ]


def opened(journey: Journey, starts: list[int], replied: set[int]) -> list[UUID]:
    """Chats opened ``starts[i]`` seconds after T0; those in ``replied`` answered in 10 s."""
    for index, start in enumerate(starts):
        journey.contact(f"k-{index}", T0 + start * S, customer=f"c-{index}")
        if index in replied:
            journey.reply(f"k-{index}", T0 + (start + 10) * S, customer=f"c-{index}")
    return [Contact.create_id(f"k-{index}") for index in range(len(starts))]


def counted_loads(app: JourneyApplication) -> list[UUID]:
    """The ids of every aggregate the timer loads from now on, in order."""
    loads: list[UUID] = []
    load = app.load_many
    assert load is not None, "SQLite loads many aggregates at once"

    def counted(aggregate_ids: Sequence[UUID]) -> dict[UUID, Any]:
        loads.extend(aggregate_ids)
        return load(aggregate_ids)

    app.load_many = counted
    return loads


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    starts=st.lists(st.integers(0, 600), min_size=1, max_size=8),
    replied=st.sets(st.integers(0, 7)),
    watermark_s=st.integers(0, 1200),
)
def test_batched_advances_store_what_one_by_one_stores(
    starts: list[int], replied: set[int], watermark_s: int
) -> None:
    """R-RESP-01: the same breaches (or none), whatever the watermark and the chats."""
    watermark = T0 + watermark_s * S
    with tempfile.TemporaryDirectory() as one_dir, tempfile.TemporaryDirectory() as many_dir:
        one, many = make_app(Path(one_dir)), make_app(Path(many_dir))
        ids = opened(Journey(one), starts, replied)
        assert opened(Journey(many), starts, replied) == ids

        alone = sum(one.advance_clock(aggregate_id, watermark) for aggregate_id in ids)
        together, raced = many.advance_clocks(ids, watermark)

        assert (together, raced) == (alone, [])
        assert [stored(many, i) for i in ids] == [stored(one, i) for i in ids]
        expected = sum(
            1
            for index, start in enumerate(starts)
            if index not in replied and watermark > T0 + (start * S) + TARGET + LATENESS
        )
        assert together == expected


def test_a_batch_is_one_write_to_the_store(tmp_path: Path) -> None:
    """Three chats past R-RESP-01's due time plus the lateness: one insert, three breaches."""
    app = make_app(tmp_path)
    ids = opened(Journey(app), [0, 1, 2], set())
    inserts: list[int] = []
    insert = app.recorder.insert_events

    def counted(stored_events: Any, **kwargs: Any) -> Any:
        inserts.append(len(stored_events))
        return insert(stored_events, **kwargs)

    app.recorder.insert_events = counted  # type: ignore[method-assign]
    assert app.advance_clocks(ids, T0 + TARGET + LATENESS + 3 * S) == (3, [])
    assert inserts == [3]


def test_a_write_racing_one_aggregate_holds_back_only_that_one(tmp_path: Path) -> None:
    """While the timer holds chat k-1 loaded, its answer is stored (the ingest): the batch
    cannot be stored as one, so each is advanced alone, k-1 from its new state: answered in
    time (R-RESP-01 met, never breached), the two others breached."""
    app = make_app(tmp_path)
    journey = Journey(app)
    ids = opened(journey, [0, 0, 0], set())
    load = app.load_many
    assert load is not None, "SQLite loads many aggregates at once"

    def racing(aggregate_ids: Sequence[UUID]) -> dict[UUID, Any]:
        loaded = load(aggregate_ids)
        if ids[1] in aggregate_ids and not racing.done:  # type: ignore[attr-defined]
            racing.done = True  # type: ignore[attr-defined]
            journey.reply("k-1", T0 + 10 * S, customer="c-1")
        return loaded

    racing.done = False  # type: ignore[attr-defined]
    app.load_many = racing
    watermark = T0 + TARGET + LATENESS + S

    assert app.advance_clocks(ids, watermark) == (2, [])
    assert racing.done  # type: ignore[attr-defined]
    outcomes: dict[UUID, bool] = {i: app.repository.get(i).outcomes()["R-RESP-01"].met for i in ids}
    assert outcomes == {ids[0]: False, ids[1]: True, ids[2]: False}


def test_the_timer_waits_for_the_index_before_loading_an_aggregate_again(
    tmp_path: Path,
) -> None:
    """R-RESP-01 during a catch-up: the timer breached two chats, the index has not read
    the breaches yet and still shows them open. The next rounds load neither again until
    the index has read past them; a chat whose deadline the index learns of later, due
    long ago, is breached once it does."""
    app = make_app(tmp_path)
    index = DeadlineIndex(SQLiteReadStore(tmp_path / "deadlines.sqlite"))
    index.create_tables()
    reader = NotificationReader(app.process_recorder, app.mapper)

    def project() -> None:
        index.process(reader.read(index.position(), 10_000))

    journey = Journey(app)
    ids = opened(journey, [0, 1], set())
    journey.contact("k-late-clock", T0 + 20 * M, customer="c-9")  # moves the watermark
    project()
    loads = counted_loads(app)
    timer = ClockTimer(app, index)

    assert timer.run_once() == 2
    assert sorted(loads) == sorted(ids)
    assert timer.run_once() == 0  # the index still shows both open
    assert sorted(loads) == sorted(ids)

    journey.contact("k-new", T0 + 30 * S, customer="c-8")  # due long ago
    project()
    loads.clear()  # the ingest loads aggregates too
    assert timer.run_once() == 1  # k-new, read by the index after both breaches
    assert loads == [Contact.create_id("k-new")]
    assert app.repository.get(Contact.create_id("k-new")).outcomes()["R-RESP-01"].met is False


def test_the_timer_walks_past_a_page_of_decisions_the_index_has_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R-RESP-01, rounds of two aggregates: the index never reads the timer's breaches
    here, so the first page stays stale; the next round goes on past it to the third chat,
    and a round that finds only stale rows loads nothing."""
    monkeypatch.setattr(consumers.timer, "DUE_LIMIT", 2)
    app = make_app(tmp_path)
    index = DeadlineIndex(SQLiteReadStore(tmp_path / "deadlines.sqlite"))
    index.create_tables()
    journey = Journey(app)
    ids = opened(journey, [0, 1, 2], set())
    journey.contact("k-late-clock", T0 + 20 * M, customer="c-9")
    index.process(NotificationReader(app.process_recorder, app.mapper).read(0, 10_000))
    loads = counted_loads(app)
    timer = ClockTimer(app, index)

    assert [timer.run_once(), timer.run_once(), timer.run_once()] == [2, 1, 0]
    assert loads == ids


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("advanced"), st.sampled_from("abcdef"), st.integers(0, 3)),
            st.tuples(st.just("index_at"), st.just(""), st.integers(0, 40)),
        ),
        max_size=40,
    )
)
def test_the_timer_forgets_exactly_the_advances_the_index_has_read(
    steps: list[tuple[str, str, int]],
) -> None:
    """The aggregates the timer holds back (advanced, their decisions not yet read by the
    index) are dropped from the front of their order, not by a pass over all of them: the
    same set as keeping each one whose latest advance is past the index's position, for
    any order of advances (the store's head only grows) and index positions."""
    timer = ClockTimer(None, None)  # type: ignore[arg-type]  # neither is used here
    head = 0
    expected: dict[str, int] = {}
    for step, aggregate_id, number in steps:
        if step == "advanced":
            head += number
            timer._note_advanced(aggregate_id, head)
            expected[aggregate_id] = head
        else:
            timer._forget_read(number)
            expected = {a: h for a, h in expected.items() if h > number}
            assert dict(timer._advanced) == expected


def test_with_an_aggregate_cache_the_batch_is_saved_so_the_cache_follows(tmp_path: Path) -> None:
    """R-RESP-01 breaches stored for a batch go straight into the event store, unless the
    application caches aggregates without reading newer events (eventsourcing's
    AGGREGATE_CACHE_MAXSIZE, no fast-forward): then ``save`` stores them and puts the
    advanced aggregates in the cache, which must not keep the versions from before."""
    app = JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
            "AGGREGATE_CACHE_MAXSIZE": "100",
            "AGGREGATE_CACHE_FASTFORWARD": "n",  # the cache is then what save leaves there
        }
    )
    ids = opened(Journey(app), [0, 1], set())
    before: dict[UUID, int] = {i: app.repository.get(i).version for i in ids}  # cached now
    assert app.advance_clocks(ids, T0 + TARGET + LATENESS + 3 * S) == (2, [])
    assert {i: app.repository.get(i).version for i in ids} == {i: v + 1 for i, v in before.items()}
    assert all(not app.repository.get(i).outcomes()["R-RESP-01"].met for i in ids)

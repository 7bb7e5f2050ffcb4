"""Event-time order in bounded memory (tools/importers/timeorder.py): whatever the run
size, the records come out sorted by time, ties in the order they were added — the same
as sorting everything in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tools.importers.timeorder import Pending, TimeOrder, micros

BASE = datetime(2017, 1, 1, tzinfo=UTC)


def record(n: int) -> Pending:
    return Pending(
        f"topic-{n % 3}",
        f"cust-{n % 5}",
        f'{{"n": {n}, "t": "é"}}',
        f"ev-{n}",
        "case.resolved",
        1,
    )


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=50), max_size=120),
    zones=st.lists(st.integers(min_value=-12, max_value=14), min_size=1, max_size=4),
    run_size=st.integers(min_value=1, max_value=40),
)
def test_merged_runs_equal_an_in_memory_sort(
    offsets: list[int], zones: list[int], run_size: int
) -> None:
    # The same instants written with different offsets: order is by instant.
    times = [
        (BASE + timedelta(minutes=m)).astimezone(timezone(timedelta(hours=zones[i % len(zones)])))
        for i, m in enumerate(offsets)
    ]
    order = TimeOrder(run_size)
    for n, at in enumerate(times):
        order.add(at, record(n))
    assert len(order) == len(times)
    expected = [record(n) for n, _ in sorted(enumerate(times), key=lambda pair: (pair[1], pair[0]))]
    assert list(order.drain()) == expected


def test_spills_runs_and_removes_them() -> None:
    order = TimeOrder(run_size=3)
    for n in range(10):
        order.add(BASE - timedelta(seconds=n), record(n))
    assert order.spilled_runs == 3
    assert [r.event_id for r in order.drain()] == [f"ev-{n}" for n in reversed(range(10))]
    assert order.spilled_runs == 0


def test_micros_is_exact() -> None:
    at = datetime(2016, 2, 29, 1, 16, 0, 123_456, tzinfo=UTC)
    assert micros(at) == 1_456_708_560_123_456
    assert micros(at.astimezone(timezone(timedelta(hours=-3)))) == micros(at)

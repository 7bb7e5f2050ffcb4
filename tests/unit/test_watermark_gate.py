"""``consumers.watermark_gate``: parked events expire only by a watermark the ingest has read
every partition behind (DESIGN.md: per-partition watermarks combined)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from adapters.sourcelog.base import TopicPartition
from consumers.watermark_gate import CaughtUpWatermark

A = TopicPartition("orders", 0)
B = TopicPartition("engagement", 0)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


class Log:
    """Ends of the log and what the store applied, moved by the test."""

    def __init__(self) -> None:
        self.end = {A: 0, B: 0}
        self.applied = {A: 0, B: 0}
        self.closed = False

    def __call__(self) -> Mapping[TopicPartition, int]:
        return dict(self.end)

    def close(self) -> None:
        self.closed = True

    def gate(self) -> CaughtUpWatermark:
        return CaughtUpWatermark(self, self.applied.__getitem__)


def test_nothing_is_trusted_while_a_partition_has_records_unread() -> None:
    log = Log()
    log.end = {A: 5, B: 9}
    log.applied = {A: 0, B: 9}  # the engagement topic read ahead; orders unread
    gate = log.gate()
    assert gate.trusted(T0 + timedelta(days=2)) is None
    assert gate.behind == {A: 5}
    log.applied[A] = 4
    assert gate.trusted(T0 + timedelta(days=3)) is None
    log.applied[A] = 5
    # The watermark read when the ends were, not the later one.
    assert gate.trusted(T0 + timedelta(days=3)) == T0 + timedelta(days=2)
    assert gate.trusted(T0 + timedelta(days=3)) == T0 + timedelta(days=3)


def test_records_published_after_the_watermark_was_read_hold_it_back_no_longer() -> None:
    log = Log()
    log.end = {A: 3, B: 3}
    log.applied = {A: 3, B: 3}
    gate = log.gate()
    assert gate.trusted(T0) == T0  # caught up: trusted at once
    log.end = {A: 10, B: 3}  # a steady stream goes on
    assert gate.trusted(T0 + timedelta(hours=1)) == T0  # pending behind A up to 10
    log.end = {A: 20, B: 3}
    log.applied[A] = 10
    assert gate.trusted(T0 + timedelta(hours=2)) == T0 + timedelta(hours=1)


def test_an_idle_partition_holds_nothing_back_and_close_closes_the_reader() -> None:
    log = Log()
    log.end = {A: 0, B: 7}
    log.applied = {A: 0, B: 7}
    gate = log.gate()
    assert gate.trusted(T0) == T0
    assert gate.trusted(None) == T0
    gate.close()
    assert log.closed


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # records appended to A
            st.integers(0, 3),  # records appended to B
            st.integers(0, 4),  # records applied from A
            st.integers(0, 4),  # records applied from B
        ),
        max_size=30,
    )
)
def test_a_trusted_watermark_was_read_before_ends_the_store_has_since_reached(
    steps: list[tuple[int, int, int, int]],
) -> None:
    """Whatever the interleaving of appends and applies: the trusted watermark never goes
    back, never passes the watermark given, and was read at a moment whose log ends the
    store has applied since."""
    log = Log()
    gate = log.gate()
    reads: list[tuple[datetime, dict[TopicPartition, int]]] = []
    before: datetime | None = None
    for i, (add_a, add_b, apply_a, apply_b) in enumerate(steps):
        log.end[A] += add_a
        log.end[B] += add_b
        log.applied[A] = min(log.end[A], log.applied[A] + apply_a)
        log.applied[B] = min(log.end[B], log.applied[B] + apply_b)
        watermark = T0 + timedelta(minutes=i)
        reads.append((watermark, dict(log.end)))
        trusted = gate.trusted(watermark)
        if trusted is None:
            assert before is None
            continue
        assert trusted <= watermark
        assert before is None or trusted >= before
        ends = dict(reads)[trusted]
        assert all(log.applied[tp] >= end for tp, end in ends.items())
        before = trusted

"""Bounded pages of histories and explanations, by cursor (the last position shown):
every item exactly once, in order, and a group of items sharing a position never split
across pages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from api.paging import page_after


@given(
    positions=st.lists(st.integers(0, 30), max_size=80).map(sorted),
    limit=st.integers(1, 10),
)
def test_paging_through_yields_every_item_once_in_order(positions: list[int], limit: int) -> None:
    items = list(enumerate(positions))  # (index, position)
    seen: list[tuple[int, int]] = []
    after = None
    for _ in range(len(items) + 1):
        shown, after = page_after(items, lambda item: item[1], after, limit)
        if shown:
            groups = {p for _, p in shown}
            # a page never splits a group: each group shown whole
            assert all(
                sum(1 for _, q in items if q == p) == sum(1 for _, q in shown if q == p)
                for p in groups
            )
        seen += shown
        if after is None:
            break
    assert seen == items


def test_a_page_holds_at_most_limit_unless_one_group_is_longer() -> None:
    items = [1, 2, 2, 2, 3]
    assert page_after(items, int, None, 2) == ([1], "1")
    assert page_after(items, int, "1", 2) == ([2, 2, 2], "2")
    assert page_after(items, int, "2", 2) == ([3], None)

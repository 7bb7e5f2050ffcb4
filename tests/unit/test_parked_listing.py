"""Issue 15, item 6 (cursor paging everywhere): ``GET /v1/admin/parked`` pages by a keyset
(expiry, event id, lot), not an offset, so events parked while an admin pages through
neither repeat nor push one of the others off the pages."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders.apps import make_app
from tests.builders.parking import ENGAGEMENT, Setting, callback


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=12),
    later=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), max_size=6),
    limit=st.integers(1, 5),
)
def test_pages_hold_every_event_parked_throughout_once(
    first: list[tuple[int, int]], later: list[tuple[int, int]], limit: int
) -> None:
    """Callbacks for unknown orders park (R-SAT-04 waits for the order), many expiring at
    the same minute; more park between the pages. Every event parked from the first page
    to the last is listed once, and nothing twice."""
    with tempfile.TemporaryDirectory() as folder:
        setting = Setting(make_app(Path(folder)), Path(folder))
        events = [callback(f"o-{o}", minute, f"e-{n}") for n, (minute, o) in enumerate(first)]
        setting.send(ENGAGEMENT, *events)
        setting.project()
        throughout = {e.event_id for e in events}

        seen: list[str] = []
        after = None
        arriving = iter(enumerate(later))
        while True:
            page = setting.index.listing(limit + 1, after)
            seen += [p.event_id for p in page[:limit]]
            if len(page) <= limit:
                break
            after = page[limit - 1].position
            for n, (minute, o) in arriving:  # one more parks before the next page
                setting.send(ENGAGEMENT, callback(f"o-{o}", minute, f"late-{n}"))
                setting.project()
                break

        assert len(seen) == len(set(seen))
        assert throughout <= set(seen)

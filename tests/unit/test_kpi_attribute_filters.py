"""Every KPI answer under a source-attribute filter (issue 15, item 4): ``attribute=name:value``
on ``/v1/kpis``, on its explanation, the funnel (R-KPI-08), the anomalies (R-KPI-06) and
the QA sample (R-KPI-07) mean the same on each: of the facts whose subject holds the
attributes only.

Each answer under a filter is compared with the same answer computed in Python over the
facts read back and filtered by their subjects' stored attributes
(``tests.builders.kpi_filters``), the events explain lists among them: exactly those
``/v1/kpis`` counts under the filter. The routes: tests/unit/test_kpi_attribute_routes.py."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import SQLiteReadStore
from application.service import JourneyApplication
from projections.kpis import KpiCounters
from projections.kpis.zones import local_day
from tests.builders.apps import make_app
from tests.builders.kpi_filters import check_every_answer, holding
from tests.builders.kpis import STEPS, Step, in_turn, new_kpis, notifications, play
from tests.builders.query_plans import plans, recording
from tests.builders.source_attributes import T0, opened, stores_apart
from tests.unit.feeding import Feed

ZONES = ("UTC", "Asia/Shanghai", "Asia/Kathmandu", "America/St_Johns")
VALUES = st.lists(st.sampled_from(["Web", "Fax", None]), min_size=1, max_size=4)
"""The values a random journey's events carry in turn (``tests.builders.kpis.in_turn``)."""
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)


@PROPERTY
@given(
    steps=STEPS,
    values=VALUES,
    zone=st.sampled_from(ZONES),
    seed=st.integers(0, 2**31 - 1),
)
def test_under_a_filter_each_kpi_answer_is_that_of_the_matching_facts_only(
    steps: list[Step], values: list[str | None], zone: str, seed: int
) -> None:
    """Random journeys whose events carry source attributes in turn (a case's events may
    disagree: the latest is kept), in zones at whole hours, at 05:45 and with summer time."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        kpi = new_kpis(SQLiteReadStore(Path(folder) / "kpi.sqlite"))
        try:
            play(app, steps, labels=in_turn(values))
            kpi.process(notifications(app))
            nonempty = check_every_answer(kpi, ZoneInfo(zone), seed)
        finally:
            kpi.store.close()
            app.close()
    assert nonempty or not any(values)


STORES = ("s1", "s2", "s3")
DAYS = 4


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(
        st.lists(
            st.tuples(st.booleans(), st.sampled_from(["Web", "Postal mail", None])),
            min_size=1,
            max_size=3,
        ),
        min_size=DAYS * len(STORES),
        max_size=DAYS * len(STORES),
    )
)
def test_r_kpi_06_under_a_filter_over_random_days_and_stores(
    cells: list[list[tuple[bool, str | None]]],
) -> None:
    """Contacts on four days at three stores, each store some every day, complaints or not:
    runs of days above the peers appear, and under a filter they are those of the matching
    contacts only."""
    events = [
        opened(
            f"r-{n}-{k}",
            {"submitted_via": via} if via else None,
            at=T0 + timedelta(days=n // len(STORES), minutes=n * 3 + k),
            classification="complaint" if complaint else "inquiry",
            customer=f"cust-r-{n}-{k}",
            store=STORES[n % len(STORES)],
        )
        for n, contacts in enumerate(cells)
        for k, (complaint, via) in enumerate(contacts)
    ]
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        kpi = new_kpis(SQLiteReadStore(Path(folder) / "kpi.sqlite"))
        try:
            assert Feed(app)(*events) == []
            kpi.process(notifications(app))
            check_every_answer(kpi, ZoneInfo("Asia/Shanghai"), 0)
        finally:
            kpi.store.close()
            app.close()


def test_r_kpi_06_a_filter_can_turn_the_store_flagged(
    app: JourneyApplication, kpi: KpiCounters
) -> None:
    assert Feed(app)(*stores_apart()) == []
    kpi.process(notifications(app))
    [first, *_, last] = sorted({local_day(int(f["at"]), ZoneInfo("UTC")) for f in holding(kpi, ())})

    def flagged(*held: tuple[str, str]) -> list[tuple[str, list[str]]]:
        return [(a["value"], a["flagged_days"]) for a in kpi.anomalies(first, last, held=held)]

    third = [last.isoformat()]
    assert flagged() == [("s2", third)]
    assert flagged(("submitted_via", "Postal mail")) == [("s1", third)]
    assert flagged(("submitted_via", "Web")) == [("s2", third)]
    assert flagged(("submitted_via", "Fax")) == []


def test_under_a_filter_the_facts_are_read_by_instant_and_each_subject_looked_up_by_key(
    kpi: KpiCounters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No index is added for the filter: each query under it reads the period's facts by
    ``kpi_facts_at`` and looks each fact's subject up by ``kpi_attributes``' primary key
    (owner, name), never a scan of either table, whatever the number of subjects."""
    asked = recording(kpi.store, monkeypatch)
    held = (("submitted_via", "Web"), ("state", "CA"))
    span = (date(2026, 3, 1), date(2026, 3, 31))
    kpi.explain("type:complaint", span[0], UTC, held)
    kpi.qa_sample(None, *span, 0, UTC, held)
    kpi.funnel(*span, UTC, held)
    kpi.anomalies(*span, UTC, held)
    kpi.kpis(*span, ["day", "store"], UTC, held)
    found = plans(kpi.store, asked, "kpi_attributes")
    assert len(found) == 6, asked  # anomalies: by store, by agent group
    for plan in found:
        assert "SEARCH kpi_facts USING INDEX kpi_facts_at (at>? AND at<?)" in plan, plan
        for join in ("h0", "h1"):
            lookup = f"SEARCH {join} USING INDEX sqlite_autoindex_kpi_attributes_1"
            assert f"{lookup} (owner_id=? AND attribute=?)" in plan, plan
        assert "SCAN" not in plan, plan

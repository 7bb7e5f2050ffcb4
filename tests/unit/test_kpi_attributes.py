"""KPIs by source attribute (issue 15, item 4): the KPI counters keep each aggregate's source
attributes (``projections.kpis.attributes``) and filter and group the facts by them, in
any report zone; the figures of the groups of an attribute add up to the ungrouped ones,
and a filter on a value gives that value's group."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import SQLiteReadStore
from application.service import JourneyApplication
from domain.provenance import SourceRef
from projections.kpis import KpiCounters
from projections.kpis.attributes import Attributes
from projections.kpis.queries import UnknownGroup
from tests.builders.apps import make_app
from tests.builders.kpis import new_kpis, notifications
from tests.builders.source_attributes import T0, VIAS, cases, opened
from tests.unit.feeding import Feed

COUNTS = ("contacts", "cases", "complaint_cases")
ZONES = ("UTC", "Asia/Shanghai", "Asia/Kathmandu", "America/St_Johns")


def counted(app: JourneyApplication, folder: Path) -> KpiCounters:
    kpi = new_kpis(SQLiteReadStore(folder / "rm.sqlite"))
    kpi.process(notifications(app))
    return kpi


def by_via(rows: Sequence[dict[str, Any]], figure: str) -> Counter[str | None]:
    return Counter({row["attributes"]["submitted_via"]: row[figure] for row in rows})


def test_cases_and_contacts_are_counted_under_their_source_attributes(
    app: JourneyApplication, tmp_path: Path
) -> None:
    assert Feed(app)(*cases()) == []
    kpi = counted(app, tmp_path)
    rows = kpi.kpis(None, None, ["attribute.submitted_via"])
    assert by_via(rows, "cases") == Counter(VIAS)  # None: the case without any
    assert by_via(rows, "contacts") == Counter(VIAS)
    [web] = kpi.kpis(None, None, held=(("submitted_via", "Web"),))
    assert (web["cases"], web["contacts"]) == (3, 3)
    assert "attributes" not in web
    [ca] = kpi.kpis(None, None, ["attribute.state"], held=(("submitted_via", "Fax"),))
    assert (ca["attributes"], ca["cases"]) == ({"state": "CA"}, 1)
    assert kpi.kpis(None, None, held=(("submitted_via", "Telex"),)) == []
    with pytest.raises(UnknownGroup):
        kpi.kpis(None, None, ["attribute.zip_code"])
    with pytest.raises(UnknownGroup):
        kpi.kpis(None, None, held=(("zip_code", "90210"),))


@given(order=st.permutations(range(4)), split=st.integers(0, 4))
def test_the_latest_value_in_event_time_is_kept_whatever_the_arrival_order(
    order: list[int], split: int
) -> None:
    """Events of one aggregate that give a name other values: the latest in event time
    (then the greater event id) is kept, whatever order and batches they arrive in."""
    stamps = [(0, "e-1", "Web"), (2, "e-2", "Fax"), (2, "e-3", "Phone"), (1, "e-4", "Email")]
    events = [
        SimpleNamespace(
            occurred_at=T0 + timedelta(hours=hours),
            source=SourceRef(event_id, "t", 0, n, (("submitted_via", via),)),
        )
        for n, (hours, event_id, via) in enumerate(stamps)
    ]
    with tempfile.TemporaryDirectory() as folder:
        kpi = new_kpis(SQLiteReadStore(Path(folder) / "rm.sqlite"))
        arrived = [("owner-1", events[i]) for i in order]
        for batch in (arrived[:split], arrived[split:]):
            with kpi.store.transaction() as cursor:
                Attributes(cursor, kpi.t).apply(batch)
        [row] = kpi.store.query(f"SELECT * FROM {kpi.t('kpi_attributes')}")
        kpi.store.close()
    assert (row["attribute_value"], row["stamped_event"]) == ("Phone", "e-3")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vias=st.lists(st.sampled_from(["Web", "Fax", "Phone", None]), min_size=1, max_size=6),
    zone=st.sampled_from(ZONES),
    grain=st.sampled_from([None, "day", "month"]),
)
def test_the_groups_of_an_attribute_add_up_to_the_ungrouped_figures(
    vias: list[str | None], zone: str, grain: str | None
) -> None:
    tz = ZoneInfo(zone)
    events = [
        opened(
            f"c-{n}",
            {"submitted_via": via} if via else None,
            at=T0.replace(hour=(7 * n) % 24, minute=(13 * n) % 60),
            classification="complaint" if n % 3 else "inquiry",
            customer=f"cust-{n}",
        )
        for n, via in enumerate(vias)
    ]
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        try:
            assert Feed(app)(*events) == []
            kpi = counted(app, Path(folder))
            grains = [grain] if grain else []
            whole = kpi.kpis(None, None, grains, tz)
            grouped = kpi.kpis(None, None, [*grains, "attribute.submitted_via"], tz)
            for figure in COUNTS:
                summed: Counter[str | None] = Counter()
                for row in grouped:
                    summed[row.get(grain) if grain else None] += row[figure]
                expected = Counter(
                    {row.get(grain) if grain else None: row[figure] for row in whole}
                )
                assert +summed == +expected, figure
            for via in {v for v in vias if v}:
                held = kpi.kpis(None, None, grains, tz, (("submitted_via", via),))
                group = [
                    {k: v for k, v in r.items() if k != "attributes"}
                    for r in grouped
                    if r["attributes"]["submitted_via"] == via
                ]
                assert held == group
            kpi.store.close()
        finally:
            app.close()

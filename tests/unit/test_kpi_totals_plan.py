"""A long period's KPI totals by place (the console's overview asks all time by store) are
read from a covering index in group order, not by the hours then sorted (``projections.kpis
.sums``): at 1M events on SQLite, 800 ms by store before, 100 ms now; a short period still
reads its hours."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.readstore import Params, Row
from projections.kpis import KpiCounters
from projections.kpis.tables import COUNTER_TABLES, CounterTable


@pytest.mark.parametrize("spec", COUNTER_TABLES, ids=lambda s: s.table)
def test_totals_by_place_over_a_period_read_the_index_alone(
    kpi: KpiCounters, monkeypatch: pytest.MonkeyPatch, spec: CounterTable
) -> None:
    place = spec.dimensions[1]
    asked: list[tuple[str, Params | None]] = []
    query = kpi.store.query

    def recorded(sql: str, params: Params | None = None) -> list[Row]:
        asked.append((sql, params))
        return query(sql, params)

    monkeypatch.setattr(kpi.store, "query", recorded)
    kpi.kpis(date(2026, 1, 1), date(2026, 12, 31), [place])
    counted = [(sql, params) for sql, params in asked if spec.table in sql]
    assert counted, asked
    for sql, params in counted:
        plan = " ".join(str(row["detail"]) for row in query("EXPLAIN QUERY PLAN " + sql, params))
        assert f"USING COVERING INDEX {spec.table}_by_place" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_a_week_by_place_reads_its_hours(kpi: KpiCounters, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, Params | None]] = []
    query = kpi.store.query

    def recorded(sql: str, params: Params | None = None) -> list[Row]:
        asked.append((sql, params))
        return query(sql, params)

    monkeypatch.setattr(kpi.store, "query", recorded)
    kpi.kpis(date(2026, 3, 2), date(2026, 3, 8), ["store"])
    [(sql, params)] = [(q, p) for q, p in asked if "kpi_counters_store" in q]
    plan = " ".join(str(row["detail"]) for row in query("EXPLAIN QUERY PLAN " + sql, params))
    assert "(hour>? AND hour<?)" in plan, plan


def test_a_period_by_day_reads_its_hours_from_the_index_alone(
    kpi: KpiCounters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console's trends: no place, by day; the hours' counts without the table."""
    asked: list[tuple[str, Params | None]] = []
    query = kpi.store.query

    def recorded(sql: str, params: Params | None = None) -> list[Row]:
        asked.append((sql, params))
        return query(sql, params)

    monkeypatch.setattr(kpi.store, "query", recorded)
    kpi.kpis(date(2026, 1, 1), date(2026, 12, 31), ["day"])
    [(sql, params)] = [(q, p) for q, p in asked if "kpi_counters_channel" in q]
    plan = " ".join(str(row["detail"]) for row in query("EXPLAIN QUERY PLAN " + sql, params))
    assert "USING COVERING INDEX kpi_counters_by_hour" in plan, plan

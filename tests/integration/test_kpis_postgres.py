"""The KPI read model on PostgreSQL gives what it gives on SQLite (tests/unit/test_kpis.py
proves the rules on SQLite): the same rows for a fixed journey fed in batches of 7, and the
same answers to every query."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.readstore import ReadStore
from application.service import JourneyApplication
from projections.kpis import KpiCounters
from projections.kpis import metrics as m
from tests.builders.kpis import DAY0, FIXED, new_kpis, notifications, play, snapshot


@pytest.mark.postgres
def test_postgres_gives_the_same_counts(
    app: JourneyApplication,
    kpi: KpiCounters,
    postgres_store: ReadStore,
) -> None:
    play(app, FIXED)
    log = notifications(app)
    kpi.process(log)
    pg = new_kpis(postgres_store)
    for start in range(0, len(log), 7):
        pg.process(log[start : start + 7])
    assert snapshot(pg) == snapshot(kpi)
    span = (DAY0, date(2027, 1, 1))
    for group_by in ([], ["channel"], ["store", "agent_group"], ["day", "agent_group"]):
        assert pg.kpis(*span, group_by) == kpi.kpis(*span, group_by)
    # Local days by integer arithmetic alike in both stores: a whole-hour zone (hourly
    # counters), a half-hour one (the facts), one that changes its clocks (segments).
    for name in ("Asia/Shanghai", "Asia/Kolkata", "America/New_York"):
        zone = ZoneInfo(name)
        for group_by in (["day", "channel"], ["week"], ["month", "store", "agent_group"]):
            assert pg.kpis(*span, group_by, zone) == kpi.kpis(*span, group_by, zone)
        assert pg.kpis(None, None, [], zone) == kpi.kpis(None, None, [], zone)
    assert pg.funnel(*span) == kpi.funnel(*span)
    assert pg.anomalies(*span) == kpi.anomalies(*span)
    assert pg.qa_sample(None, *span, seed=3) == kpi.qa_sample(None, *span, seed=3)
    [at] = {r["at"] for r in kpi.store.query("SELECT at FROM kpi_facts LIMIT 1")}
    day = date(1970, 1, 1) + timedelta(seconds=at)
    assert pg.explain(m.CONTACTS, day) == kpi.explain(m.CONTACTS, day)

"""The KPI answers under a source-attribute filter on PostgreSQL (issue 15, item 4;
tests/unit/test_kpi_attribute_filters.py proves them on SQLite): fed in batches of 7, each
answer under each filter is that of the matching facts read back from PostgreSQL (explain's
events exactly those ``kpis`` counts), and the same as SQLite's."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from adapters.readstore import ReadStore
from adapters.sourcelog.base import TopicPartition
from application.service import JourneyApplication
from projections.kpis import KpiCounters
from tests.builders.kpi_filters import check_every_answer, filters
from tests.builders.kpis import FIXED, in_turn, new_kpis, notifications, play
from tests.builders.source_attributes import stores_apart
from tests.unit.feeding import Feed

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.postgres
def test_postgres_answers_under_a_filter_as_its_facts_and_as_sqlite(
    app: JourneyApplication, kpi: KpiCounters, postgres_store: ReadStore
) -> None:
    play(app, FIXED, labels=in_turn(["Web", "Fax", None]))
    assert Feed(app, TopicPartition("journey.contacts", 0))(*stores_apart()) == []
    log = notifications(app)
    kpi.process(log)
    pg = new_kpis(postgres_store)
    for start in range(0, len(log), 7):
        pg.process(log[start : start + 7])

    assert check_every_answer(pg, SHANGHAI, seed=3) >= 5
    span = (date(2026, 3, 1), date(2026, 12, 31))
    held_by_some = filters(kpi)
    assert held_by_some == filters(pg)
    for held in held_by_some:
        assert pg.kpis(*span, ["week", "store"], SHANGHAI, held) == kpi.kpis(
            *span, ["week", "store"], SHANGHAI, held
        )
        assert pg.funnel(*span, SHANGHAI, held) == kpi.funnel(*span, SHANGHAI, held)
        assert pg.anomalies(*span, SHANGHAI, held) == kpi.anomalies(*span, SHANGHAI, held)
        assert pg.qa_sample(None, *span, 3, SHANGHAI, held) == kpi.qa_sample(
            None, *span, 3, SHANGHAI, held
        )
        day = span[0].replace(day=2)
        assert pg.explain("contacts", day, SHANGHAI, held) == kpi.explain(
            "contacts", day, SHANGHAI, held
        )
    postal = (("submitted_via", "Postal mail"),)
    assert [a["value"] for a in pg.anomalies(*span, SHANGHAI, postal)] == ["s1"]

"""A build that changes a read model's tables raises its ``schema_version``; a store holding
an older layout has that read model refilled from the log at start, and only that one
(``projections.layout``). Without it the KPI counters' new tables (facts dated to the
second, counters by hour) met a store of the old ones and failed on every batch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.readstore import SQLiteReadStore
from application.service import JourneyApplication
from projections.base import Projection
from projections.customer360 import Customer360
from projections.kpis import KpiCounters
from projections.quarantine import Held, Quarantine
from projections.runner import NotificationReader, ProjectionRunner
from tests.builders.apps import make_app
from tests.unit.complaint_specs import SPECS, ingest


@pytest.fixture
def app(tmp_path: Path) -> Iterator[JourneyApplication]:
    made = make_app(tmp_path)
    ingest(made, SPECS)
    yield made
    made.close()


def caught_up(app: JourneyApplication, *projections: Projection) -> None:
    runner = ProjectionRunner(NotificationReader(app.process_recorder, app.mapper), projections)
    head = app.process_recorder.max_notification_id() or 0
    while min(p.position() for p in projections) < head:
        runner.run_once()


def count(store: SQLiteReadStore, table: str) -> int:
    return int(store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def test_an_older_layout_is_refilled_from_the_log_and_the_others_are_left(
    app: JourneyApplication, tmp_path: Path
) -> None:
    store = SQLiteReadStore(tmp_path / "read.sqlite")
    quarantine = Quarantine(store)
    quarantine.create_tables()
    kpis, c360 = KpiCounters(store), Customer360(store)
    for projection in (kpis, c360):
        projection.create_tables()
    caught_up(app, kpis, c360)
    quarantine.hold(kpis.position_name, Held(1, "x", 1, "t"), ValueError("old bug"))
    facts, rows = count(store, "kpi_facts"), count(store, "c360_customers")
    assert facts > 0
    assert rows > 0
    # A store from before layouts were recorded: it holds layout 1 of both.
    with store.transaction() as cursor:
        cursor.execute("DELETE FROM read_model_layouts")
    head = app.process_recorder.max_notification_id()

    restarted: list[Projection] = [KpiCounters(store), Customer360(store)]
    for renewed in restarted:
        renewed.create_tables()

    assert KpiCounters.schema_version == 3  # 3: kpi_attributes
    assert Customer360.schema_version == 1
    assert (restarted[0].position(), count(store, "kpi_facts")) == (0, 0)
    assert quarantine.counts() == {}
    assert (restarted[1].position(), count(store, "c360_customers")) == (head, rows)
    caught_up(app, *restarted)
    assert count(store, "kpi_facts") == facts

    again = KpiCounters(store)
    again.create_tables()  # the same layout: nothing is dropped
    assert (again.position(), count(store, "kpi_facts")) == (head, facts)
    store.close()

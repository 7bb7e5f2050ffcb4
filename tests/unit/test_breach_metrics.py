"""``journey_breached_deadlines{rule}`` (issue 17, item 5): the SLA deadlines whose outcome
in force is a breach, by rule, read on every scrape from the KPI counters' hourly sums
(``KpiQueries.breaches_by_rule``) through one index — never the facts or the events. For
random journeys it equals the breaches the KPIs report over all time; a breach settled
within target by a late fact (R-RESP-01) leaves it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from adapters.metrics import render
from adapters.readstore import SQLiteReadStore
from adapters.status_metrics import StatusCollector
from application.service import JourneyApplication
from application.status import Status
from contracts.clock_needs import CLOCK_NEEDS
from domain.contact import Contact
from projections.kpis import KpiCounters
from tests.builders.apps import make_app
from tests.builders.kpis import (
    ACTIONS,
    GAPS,
    T0,
    Journey,
    M,
    S,
    Step,
    new_kpis,
    notifications,
    play,
)
from tests.builders.query_plans import plans, recording
from tests.integration.metrics_text import samples

RULES = {need.rule.partition(" ")[0] for need in CLOCK_NEEDS}
STEPS = st.lists(
    st.tuples(
        st.sampled_from(("c1", "c2")),
        st.booleans(),
        st.sampled_from(ACTIONS),
        st.sampled_from(GAPS),
        st.integers(0, 11),
    ),
    min_size=10,
    max_size=40,
)


def all_time_breaches(kpi: KpiCounters) -> dict[str, int]:
    """What the KPI report says over all time (rules with none left out)."""
    rows = kpi.kpis(None, None)
    return dict(rows[0]["breaches"]) if rows else {}


def test_every_rule_with_a_clock_reads_zero_before_any_breach(kpi: KpiCounters) -> None:
    assert kpi.breaches_by_rule() == dict.fromkeys(RULES, 0)


def test_the_status_collector_renders_breaches_as_a_gauge_by_rule() -> None:
    registry = CollectorRegistry()
    status = Status([], 0, 0, [], breaches={"R-RESP-01": 3, "R-REF-02": 0})
    registry.register(StatusCollector(lambda: status))

    got = samples(render(registry).decode())
    assert got[("journey_breached_deadlines", frozenset({("rule", "R-RESP-01")}))] == 3
    assert got[("journey_breached_deadlines", frozenset({("rule", "R-REF-02")}))] == 0
    assert "# TYPE journey_breached_deadlines gauge" in render(registry).decode()
    assert status.as_json()["breaches"] == {"R-RESP-01": 3, "R-REF-02": 0}


def test_r_resp_01_a_breach_settled_within_target_leaves_the_count(
    app: JourneyApplication, kpi: KpiCounters
) -> None:
    journey = Journey(app)
    journey.contact("k-late", T0)
    assert app.advance_clock(Contact.create_id("k-late"), T0 + 10 * M) == 1
    kpi.process(notifications(app))
    assert kpi.breaches_by_rule()["R-RESP-01"] == 1

    journey.reply("k-late", T0 + 20 * S)  # happened in time, arrived after the breach
    kpi.process(notifications(app))
    assert kpi.breaches_by_rule()["R-RESP-01"] == 0


def test_a_scrape_reads_the_breaches_from_an_index_alone(
    kpi: KpiCounters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's plan for the scrape's query: a covering index, no scan of the table."""
    asked = recording(kpi.store, monkeypatch)
    kpi.breaches_by_rule()
    [plan] = plans(kpi.store, asked, "")  # one query, whatever it reads
    assert "USING COVERING INDEX kpi_counters_metric" in plan, plan


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(steps=STEPS)
def test_breaches_by_rule_equal_the_kpi_report_over_all_time(steps: list[Step]) -> None:
    """Kept by deltas batch by batch, read from the index: the same figures as the KPI
    report's breaches over all time, and every rule with a clock is present."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        kpi = new_kpis(SQLiteReadStore(Path(folder) / "kpi.sqlite"))
        try:
            play(app, steps, after=lambda: kpi.process(notifications(app)))
            by_rule = kpi.breaches_by_rule()
            assert set(by_rule) == RULES
            assert {rule: n for rule, n in by_rule.items() if n} == all_time_breaches(kpi)
        finally:
            kpi.store.close()
            app.close()

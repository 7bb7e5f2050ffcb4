"""The KPI report (issue 15, items 1 and 2): days, ISO weeks and months in a time zone,
over facts dated by instants; each KPI beside its policy target (R-KPI-01..03); the
definitions declared once; explain's metric names; all time in one call; breaches by how
they were detected."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.main import create_api
from application.service import JourneyApplication
from domain.contact import Contact
from domain.policy import BASELINE
from journey.bootstrap import Runtime
from projections.kpis import KpiCounters
from projections.kpis import definitions as d
from projections.kpis import metrics as m
from projections.kpis.zones import label, segments, start_of
from tests.builders.kpis import FIXED, T0, Journey, M, S, notifications, play
from tests.integration.drive import project_everything

SHANGHAI, KOLKATA, NEW_YORK = (
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("America/New_York"),
)
MONDAY = datetime(2026, 3, 9, tzinfo=SHANGHAI)
"""Local midnight starting ISO week 2026-W11 in Shanghai: Sunday 16:00 UTC, still W10."""


def caught_up(app: JourneyApplication, kpi: KpiCounters) -> KpiCounters:
    kpi.process(notifications(app))
    return kpi


def contacts_by(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {row[key]: row["contacts"] for row in rows}


# -- time zones -----------------------------------------------------------------------------


def test_a_week_and_a_month_end_at_local_midnight_one_second_either_side(
    app: JourneyApplication, kpi: KpiCounters
) -> None:
    journey = Journey(app)
    journey.contact("sun-2330", MONDAY - 30 * M)  # Sunday 23:30 local: 15:30 UTC
    journey.contact("sun-last", MONDAY - S)  # 23:59:59 local, Sunday
    journey.contact("mon-first", MONDAY)  # 00:00:00 local, Monday: Sunday 16:00 UTC
    april = datetime(2026, 4, 1, tzinfo=SHANGHAI)
    journey.contact("mar-last", april - S)
    journey.contact("apr-first", april)  # March 31st, 16:00 UTC
    caught_up(app, kpi)

    weeks = contacts_by(kpi.kpis(None, None, ["week"], SHANGHAI), "week")
    assert weeks == {"2026-W10": 2, "2026-W11": 1, "2026-W14": 2}
    assert contacts_by(kpi.kpis(None, None, ["week"], UTC), "week") == {
        "2026-W10": 3,
        "2026-W14": 2,
    }
    months = contacts_by(kpi.kpis(None, None, ["month"], SHANGHAI), "month")
    assert months == {"2026-03": 4, "2026-04": 1}
    assert contacts_by(kpi.kpis(None, None, ["month"], UTC), "month") == {"2026-03": 5}
    days = contacts_by(kpi.kpis(date(2026, 3, 8), date(2026, 3, 9), ["day"], SHANGHAI), "day")
    assert days == {"2026-03-08": 2, "2026-03-09": 1}
    # A date parameter is a date in the zone: Monday 9th in Shanghai holds one contact.
    assert [r["contacts"] for r in kpi.kpis(date(2026, 3, 9), date(2026, 3, 9), [], SHANGHAI)] == [
        1
    ]
    assert [r["contacts"] for r in kpi.kpis(date(2026, 3, 8), date(2026, 3, 8), [], UTC)] == [3]
    [first] = kpi.explain(m.CONTACTS, date(2026, 3, 9), SHANGHAI)
    assert first["dated_at"] == "2026-03-09T00:00:00+08:00"
    assert first["occurred_at"] == "2026-03-09T00:00:00+08:00"


def _expected_from_facts(kpi: KpiCounters, zone: ZoneInfo, grain: str) -> Counter[tuple[str, str]]:
    """(period label, metric) → count, read from the fact rows one by one."""
    found: Counter[tuple[str, str]] = Counter()
    for row in kpi.store.query("SELECT metric, at FROM kpi_facts"):
        day = datetime.fromtimestamp(row["at"], UTC).astimezone(zone).date()
        found[(label(day, grain), row["metric"])] += 1  # type: ignore[arg-type]
    return found


@pytest.mark.parametrize("zone", [SHANGHAI, UTC, KOLKATA, NEW_YORK], ids=str)
@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_grouped_by_period_in_a_zone_equals_the_facts_counted_one_by_one(
    app: JourneyApplication, kpi: KpiCounters, zone: ZoneInfo, grain: str
) -> None:
    """Hourly counters (whole-hour zones) and the facts (Asia/Kolkata, +05:30) alike;
    America/New_York changes its clocks in the period (segments)."""
    play(app, FIXED)
    caught_up(app, kpi)
    expected = _expected_from_facts(kpi, zone, grain)
    for metric, figure in (
        (m.CONTACTS, "contacts"),
        (m.RESPONSES, "responses"),
        (m.RESOLVED, "resolved"),
        (m.ORDERS, "orders"),
    ):
        by_period = {
            row[grain]: row[figure] for row in kpi.kpis(None, None, [grain], zone) if row[figure]
        }
        assert by_period == {p: n for (p, mm), n in expected.items() if mm == metric}
        by_channel = kpi.kpis(None, None, [grain, "channel"], zone)
        for period, n in by_period.items():
            assert sum(r[figure] for r in by_channel if r[grain] == period) == n


def test_segments_cut_where_the_offset_changes() -> None:
    low, high = start_of(date(2026, 3, 1), NEW_YORK), start_of(date(2026, 4, 1), NEW_YORK)
    [(a, b, winter), (c, e, summer)] = segments(low, high, NEW_YORK)
    assert (a, b, c, e) == (low, int(datetime(2026, 3, 8, 7, tzinfo=UTC).timestamp()), b, high)
    assert (winter, summer) == (-5 * 3600, -4 * 3600)
    assert segments(low, high, SHANGHAI) == [(low, high, 8 * 3600)]


# -- targets, definitions, explain --------------------------------------------------------------


def test_r_kpi_01_02_03_targets_come_from_the_policy_and_the_bound_is_met() -> None:
    assert (BASELINE.response_rate_min, BASELINE.fcr_rate_min, BASELINE.return_rate_max) == (
        0.98,
        0.85,
        0.05,
    )
    judged = d.targets({"response_rate": 0.98, "fcr_rate": 0.849, "return_rate": 0.05}, BASELINE)
    assert {k: (v["target"], v["direction"], v["met"]) for k, v in judged.items()} == {
        "response_rate": (0.98, "at_least", True),
        "fcr_rate": (0.85, "at_least", False),
        "return_rate": (0.05, "at_most", True),
    }
    assert d.targets({"return_rate": 0.051}, BASELINE)["return_rate"]["met"] is False
    assert d.targets({"response_rate": None}, BASELINE)["response_rate"]["met"] is None


def test_docs_kpis_md_is_the_registry() -> None:
    """Regenerate: see the first lines of docs/kpis.md."""
    assert Path("docs/kpis.md").read_text() == d.markdown()


def test_every_figure_with_a_definition_is_in_a_row_and_every_count_is_known() -> None:
    row = m.figures({})
    assert {kpi.name for kpi in d.KPIS} <= set(row)
    for metric in (m.CONTACTS, "type:complaint", "stage:pre_sale", "detected:R-RESP-01/fact"):
        assert d.known(metric)
    for metric in ("nope", "stage:nowhere", "detected:R-RESP-01", "breaches:", "day"):
        assert not d.known(metric)


# -- breaches by detection --------------------------------------------------------------------


def test_breaches_say_whether_a_fact_or_the_watermark_detected_them(
    app: JourneyApplication, kpi: KpiCounters
) -> None:
    journey = Journey(app)
    journey.contact("k-late-reply", T0)
    journey.reply("k-late-reply", T0 + 31 * S)  # the reply itself shows the breach
    journey.contact("k-silent", T0)
    assert app.advance_clock(Contact.create_id("k-silent"), T0 + 10 * M) == 1
    caught_up(app, kpi)

    [row] = kpi.kpis(T0.date(), T0.date())
    assert row["breaches"] == {"R-RESP-01": 2}
    assert row["breaches_by_detection"] == {"R-RESP-01": {"fact": 1, "watermark": 1}}
    [silent] = kpi.explain("detected:R-RESP-01/watermark", T0.date())
    assert (silent["ref"], silent["detected_by"]) == ("k-silent", "watermark")


# -- through the API ----------------------------------------------------------------------------


@pytest.fixture
def analyst(runtime: Runtime) -> Iterator[TestClient]:
    issued = runtime.api_keys.create("analyst")
    with TestClient(create_api(runtime, workers=set())) as client:
        client.headers["Authorization"] = f"Bearer {issued.secret_text}"
        yield client


def test_all_time_in_one_call_with_targets_and_times_in_the_report_zone(
    runtime: Runtime, analyst: TestClient
) -> None:
    journey = Journey(runtime.app)
    journey.contact("k-2026", T0)
    journey.reply("k-2026", T0 + 10 * S)
    journey.contact("k-2028", T0 + timedelta(days=800))  # beyond any 366-day period
    journey.reply("k-2028", T0 + timedelta(days=800, seconds=40))
    project_everything(runtime)

    answer = analyst.get("/v1/kpis")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["start"], body["end"], body["tz"], body["policy_version"]) == (
        None,
        None,
        "Asia/Shanghai",
        "2026.1",
    )
    [row] = body["rows"]
    assert (row["contacts"], row["responses"], row["responses_in_target"]) == (2, 2, 1)
    assert row["targets"]["response_rate"] == {
        "rule": "R-KPI-01",
        "value": 0.5,
        "target": 0.98,
        "direction": "at_least",
        "met": False,
    }
    assert "day" not in row  # only the keys grouped by
    by_month = analyst.get("/v1/kpis", params={"group_by": "month", "tz": "UTC"}).json()
    assert [(r["month"], r["contacts"]) for r in by_month["rows"]] == [
        ("2026-03", 1),
        ("2028-05", 1),
    ]
    explained = analyst.get(
        "/v1/kpis/explain", params={"metric": "contacts", "day": "2026-03-02"}
    ).json()
    assert explained["events"][0]["occurred_at"] == "2026-03-02T09:00:00+08:00"


def test_explain_refuses_an_unknown_metric_listing_the_known_ones(analyst: TestClient) -> None:
    answer = analyst.get("/v1/kpis/explain", params={"metric": "nope", "day": "2026-03-02"})
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert problem["field"] == "query.metric"
    assert all(name in problem["reason"] for name in d.metric_names())


def test_an_unknown_time_zone_is_a_422_naming_tz(analyst: TestClient) -> None:
    answer = analyst.get("/v1/kpis", params={"tz": "Mars/Olympus"})
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "query.tz"
    twice = analyst.get("/v1/kpis", params={"group_by": ["day", "week"]})
    assert twice.status_code == 422


def test_the_openapi_text_of_kpis_holds_every_definition(analyst: TestClient) -> None:
    described = analyst.get("/openapi.json").json()["paths"]["/v1/kpis"]["get"]["description"]
    for kpi in d.KPIS:
        assert kpi.numerator in described
        assert kpi.excludes in described

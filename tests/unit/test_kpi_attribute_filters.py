"""Every KPI answer under a source-attribute filter (issue 15, item 4): ``attribute=name:value``
on ``/v1/kpis``, on its explanation, the funnel (R-KPI-08), the anomalies (R-KPI-06) and
the QA sample (R-KPI-07), declared once (``api.kpi_scope``) and meaning the same on each:
of the facts whose subject holds the attributes only.

Each answer under a filter is compared with the same answer computed here, in Python, over
the facts read back and filtered by their subjects' stored attributes; the events explain
lists under a filter are exactly those ``/v1/kpis`` counts under it (through the projection
for random journeys, through the HTTP API for a fixed one); and the route table is walked
so that a KPI route without the filter cannot be added."""

from __future__ import annotations

import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, timedelta, tzinfo
from pathlib import Path
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import Row, SQLiteReadStore
from adapters.sourcelog.base import TopicPartition
from api.deps import get_kpis
from api.main import create_api
from api.routing import query_names
from application.service import JourneyApplication
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from projections.kpis import KpiCounters
from projections.kpis import metrics as m
from projections.kpis.anomalies import CONSECUTIVE_DAYS, anomalies
from projections.kpis.sample import sample
from projections.kpis.sums import Counts, Held
from projections.kpis.zones import local_day, start_of
from tests.builders.apps import make_app
from tests.builders.kpis import FIXED, STEPS, Step, in_turn, new_kpis, notifications, play
from tests.builders.source_attributes import T0, opened, stores_apart
from tests.integration.drive import project_everything
from tests.unit.feeding import Feed

ZONES = ("UTC", "Asia/Shanghai", "Asia/Kathmandu", "America/St_Johns")
VALUES = st.lists(st.sampled_from(["Web", "Fax", None]), min_size=1, max_size=4)
"""The values a random journey's events carry in turn (``tests.builders.kpis.in_turn``)."""
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)


# -- the oracle: the facts filtered here -------------------------------------------------------


def holding(kpi: KpiCounters, held: Held) -> list[Row]:
    """The facts whose subject holds every attribute of ``held``: every fact and every
    subject's attributes read back, the filter applied here."""
    holds: dict[str, dict[str, str]] = defaultdict(dict)
    for row in kpi.store.query(f"SELECT * FROM {kpi.t('kpi_attributes')}"):
        holds[row["owner_id"]][row["attribute"]] = row["attribute_value"]
    facts = kpi.store.query(f"SELECT * FROM {kpi.t('kpi_facts')}")
    return [f for f in facts if all(holds[f["subject_id"]].get(n) == v for n, v in held)]


def within(facts: Sequence[Row], start: date, end: date, zone: tzinfo) -> list[Row]:
    low, high = start_of(start, zone), start_of(end + timedelta(days=1), zone)
    return [f for f in facts if low <= int(f["at"]) < high]


def counts_of(facts: Sequence[Row]) -> Counts:
    """metric → (count, sum of values), each fact counted toward its labels too."""
    counts: Counts = {}
    for fact in facts:
        for metric in (fact["metric"], *m.labels_of(fact)):
            n, total = counts.get(metric, (0, 0))
            counts[metric] = (n + 1, total + int(fact["value"]))
    return counts


def anomalies_of(facts: Sequence[Row], start: date, end: date, zone: tzinfo) -> list[Any]:
    """R-KPI-06 over ``facts``: the daily complaint rates of each store and agent group."""
    found = []
    read = within(facts, start - timedelta(days=CONSECUTIVE_DAYS - 1), end, zone)
    for dimension in ("store", "agent_group"):
        daily: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for fact in read:
            if fact["metric"] in (m.CONTACTS, m.COMPLAINT_CASES):
                day = local_day(int(fact["at"]), zone).isoformat()
                daily[(day, fact[dimension])][fact["metric"]] += 1
        found += anomalies(
            dimension,
            [
                (day, value, c[m.COMPLAINT_CASES], c[m.CONTACTS])
                for (day, value), c in sorted(daily.items())
            ],
        )
    return found


FIGURES = {m.HANDLING: "handled", m.CSAT: "csat_answers"}
"""The counts whose figure in a row of ``/v1/kpis`` is not named as the metric."""


def figure(row: dict[str, Any], metric: str) -> int | None:
    """The figure of ``metric`` in a row of ``/v1/kpis`` (None: an issue not in the top 5)."""
    prefix, colon, label = metric.partition(":")
    family = prefix + colon
    if not colon:
        return int(row[FIGURES.get(metric, metric)])
    if family == m.TYPE:
        return int(row["volume_by_classification"].get(label, 0))
    if family == m.STAGE:
        return int(row["stages"][label])
    if family == m.BREACHES:
        return int(row["breaches"].get(label, 0))
    if family == m.DETECTED:
        rule, _, how = label.rpartition("/")
        return int(row["breaches_by_detection"].get(rule, {}).get(how, 0))
    return {i["issue"]: i["contacts"] for i in row["top5_issues"]}.get(label)


def filters(kpi: KpiCounters) -> list[Held]:
    """No filter, each (name, value) held by some subject, each two of them with other
    names, and a value nobody holds."""
    pairs = sorted(
        (r["attribute"], r["attribute_value"])
        for r in kpi.store.query(
            f"SELECT DISTINCT attribute, attribute_value FROM {kpi.t('kpi_attributes')}"
        )
    )
    two = [(a, b) for a in pairs for b in pairs if a[0] < b[0]]
    return [(), *((pair,) for pair in pairs), *two, (("submitted_via", "Telex"),)]


def check_every_answer(kpi: KpiCounters, zone: tzinfo, seed: int) -> int:
    """Every KPI answer under each filter equals the same computed over the matching facts
    only; returns how many filtered answers had something in them."""
    extent = kpi.extent()
    assert extent is not None
    first, last = (local_day(second, zone) for second in extent)
    nonempty = 0
    for held in filters(kpi):
        facts = holding(kpi, held)
        # R-KPI-01..05 by day, and explain: the events of each count are the facts counted.
        rows = {r["day"]: r for r in kpi.kpis(None, None, ["day"], zone, held)}
        days: dict[str, list[Row]] = defaultdict(list)
        for fact in facts:
            days[local_day(int(fact["at"]), zone).isoformat()].append(fact)
        assert set(rows) == set(days), held
        for day, mine in days.items():
            counts = counts_of(mine)
            assert {k: v for k, v in rows[day].items() if k != "day"} == m.figures(counts)
            for metric, (n, total) in counts.items():
                explained = kpi.explain(metric, date.fromisoformat(day), zone, held)
                assert len(explained) == n
                assert figure(rows[day], metric) in (n, None), (held, day, metric)
                assert sum(e["value"] for e in explained) == total
                assert sorted((e["subject_id"], e["subkey"]) for e in explained) == sorted(
                    (f["subject_id"], f["subkey"])
                    for f in mine
                    if metric in (f["metric"], *m.labels_of(f))
                )
        # R-KPI-08, R-KPI-06, R-KPI-07 over the whole span.
        period = within(facts, first, last, zone)
        assert kpi.funnel(first, last, zone, held) == {
            "start": first.isoformat(),
            "end": last.isoformat(),
            **m.funnel(counts_of(period)),
        }
        assert kpi.anomalies(first, last, zone, held) == anomalies_of(facts, first, last, zone)
        drawn = kpi.qa_sample(None, first, last, seed, zone, held)
        expected = sample([f for f in period if f["metric"] == m.CONTACTS], seed)
        assert [(s["contact"], s["rank"], s["population"]) for s in drawn] == [
            (r["subject_id"], r["rank"], r["population"]) for r in expected
        ]
        nonempty += bool(held and facts)
    return nonempty


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


# -- through the API --------------------------------------------------------------------------


@pytest.fixture
def runtime(settings_env: dict[str, str]) -> Iterator[Runtime]:
    with patch.dict(os.environ, settings_env):
        made = build(Settings())
    yield made
    made.close()


@pytest.fixture
def api(runtime: Runtime) -> FastAPI:
    return create_api(runtime, workers=set())


@pytest.fixture
def analyst(runtime: Runtime, api: FastAPI) -> Iterator[TestClient]:
    issued = runtime.api_keys.create("analyst")
    with TestClient(api) as client:
        client.headers["Authorization"] = f"Bearer {issued.secret_text}"
        yield client


def calls(dependant: Dependant) -> set[Any]:
    """What a route calls to solve its parameters, its dependencies' dependencies included."""
    found, pending = set(), [dependant]
    while pending:
        current = pending.pop()
        found.add(current.call)
        pending.extend(current.dependencies)
    return found


def kpi_routes(app: FastAPI) -> list[RouteContext]:
    """Every route that reads the KPI counters (through ``api.deps.get_kpis``), as served."""
    return [
        c
        for c in iter_route_contexts(app.routes)
        if isinstance(c.original_route, APIRoute) and get_kpis in calls(c.dependant)
    ]


KPI_PATHS = {"/v1/kpis", "/v1/kpis/funnel", "/v1/kpis/explain", "/v1/anomalies", "/v1/qa-sample"}
REQUIRED = {"start": "2026-03-01", "end": "2026-03-31", "day": "2026-03-02", "metric": "contacts"}
"""A value of each required parameter of a KPI route; a route with another fails the walk
until it is named here."""


def test_every_kpi_route_takes_the_attribute_filter(api: FastAPI) -> None:
    routes = kpi_routes(api)
    assert {r.path for r in routes} >= KPI_PATHS
    documented = api.openapi()["paths"]
    for route in routes:
        assert "attribute" in query_names(route.dependant), route.path
        [operation] = documented[route.path].values()
        assert "attribute" in [p["name"] for p in operation["parameters"]], route.path


def test_every_kpi_route_refuses_a_bad_filter_naming_attribute_and_names_a_good_one(
    api: FastAPI, analyst: TestClient
) -> None:
    for route in kpi_routes(api):
        path = str(route.path)
        required = {
            p.alias: REQUIRED[p.alias]
            for p in route.dependant.query_params
            if p.field_info.is_required()
        }
        for bad in ("zip_code:90210", "submitted_via", "submitted_via:", ":Web"):
            answer = analyst.get(path, params={**required, "attribute": bad})
            assert answer.status_code == 422, (path, bad, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert [p["field"] for p in answer.json()["problems"]] == ["query.attribute"]
        good = ["submitted_via:Postal mail", "state:CA"]
        answer = analyst.get(path, params={**required, "attribute": good})
        assert answer.status_code == 200, (path, answer.text)
        assert answer.json()["attributes"] == {"submitted_via": "Postal mail", "state": "CA"}


@pytest.fixture
def labelled(runtime: Runtime) -> Runtime:
    """A random journey's events labelled in turn (Web, Fax, none), and ``stores_apart``'s
    contacts (Postal mail or Web), applied and projected."""
    play(runtime.app, FIXED, labels=in_turn(["Web", "Fax", None]))
    assert Feed(runtime.app, TopicPartition("journey.contacts", 0))(*stores_apart()) == []
    project_everything(runtime)
    return runtime


HELD = (
    ["submitted_via:Web"],
    ["submitted_via:Fax", "state:Web"],
    ["order_status:Fax"],
    ["submitted_via:Postal mail"],
)
PERIOD = {"start": "2026-03-01", "end": "2026-12-31", "tz": "UTC"}


def test_explain_lists_what_kpis_counts_under_the_same_filter_over_http(
    labelled: Runtime, analyst: TestClient
) -> None:
    checked = 0
    for held in HELD:
        by_day = analyst.get("/v1/kpis", params={"group_by": "day", "attribute": held})
        assert by_day.status_code == 200, by_day.text
        for row in by_day.json()["rows"]:
            for metric in ("contacts", "cases", "responses", "orders", "type:inquiry"):
                answer = analyst.get(
                    "/v1/kpis/explain",
                    params={"metric": metric, "day": row["day"], "attribute": held, "limit": 1},
                )
                assert answer.status_code == 200, answer.text
                assert answer.json()["count"] == figure(row, metric), (held, row["day"], metric)
                checked += answer.json()["count"]
    assert checked > 20


def test_funnel_anomalies_and_sample_over_http_are_those_of_the_filter(
    labelled: Runtime, analyst: TestClient
) -> None:
    def get(path: str, held: list[str], **more: str) -> Any:
        answer = analyst.get(path, params={**PERIOD, **more, "attribute": held})
        assert answer.status_code == 200, answer.text
        return answer.json()

    for held in ([], *HELD):
        [whole] = get("/v1/kpis", held)["rows"]
        funnel = get("/v1/kpis/funnel", held)
        for name in (
            "stages",
            "contacts",
            "converted",
            "after_sales_cases",
            "after_sales_resolved",
        ):
            assert funnel[name] == whole[name], (held, name)
        by_group = get("/v1/kpis", held, group_by="agent_group")["rows"]
        drawn = get("/v1/qa-sample", held, seed="7")["sample"]
        assert {s["agent_group"]: s["population"] for s in drawn} == {
            row["agent_group"]: row["contacts"] for row in by_group if row["contacts"]
        }
    # Postal mail is only stores_apart's: s1 above its peer there, s2 over all and web.
    flagged = {
        tuple(held): {(a["dimension"], a["value"]) for a in get("/v1/anomalies", held)["anomalies"]}
        for held in ([], ["submitted_via:Postal mail"])
    }
    assert flagged[("submitted_via:Postal mail",)] == {("store", "s1")}
    assert ("store", "s2") in flagged[()]

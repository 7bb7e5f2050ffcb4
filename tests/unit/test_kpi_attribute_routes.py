"""Every KPI route takes the source-attribute filter (issue 15, item 4), declared once
(``api.kpi_scope``): the route table is walked, so a route that reads the KPI counters
without it fails here; a bad filter is a 422 naming ``attribute`` on each; and over HTTP,
explain lists what ``/v1/kpis`` counts under the same filter, and the funnel, the QA sample
and the anomalies are those of the filter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

from adapters.sourcelog.base import TopicPartition
from api.deps import get_kpis
from api.main import create_api
from api.routing import query_names
from journey.bootstrap import Runtime
from tests.builders.kpi_filters import figure
from tests.builders.kpis import FIXED, in_turn, play
from tests.builders.source_attributes import stores_apart
from tests.integration.drive import project_everything
from tests.unit.feeding import Feed


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
        unfiltered = analyst.get(path, params=required)
        assert unfiltered.status_code == 200, (path, unfiltered.text)
        assert "attributes" not in unfiltered.json(), path


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

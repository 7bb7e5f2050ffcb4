"""``/v1/kpis`` by source attribute over HTTP (issue 15, item 4), on every pairing of log and
store: cases published with source attributes through ``/v1/events``; the KPIs grouped by
``attribute.<name>`` and filtered by ``attribute=name:value`` in one call each; problems for
an undeclared name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_api
from journey.bootstrap import Runtime
from tests.builders.desk import Desk


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[Desk]:
    with TestClient(create_api(runtime, workers=set())) as client:
        d = Desk(runtime, client)
        bodies = [
            d.opened(0, "complaint", {"submitted_via": "Postal mail", "state": "CA"}),
            d.opened(1, "complaint", {"submitted_via": "Web"}),
            d.opened(2, "inquiry", {"submitted_via": "Web"}),
            d.opened(3, "inquiry", {"state": "NY"}),
        ]
        d.publish(bodies)
        yield d


def test_kpis_grouped_and_filtered_by_a_source_attribute(desk: Desk) -> None:
    grouped = desk.get("/v1/kpis", group_by="attribute.submitted_via", tz="UTC").json()
    by_via = {row["attributes"]["submitted_via"]: row for row in grouped["rows"]}
    assert {via: row["cases"] for via, row in by_via.items()} == {
        "Postal mail": 1,
        "Web": 2,
        None: 1,
    }
    assert by_via["Web"]["complaint_cases"] == 1
    [web] = desk.get("/v1/kpis", attribute="submitted_via:Web").json()["rows"]
    assert (web["cases"], web["contacts"]) == (2, 2)
    both = desk.get(
        "/v1/kpis", attribute=["submitted_via:Web"], group_by=["channel", "attribute.state"]
    ).json()
    assert both["attributes"] == {"submitted_via": "Web"}
    assert [row["attributes"] for row in both["rows"]] == [{"state": None}]
    problem = desk.get("/v1/kpis", 422, group_by="attribute.zip_code").json()
    assert "attribute.zip_code" in problem["detail"]
    problem = desk.get("/v1/kpis", 422, attribute="zip_code:90210").json()
    assert [p["field"] for p in problem["problems"]] == ["query.attribute"]


def test_explain_funnel_anomalies_and_sample_take_the_same_filter(desk: Desk) -> None:
    """Every KPI route under ``attribute=submitted_via:Web`` (two of the four cases): the
    events explain lists are what ``/v1/kpis`` counts, the funnel and the QA sample are of
    those two contacts, and each answer names the filter; a bad one is a 422 on each."""
    web, day = "submitted_via:Web", "2026-03-02"
    [row] = desk.get("/v1/kpis", start=day, end=day, attribute=web, tz="UTC").json()["rows"]
    for metric, figure in (("contacts", 2), ("cases", 2), ("complaint_cases", 1)):
        explained = desk.get(
            "/v1/kpis/explain", metric=metric, day=day, attribute=web, tz="UTC"
        ).json()
        assert explained["count"] == row[metric] == figure, metric
        assert explained["attributes"] == {"submitted_via": "Web"}
    period = {"start": day, "end": day, "attribute": web, "tz": "UTC"}
    funnel = desk.get("/v1/kpis/funnel", 200, **period).json()
    assert (funnel["contacts"], funnel["stages"]) == (2, row["stages"])
    drawn = desk.get("/v1/qa-sample", 200, **period).json()
    assert [s["population"] for s in drawn["sample"]] == [2]
    anomalies = desk.get("/v1/anomalies", 200, **period).json()
    assert (anomalies["anomalies"], anomalies["attributes"]) == ([], {"submitted_via": "Web"})
    for path, more in (
        ("/v1/kpis/explain", {"metric": "contacts", "day": day}),
        ("/v1/kpis/funnel", {"start": day, "end": day}),
        ("/v1/anomalies", {"start": day, "end": day}),
        ("/v1/qa-sample", {"start": day, "end": day}),
    ):
        problem = desk.get(path, 422, attribute="zip_code:90210", **more).json()
        assert [p["field"] for p in problem["problems"]] == ["query.attribute"], path

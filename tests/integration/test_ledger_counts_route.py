"""``/v1/ledger/counts`` and the ledger's new filters over HTTP (issue 15, items 4 and 5), on
every pairing of log and store: cases published with source attributes through
``/v1/events``; totals and groups in one call each; ``classification=complaint`` and the
attribute filter on ``/v1/complaints`` and its CSV; problems for an unknown dimension, a
malformed attribute filter, and an event whose attribute is not declared."""

from __future__ import annotations

import csv
import io
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
        ]
        d.publish(bodies)
        yield d


def test_counts_filters_and_csv(desk: Desk) -> None:
    counts = desk.get(
        "/v1/ledger/counts", group_by=["classification", "attribute.submitted_via"]
    ).json()
    assert counts["total"] == 3
    assert {
        (g["key"]["classification"], g["key"]["attribute.submitted_via"]): g["count"]
        for g in counts["groups"]
    } == {("complaint", "Postal mail"): 1, ("complaint", "Web"): 1, ("inquiry", "Web"): 1}
    complaints = desk.get("/v1/ledger/counts", classification="complaint").json()
    assert (complaints["total"], complaints["groups"]) == (2, [])
    table = desk.get(
        "/v1/ledger/counts", group_by="attribute.state", format="csv"
    ).text.splitlines()
    assert table[0] == "attribute.state,count"
    assert sorted(table[1:]) == [",2", "CA,1"]

    page = desk.get(
        "/v1/complaints", classification="complaint", attribute="submitted_via:Web"
    ).json()
    assert [row["attributes"] for row in page["items"]] == [{"submitted_via": "Web"}]
    customer = f"cust-0-{desk.tag}"
    mine = desk.get("/v1/complaints", customer=customer).json()["items"]
    assert [row["attributes"] for row in mine] == [{"state": "CA", "submitted_via": "Postal mail"}]
    exported = desk.get("/v1/complaints", format="csv", customer=customer).text
    (row,) = list(csv.DictReader(io.StringIO(exported)))
    assert row["attributes"] == "state=CA | submitted_via=Postal mail"


def test_problems_name_what_is_wrong(desk: Desk) -> None:
    unknown = desk.get("/v1/ledger/counts", 422, group_by="attribute.zip_code").json()
    assert unknown["problems"][0]["field"] == "query.group_by"
    bad = desk.get("/v1/complaints", 422, attribute="submitted_via").json()
    assert bad["problems"][0]["field"] == "query.attribute"
    body = desk.opened(9, "complaint", {"zip_code": "90210"})
    refused = desk.client.post("/v1/events", json=[body], headers=desk.channel)
    assert refused.status_code in (400, 422), refused.text
    assert "attributes.zip_code" in refused.text

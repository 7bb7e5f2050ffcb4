"""The real data sets' own figures, asked of the service in a handful of calls (issue 15,
"Tests"), on every pairing of log and store: each test imports a slice of a data set
(docs/data.md), computes a figure straight from the CSV (its own code, not the
importer's) and compares it with what the API answers from the source attributes the
importers keep (issue 15, item 4) and the ledger's counts (item 5):

- CFPB: complaints per original submission channel ("Submitted via"), and the source's
  share of timely responses ("Timely response?") per year of the date received (the
  ledger's counts) and per submission channel (the KPIs by source attribute);
- Olist: orders per original status (``order_status``, eight values where our orders have
  four) and late deliveries, from the orders route and from the orders' counts;
- ServiceNow: incidents per contact type and their mean reassignment count.

A record whose attributes the catalogue refuses is dead-lettered with a reason naming the
attribute: test_bad_input.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_api
from journey.bootstrap import Runtime
from tests.integration.datasets import csv_rows, data_set, imported, incidents

SLICE = 300
CFPB_CLOSED = frozenset(
    {
        "Closed with explanation",
        "Closed with monetary relief",
        "Closed with non-monetary relief",
        "Closed",
        "Untimely response",
    }
)


class Analyst:
    """Calls of the API with an analyst's key; counts every call it makes."""

    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        secret = runtime.api_keys.create("analyst").secret_text
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.client = client
        self.calls = 0

    def get(self, path: str, **query: Any) -> Any:
        self.calls += 1
        answer = self.client.get(path, params=query, headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def groups(self, path: str = "/v1/ledger/counts", **query: Any) -> dict[tuple[Any, ...], int]:
        """A counts route's groups (the ledger's unless ``path``), by the values of the
        dimensions asked."""
        answer = self.get(path, **query)
        assert not answer["truncated"]
        dims = query["group_by"] if isinstance(query["group_by"], list) else [query["group_by"]]
        return {tuple(g["key"][d] for d in dims): g["count"] for g in answer["groups"]}

    def orders(self, **query: Any) -> int:
        """How many orders match (following the pages)."""
        found, cursor = 0, None
        while True:
            more: dict[str, str] = {} if cursor is None else {"cursor": cursor}
            page = self.get("/v1/orders", limit=500, **query, **more)
            found += len(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return found


@pytest.fixture
def analyst(runtime: Runtime) -> Iterator[Analyst]:
    with TestClient(create_api(runtime, workers=set())) as client:
        yield Analyst(runtime, client)


def test_cfpb_complaints_per_submission_channel_and_timely_share_per_year(
    runtime: Runtime, analyst: Analyst
) -> None:
    folder = data_set("cfpb-complaints-sample")
    source = csv_rows(folder / "cfpb_complaints_sample.csv", SLICE)
    summary = imported(runtime, "cfpb", folder, SLICE)
    assert not summary.rows_skipped

    via = analyst.groups(classification="complaint", group_by="attribute.submitted_via")
    assert via == {(k,): n for k, n in Counter(s["Submitted via"] for s in source).items()}
    # Timely share per year (the date received's year; the importer dates a complaint at
    # midnight UTC of that date, so the year is the same in UTC as in the CSV).
    by_year = analyst.groups(
        classification="complaint",
        group_by=["opened_year", "attribute.timely_response"],
        tz="UTC",
    )
    closed = [s for s in source if s["Company response to consumer"] in CFPB_CLOSED]
    years = sorted({s["Date received"][:4] for s in closed})
    assert len(years) > 1
    for year in years:
        ours = {k[1]: n for k, n in by_year.items() if k[0] == year and k[1] is not None}
        theirs = Counter(s["Timely response?"] for s in closed if s["Date received"][:4] == year)
        assert ours == dict(theirs), year
        assert ours.get("Yes", 0) / sum(ours.values()) == pytest.approx(
            theirs["Yes"] / theirs.total()
        )
    # Still open: no verdict yet (the null group), as many as the CSV's open complaints.
    still_open = sum(n for k, n in by_year.items() if k[1] is None)
    assert still_open == len(source) - len(closed)
    # The timely share per submission channel, from the KPIs (cases counted under their
    # source attributes, issue 15 item 4): one call, every channel's verdicts.
    kpis = analyst.get(
        "/v1/kpis",
        group_by=["attribute.submitted_via", "attribute.timely_response"],
        tz="UTC",
    )
    cases = Counter(
        {
            (row["attributes"]["submitted_via"], row["attributes"]["timely_response"]): row["cases"]
            for row in kpis["rows"]
        }
    )
    vias = {s["Submitted via"] for s in source}
    for channel in vias:
        ours = {t: n for (v, t), n in cases.items() if v == channel and t is not None}
        theirs = Counter(s["Timely response?"] for s in closed if s["Submitted via"] == channel)
        assert ours == dict(theirs), channel
        if theirs:
            assert ours.get("Yes", 0) / sum(ours.values()) == pytest.approx(
                theirs["Yes"] / theirs.total()
            )
    assert sum(n for (_, t), n in cases.items() if t is None) == len(source) - len(closed)
    assert analyst.calls <= 4


def olist_late(order: dict[str, str]) -> bool:
    delivered = order["order_delivered_customer_date"]
    return bool(delivered) and delivered > order["order_estimated_delivery_date"]


def test_olist_orders_per_original_status_and_late_deliveries(
    runtime: Runtime, analyst: Analyst
) -> None:
    folder = data_set("olist-ecommerce")
    orders = csv_rows(folder / "olist_orders_dataset.csv", SLICE)
    summary = imported(runtime, "olist", folder, SLICE)
    assert summary.units == len(orders)

    statuses = Counter(o["order_status"] for o in orders)
    assert len(statuses) > 4  # more than our four: the source's own are kept
    for status, expected in statuses.items():
        assert analyst.orders(attribute=f"order_status:{status}") == expected, status
    assert analyst.orders(late="true") == sum(map(olist_late, orders))
    # All of them in one call: the orders' counts by original status and lateness.
    counts = analyst.groups(path="/v1/orders/counts", group_by=["attribute.order_status", "late"])
    per_status: Counter[str] = Counter()
    for (status, _), n in counts.items():
        per_status[status] += n
    assert per_status == statuses
    assert sum(n for (_, late), n in counts.items() if late == "true") == sum(
        map(olist_late, orders)
    )
    assert analyst.calls <= len(statuses) + 2


def test_servicenow_incidents_per_contact_type_and_mean_reassignments(
    runtime: Runtime, analyst: Analyst
) -> None:
    folder = data_set("servicenow-incident-event-log")
    source = incidents(folder / "incident_event_log_sample_mod5.csv", SLICE)
    with_caller = {n: rs for n, rs in source.items() if rs[0]["caller_id"] != "?"}
    imported(runtime, "servicenow", folder, SLICE)

    per_type = analyst.groups(group_by="attribute.contact_type")
    expected = Counter(rs[0]["contact_type"] for rs in with_caller.values())
    assert per_type == {(k,): n for k, n in expected.items()}
    counts = analyst.groups(group_by="attribute.reassignment_count")
    ours = sum(int(k[0]) * n for k, n in counts.items()) / sum(counts.values())
    theirs = [int(rs[-1]["reassignment_count"]) for rs in with_caller.values()]
    assert ours == pytest.approx(sum(theirs) / len(theirs))
    assert analyst.calls == 2

"""``/v1/orders/counts`` over HTTP (issue 15, items 3 and 4), on every pairing of log and
store: orders published with their source status through ``/v1/events``; the total and the
groups in one call each, JSON and CSV; the orders' filters; a problem for an unknown
dimension."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.main import create_api
from journey.bootstrap import Runtime
from tests.builders.desk import Desk
from tests.factories import source_event

STATUSES = ("delivered", "canceled", "delivered")


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[Desk]:
    with TestClient(create_api(runtime, workers=set())) as client:
        d = Desk(runtime, client)
        bodies = []
        for n, status in enumerate(STATUSES):
            data = {
                "order_id": f"o{n}-{d.tag}",
                "items": [{"sku": "KT-1", "quantity": 1, "unit_price": "10.00"}],
                "amount_paid": "10.00",
                "currency": "CNY",
                "promised_delivery_at": datetime(2099, 1, 1, tzinfo=UTC).isoformat(),
            }
            body = source_event("order.placed", data, customer_id=f"cust-o{n}-{d.tag}")
            bodies.append({**body, "attributes": {"order_status": status}})
        d.publish(bodies)
        yield d


def test_order_counts_groups_filters_and_csv(desk: Desk) -> None:
    counts = desk.get("/v1/orders/counts", group_by=["attribute.order_status", "late"]).json()
    assert counts["total"] == len(STATUSES)
    assert {
        (g["key"]["attribute.order_status"], g["key"]["late"]): g["count"] for g in counts["groups"]
    } == {("delivered", "false"): 2, ("canceled", "false"): 1}
    canceled = desk.get("/v1/orders/counts", attribute="order_status:canceled").json()
    assert (canceled["total"], canceled["groups"]) == (1, [])
    table = desk.get(
        "/v1/orders/counts", group_by="status", format="csv", tz="UTC"
    ).text.splitlines()
    assert table == ["status,count", f"placed,{len(STATUSES)}"]
    problem = desk.get("/v1/orders/counts", 422, group_by="attribute.zip_code").json()
    assert [p["field"] for p in problem["problems"]] == ["query.group_by"]

"""The orders and returns routes (issue 15, item 3; R-ORD, R-REF) on every pairing of log
and store: an order journey published through the log — placed, a delay announced,
delivered late, a return requested, approved and refunded — and an order whose promise
nobody kept, breached by the SLA timer's watermark; the rows, their clocks (R-ORD-04 by a
fact and by the watermark), filters, pages, the CSV export, and the problems for unknown
ids and bad parameters."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.main import create_api
from journey.bootstrap import Runtime
from tests.factories import source_event, unique
from tests.integration.drive import ingest_everything, project_everything

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
H, D = timedelta(hours=1), timedelta(days=1)


def at(delta: timedelta) -> str:
    return (T0 + delta).isoformat()


class Shop:
    """One customer's orders and return, published through the API and the log."""

    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        self.runtime = runtime
        self.client = client
        tag = unique("")
        self.customer = f"cust-{tag}"
        self.late, self.kept_waiting, self.ret = f"o-late-{tag}", f"o-wait-{tag}", f"r-{tag}"
        self.channel = self.key("channel")
        self.analyst = self.key("analyst")

    def key(self, role: str) -> dict[str, str]:
        secret = self.runtime.api_keys.create(role).secret_text  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {secret}"}

    def publish(self, *events: tuple[str, timedelta, dict[str, Any]]) -> None:
        bodies = [
            source_event(kind, data, customer_id=self.customer, occurred_at=at(when))
            for kind, when, data in events
        ]
        answer = self.client.post("/v1/events", json=bodies, headers=self.channel)
        assert answer.status_code == 202, answer.text
        ingest_everything(self.runtime)
        project_everything(self.runtime)

    def get(self, path: str, **query: Any) -> Any:
        answer = self.client.get(path, params=query, headers=self.analyst)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def orders(self, **query: Any) -> list[str]:
        page = self.get("/v1/orders", customer_id=self.customer, **query)
        return [row["order_id"] for row in page["items"]]


def placed(order_id: str, promised: timedelta) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "items": [{"sku": "KT-1", "quantity": 1, "unit_price": "100.00"}],
        "amount_paid": "100.00",
        "currency": "CNY",
        "promised_delivery_at": at(promised),
    }


@pytest.fixture
def shop(runtime: Runtime) -> Iterator[Shop]:
    with TestClient(create_api(runtime, workers=set())) as client:
        s = Shop(runtime, client)
        late, waiting = {"order_id": s.late}, {"order_id": s.kept_waiting}
        s.publish(
            ("order.placed", timedelta(0), placed(s.late, 3 * D)),
            ("order.placed", H, placed(s.kept_waiting, D)),
            ("order.delay_announced", 2 * D,
             {**late, "reason": "weather", "new_promised_delivery_at": at(4 * D)}),
            ("order.shipped", 3 * D, {**late, "carrier": "SF Express"}),
            ("order.delivered", 5 * D, late),
            ("order.shipped", 3 * D, waiting),
        )  # fmt: skip
        returned = {"return_id": s.ret}
        s.publish(
            ("return.requested", 6 * D,
             {**returned, "order_id": s.late, "reason": "quality", "opened": True,
              "where": "online", "amount_requested": "60.00"}),
            ("return.approved", 6 * D + H, returned),
            ("refund.refunded", 7 * D, {**returned, "amount": "25.00"}),
        )  # fmt: skip
        # The watermark (the refund's time) is days past the promise never kept.
        assert s.runtime.clock_timer().run_once() >= 1
        project_everything(s.runtime)
        yield s


def test_orders_and_returns_rows_clocks_filters_pages_and_csv(shop: Shop) -> None:
    late = shop.get(f"/v1/orders/{shop.late}")
    assert (late["status"], late["customer_id"], late["carrier"]) == (
        "delivered",
        shop.customer,
        "SF Express",
    )
    # Times in the report zone (Asia/Shanghai by default: issue 15).
    shanghai = ZoneInfo("Asia/Shanghai")
    assert late["first_promised_delivery_at"] == (T0 + 3 * D).astimezone(shanghai).isoformat()
    assert late["promised_delivery_at"] == (T0 + 4 * D).astimezone(shanghai).isoformat()
    assert (late["delivered_late"], late["late_by_s"], late["delayed_by_s"]) == (
        True,
        D.total_seconds(),
        D.total_seconds(),
    )
    assert late["delays"][0]["announced_in_time"] is True
    announced, delivered = late["sla"]["R-ORD-04:1"], late["sla"]["R-ORD-04:2"]
    assert (announced["outcome"], announced["detected_by"]) == ("met", "fact")
    assert (delivered["outcome"], delivered["detected_by"]) == ("breached", "fact")
    assert delivered["target_s"] == 2 * D.total_seconds()
    assert delivered["actual_s"] == 3 * D.total_seconds()
    assert late["breached_rules"] == ["R-ORD-04"]
    assert (late["refunded_total"], late["refundable"], late["returns"]) == (
        "25.00",
        "75.00",
        [shop.ret],
    )
    assert late["refunds"][0]["return_id"] == shop.ret

    waiting = shop.get(f"/v1/orders/{shop.kept_waiting}")
    kept = waiting["sla"]["R-ORD-04:1"]
    assert (waiting["status"], kept["outcome"], kept["detected_by"]) == (
        "shipped",
        "breached",
        "watermark",
    )
    assert waiting["breach_list"][0]["detected_by"] == "watermark"

    ret = shop.get(f"/v1/returns/{shop.ret}")
    assert (ret["status"], ret["order_id"], ret["refunded_total"]) == (
        "refunded",
        shop.late,
        "25.00",
    )
    assert {key: c["outcome"] for key, c in ret["sla"].items()} == {
        "R-REF-02:review": "met",
        "R-REF-02:completion": "met",
    }
    assert [r["return_id"] for r in shop.get("/v1/returns", order_id=shop.late)["items"]] == [
        shop.ret
    ]
    assert shop.get("/v1/returns", customer_id=shop.customer, status="approved")["items"] == []

    # Filters.
    assert shop.orders() == [shop.late, shop.kept_waiting]
    assert shop.orders(sort="desc") == [shop.kept_waiting, shop.late]
    assert shop.orders(rule="R-ORD-04") == [shop.late, shop.kept_waiting]
    assert shop.orders(rule="R-ORD-01") == shop.orders(breached="false") == []
    assert shop.orders(status="delivered") == shop.orders(late="true") == [shop.late]
    assert shop.orders(placed_from=at(H / 2)) == [shop.kept_waiting]
    assert shop.orders(placed_to=at(H / 2)) == [shop.late]

    # Pages: one at a time, then nothing after the last.
    first = shop.get("/v1/orders", customer_id=shop.customer, limit=1)
    assert [r["order_id"] for r in first["items"]] == [shop.late]
    second = shop.get("/v1/orders", customer_id=shop.customer, limit=1, cursor=first["next_cursor"])
    assert [r["order_id"] for r in second["items"]] == [shop.kept_waiting]
    assert second["next_cursor"] is None

    # CSV: every match, clocks and how each was decided.
    answer = shop.client.get(
        "/v1/orders", params={"customer_id": shop.customer, "format": "csv"}, headers=shop.analyst
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["order_id"] for r in rows] == [shop.late, shop.kept_waiting]
    assert rows[1]["clocks"] == "R-ORD-04:1=breached/watermark"
    assert rows[0]["breached_rules"] == "R-ORD-04"
    returns = shop.client.get(
        "/v1/returns", params={"order_id": shop.late, "format": "csv"}, headers=shop.analyst
    )
    assert [r["status"] for r in csv.DictReader(io.StringIO(returns.text))] == ["refunded"]


def test_unknown_ids_and_bad_parameters_are_problems(shop: Shop) -> None:
    def problem(path: str, code: int, query: dict[str, str] | None = None) -> dict[str, Any]:
        answer = shop.client.get(path, params=query, headers=shop.analyst)
        assert answer.status_code == code, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = answer.json()
        return body

    assert problem("/v1/orders/no-such-order", 404)["error"] == "not_found"
    assert problem("/v1/returns/no-such-return", 404)["error"] == "not_found"
    assert problem("/v1/orders", 422, {"cursor": "garbage"})["error"] == "invalid_cursor"
    assert problem("/v1/returns", 422, {"cursor": "garbage"})["error"] == "invalid_cursor"
    for path, query in (
        ("/v1/orders", {"placed_from": "0001-01-01T00:00:00+14:00"}),
        ("/v1/orders", {"placed_to": "yesterday"}),
        ("/v1/orders", {"status": "lost"}),
        ("/v1/orders", {"rule": "ORD-04"}),
        ("/v1/orders", {"limit": "0"}),
        ("/v1/returns", {"requested_from": "2026-03-02T09:00:00"}),  # no offset
        ("/v1/returns", {"where": "moon"}),
    ):
        assert problem(path, 422, query)["error"] == "invalid_request", query
    denied = shop.client.get(f"/v1/orders/{shop.late}", headers=shop.channel)
    assert denied.status_code == 403

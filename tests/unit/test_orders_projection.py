"""The orders and returns read model (R-ORD, R-REF): each event changes what it must on
its order's or its return's row, the SLA clocks show how each was decided (by a fact or by
the watermark), no personal value is stored; and rows built in any batches, with
re-deliveries, applied twice, or rebuilt, equal one pass."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import SQLiteReadStore
from application.service import JourneyApplication
from contracts.envelope import SourceEvent
from domain.order import Order
from domain.returns import ReturnRequest
from projections.orders import OrderFilter, OrdersAndReturns, ReturnFilter
from tests.builders.apps import make_app
from tests.builders.orders import (
    T0,
    D,
    H,
    M,
    S,
    new_projection,
    notifications,
    placed,
    requested,
    snapshot,
)
from tests.unit.feeding import Feed, source

ADDRESS = "88 Secret Rd, Shanghai"
NOTE = "hand it to Mr Wang Secretname"


@pytest.fixture
def orders(tmp_path: Path) -> Iterator[OrdersAndReturns]:
    projection = new_projection(SQLiteReadStore(tmp_path / "rm.sqlite"))
    yield projection
    projection.store.close()


class Journey:
    """Source events fed one batch at a time, the read model following after each."""

    def __init__(self, app: JourneyApplication, projection: OrdersAndReturns) -> None:
        self.feed = Feed(app)
        self.app = app
        self.projection = projection
        self.count = 0

    def __call__(self, event_type: str, at: Any, customer: str = "c-1", **data: Any) -> None:
        self.count += 1
        refused = self.feed(source(event_type, data, at, f"e{self.count}", customer))
        assert refused == [], refused
        self.projection.process(notifications(self.app))

    def order(self, order_id: str = "o-1") -> dict[str, Any]:
        row = self.projection.order(str(Order.create_id(order_id)))
        assert row is not None
        return row

    def ret(self, return_id: str = "r-1") -> dict[str, Any]:
        row = self.projection.return_row(str(ReturnRequest.create_id(return_id)))
        assert row is not None
        return row


@pytest.fixture
def j(app: JourneyApplication, orders: OrdersAndReturns) -> Journey:
    return Journey(app, orders)


def test_each_order_event_changes_what_it_must(j: Journey) -> None:
    promised = T0 + 3 * D
    j("order.placed", T0, **placed("o-1", promised, store_id="s-1"))
    row = j.order()
    assert (row["order_id"], row["customer_id"], row["status"]) == ("o-1", "c-1", "placed")
    assert row["placed_at"] == T0.isoformat()
    assert row["promised_delivery_at"] == row["first_promised_delivery_at"] == promised.isoformat()
    assert row["items"] == [{"sku": "KT-1", "quantity": 2, "unit_price": "50.00"}]
    assert (row["amount_paid"], row["refundable"], row["store_id"]) == ("100.00", "100.00", "s-1")
    clock = row["sla"]["R-ORD-04:1"]
    assert (clock["outcome"], clock["target_s"]) == ("open", 3 * D.total_seconds())
    assert row["version"] == j.app.repository.get(Order.create_id("o-1")).version

    j("order.special_request", T0 + H, kind="gift_wrap", order_id="o-1", note=NOTE)
    assert j.order()["special_requests"] == ["gift_wrap"]


def test_an_order_delayed_delivered_late_returned_and_refunded(j: Journey) -> None:
    """R-ORD-04 met by an announcement in time, then breached by a late delivery (a fact);
    R-ORD-01 met by the sync; R-REF-02 review and completion met; refunds on both rows."""
    j("order.placed", T0, **placed("o-1", T0 + 3 * D, store_id="s-1"))
    j(
        "order.modified",
        T0 + H,
        order_id="o-1",
        modification_id="m-1",
        changes={"address": ADDRESS},
        systems=["oms", "wms"],
    )
    assert j.order()["modifications"] == [
        {"modification_id": "m-1", "at": (T0 + H).isoformat(), "systems": ["oms", "wms"]}
        | {"synced_at": None}
    ]
    assert j.order()["sla"]["R-ORD-01:m-1"]["outcome"] == "open"
    j("order.synced", T0 + H + 2 * M, order_id="o-1", modification_id="m-1")
    order = j.order()
    assert order["modifications"][0]["synced_at"] == (T0 + H + 2 * M).isoformat()
    sync = order["sla"]["R-ORD-01:m-1"]
    assert (sync["outcome"], sync["actual_s"], sync["detected_by"]) == ("met", 120.0, "fact")

    j("order.delay_announced", T0 + 2 * D, order_id="o-1", reason="weather",
      new_promised_delivery_at=(T0 + 4 * D).isoformat())  # fmt: skip
    order = j.order()
    assert order["promised_delivery_at"] == (T0 + 4 * D).isoformat()
    assert order["first_promised_delivery_at"] == (T0 + 3 * D).isoformat()
    assert order["delayed_by_s"] == D.total_seconds()
    assert order["delays"][0]["announced_in_time"] is True
    assert order["sla"]["R-ORD-04:1"]["outcome"] == "met"
    assert order["sla"]["R-ORD-04:2"]["outcome"] == "open"

    j("order.shipped", T0 + 3 * D, order_id="o-1", carrier="SF", tracking_number="SF123")
    order = j.order()
    assert (order["status"], order["carrier"]) == ("shipped", "SF")
    assert order["shipped_at"] == (T0 + 3 * D).isoformat()

    j("order.delivered", T0 + 5 * D, order_id="o-1")
    order = j.order()
    assert (order["status"], order["delivered_late"], order["late_by_s"]) == (
        "delivered",
        True,
        D.total_seconds(),
    )
    late = order["sla"]["R-ORD-04:2"]
    assert (late["outcome"], late["detected_by"]) == ("breached", "fact")
    assert late["decided_at"] == (T0 + 5 * D).isoformat()
    assert (order["breaches"], order["breached_rules"]) == (1, ["R-ORD-04"])
    assert order["breach_list"][0]["detected_by"] == "fact"

    j("return.requested", T0 + 6 * D, **requested("r-1", "o-1"))
    ret = j.ret()
    assert (ret["status"], ret["order_id"], ret["where"], ret["reason"]) == (
        "requested",
        "o-1",
        "online",
        "quality",
    )
    assert ret["requested_after_delivery_s"] == D.total_seconds()
    assert ret["sla"]["R-REF-02:review"]["outcome"] == "open"
    assert j.order()["returns"] == ["r-1"]

    j("return.approved", T0 + 6 * D + H, return_id="r-1")
    ret = j.ret()
    assert (ret["status"], ret["decided_at"]) == ("approved", (T0 + 6 * D + H).isoformat())
    assert ret["sla"]["R-REF-02:review"]["outcome"] == "met"
    assert ret["sla"]["R-REF-02:completion"]["outcome"] == "open"

    j("refund.refunded", T0 + 7 * D, return_id="r-1", amount="25.00")
    ret, order = j.ret(), j.order()
    assert (ret["status"], ret["refunded_total"]) == ("refunded", "25.00")
    assert ret["refunds"][0]["amount"] == "25.00"
    assert ret["sla"]["R-REF-02:completion"]["outcome"] == "met"
    assert ret["completed_at"] == (T0 + 7 * D).isoformat()
    assert (order["refunded_total"], order["refundable"]) == ("25.00", "75.00")
    assert order["refunds"][0]["return_id"] == "r-1"


def test_a_promise_nobody_kept_is_breached_by_the_watermark(
    j: Journey, orders: OrdersAndReturns
) -> None:
    j("order.placed", T0, **placed("o-2", T0 + D))
    assert j.order("o-2")["sla"]["R-ORD-04:1"]["outcome"] == "open"
    # Read at a watermark past the promise: overdue, not breached yet (never stored).
    judged = orders.order(str(Order.create_id("o-2")), T0 + D + S)
    assert judged is not None
    assert (judged["sla"]["R-ORD-04:1"]["outcome"], judged["overdue"]) == ("overdue", 1)
    assert j.order("o-2")["sla"]["R-ORD-04:1"]["outcome"] == "open"

    assert j.app.advance_clock(Order.create_id("o-2"), T0 + 2 * D) == 1
    orders.process(notifications(j.app))
    clock = j.order("o-2")["sla"]["R-ORD-04:1"]
    assert (clock["outcome"], clock["detected_by"], clock["actual_s"]) == (
        "breached",
        "watermark",
        None,
    )
    assert [row["order_id"] for row in orders.orders(10, where=OrderFilter(rule="R-ORD-04"))] == [
        "o-2"
    ]


def test_stock_outs_cancellation_rejection_and_merchant(j: Journey) -> None:
    j("order.placed", T0, **placed("o-3", T0 + 3 * D))
    j("order.out_of_stock", T0 + H, order_id="o-3", sku="KT-1")
    j("order.customer_notified", T0 + H + 30 * M, order_id="o-3", sku="KT-1",
      options=["store_transfer", "similar_product", "restock_reminder"])  # fmt: skip
    order = j.order("o-3")
    assert order["stock_outs"][0]["notified_at"] == (T0 + H + 30 * M).isoformat()
    assert order["sla"]["R-ORD-02:KT-1:1"]["outcome"] == "met"
    j("order.cancelled", T0 + 2 * H, order_id="o-3", reason=NOTE)
    order = j.order("o-3")
    assert (order["status"], order["cancelled_at"]) == ("cancelled", (T0 + 2 * H).isoformat())
    assert order["sla"]["R-ORD-04:1"]["outcome"] == "cancelled"

    j("order.placed", T0, **placed("o-4", T0 + D))
    j("order.shipped", T0 + H, order_id="o-4")
    j("order.delivered", T0 + 2 * H, order_id="o-4")
    assert (j.order("o-4")["delivered_late"], j.order("o-4")["late_by_s"]) == (False, 0)
    j("return.requested", T0 + D, **requested("r-4", "o-4", reason="no_reason", opened=False,
      merchant_id="shop-1"))  # fmt: skip
    j("merchant.responded", T0 + D + H, return_id="r-4", merchant_id="shop-1", decision="reject")
    j("return.rejected", T0 + D + 2 * H, return_id="r-4", reason=NOTE)
    ret = j.ret("r-4")
    assert (ret["status"], ret["merchant_decision"], ret["merchant_refused_valid_return"]) == (
        "rejected",
        "reject",
        True,
    )
    assert ret["sla"]["R-REF-05"]["outcome"] == "met"

    rejected = j.projection.returns(10, where=ReturnFilter(status="rejected"))
    assert [r["return_id"] for r in rejected] == ["r-4"]
    on_time = j.projection.orders(10, where=OrderFilter(late=False))  # or not delivered
    assert {r["order_id"] for r in on_time} == {"o-3", "o-4"}
    assert j.projection.orders(10, where=OrderFilter(late=True)) == []


def test_no_personal_value_or_free_text_is_stored(j: Journey, orders: OrdersAndReturns) -> None:
    j("order.placed", T0, **placed("o-5", T0 + D, special_requests=[
        {"kind": "gift_wrap", "note": NOTE}]))  # fmt: skip
    j("order.modified", T0 + H, order_id="o-5", modification_id="m-1",
      changes={"address": ADDRESS}, systems=["oms"])  # fmt: skip
    j("order.cancelled", T0 + 2 * H, order_id="o-5", reason=NOTE)
    stored = str(snapshot(orders))
    assert ("o-5" in stored, "gift_wrap" in stored) == (True, True)
    assert (ADDRESS in stored, "Secretname" in stored) == (False, False)


def test_pages_filter_and_continue_after_the_cursor(j: Journey, orders: OrdersAndReturns) -> None:
    for n in range(5):
        j("order.placed", T0 + n * H, f"c-{n % 2}", **placed(f"o-{n}", T0 + 3 * D))
    first = orders.orders(2)
    assert [r["order_id"] for r in first] == ["o-0", "o-1"]
    after = (first[-1]["placed_at"], first[-1]["id"])
    assert [r["order_id"] for r in orders.orders(2, after)] == ["o-2", "o-3"]
    assert [r["order_id"] for r in orders.orders(9, descending=True)][:2] == ["o-4", "o-3"]
    mine = orders.orders(9, where=OrderFilter(customer_id="c-1", placed_from=T0 + H))
    assert [r["order_id"] for r in mine] == ["o-1", "o-3"]
    assert orders.orders(9, where=OrderFilter(placed_to=T0 + H)) == orders.orders(1)
    assert orders.orders(9, where=OrderFilter(breached=True)) == []


# -- replay equals live, twice equals once, rebuild equals live -----------------------------

TRACKS = {
    "a": ("order", "modify", "sync", "delay", "ship", "deliver", "return", "approve",
          "refund", "refund"),
    "b": ("order", "stockout", "notify", "tick", "cancel"),
    "c": ("order", "ship", "tick", "deliver", "store_return", "respond", "reject"),
    "d": ("order", "ship", "deliver", "return", "approve", "exchange"),
}  # fmt: skip
GAPS = (S, 10 * M, H, D, 3 * D)
JOURNEYS = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2"]), st.sampled_from(sorted(TRACKS)), st.sampled_from(GAPS)
    ),
    max_size=30,
)


def later(at: Any) -> str:
    return str((at + 3 * D).isoformat())


def step(name: str, o: str, r: str, at: Any) -> list[tuple[str, dict[str, Any]]]:
    steps: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "order": [("order.placed", placed(o, at + 2 * D))],
        "modify": [("order.modified", {"order_id": o, "modification_id": "m",
                                       "changes": {"address": ADDRESS}, "systems": ["oms"]})],
        "sync": [("order.synced", {"order_id": o, "modification_id": "m"})],
        "delay": [("order.delay_announced", {"order_id": o, "reason": "weather",
                                             "new_promised_delivery_at": later(at)})],
        "ship": [("order.shipped", {"order_id": o})],
        "deliver": [("order.delivered", {"order_id": o})],
        "cancel": [("order.cancelled", {"order_id": o, "reason": "changed mind"})],
        "stockout": [("order.out_of_stock", {"order_id": o, "sku": "KT-1"})],
        "notify": [("order.customer_notified", {"order_id": o, "sku": "KT-1", "options": [
            "store_transfer", "similar_product", "restock_reminder"]})],
        "return": [("return.requested", requested(r, o))],
        "store_return": [("return.requested", requested(r, o, where="store", has_receipt=True,
                                                        merchant_id="shop-1"))],
        "approve": [("return.approved", {"return_id": r})],
        "reject": [("return.rejected", {"return_id": r, "reason": "seal broken"})],
        "refund": [("refund.refunded", {"return_id": r, "amount": "20.00"})],
        "exchange": [("return.exchanged", {"return_id": r, "new_sku": "KT-2"})],
        "respond": [("merchant.responded", {"return_id": r, "merchant_id": "shop-1",
                                            "decision": "accept"})],
        "tick": [],
    }  # fmt: skip
    return steps[name]


def record(folder: Path, journey: Sequence[tuple[str, str, Any]], per_batch: int) -> list[Any]:
    """Feed the journey (refused steps are part of it: the read model follows whatever
    the log holds) in batches of ``per_batch``; a ``tick`` lets the watermark breach the
    track's order and return deadlines. Returns the log (never empty)."""
    app = make_app(folder)
    try:
        feed = Feed(app)
        at = T0
        done: dict[tuple[str, str], int] = {}
        count = 0
        pending: list[SourceEvent] = [source("order.placed", placed("o-0", T0 + D), T0, "e-0")]
        for customer, track, gap in journey:
            index = done[customer, track] = done.get((customer, track), -1) + 1
            if index >= len(TRACKS[track]):
                continue
            at += gap
            name, o, r = TRACKS[track][index], f"o-{customer}-{track}", f"r-{customer}-{track}"
            for event_type, data in step(name, o, r, at):
                count += 1
                pending.append(source(event_type, data, at, f"e-{count}", customer))
            if pending and (name == "tick" or len(pending) >= per_batch):
                feed.batch(*pending)
                pending = []
            if name == "tick":
                for aggregate in (Order.create_id(o), ReturnRequest.create_id(r)):
                    if aggregate in app.repository:  # not if refused
                        app.advance_clock(aggregate, at + 5 * D)
        if pending:
            feed.batch(*pending)
        return notifications(app)
    finally:
        app.close()


def deliveries(data: st.DataObject, count: int) -> list[tuple[int, int]]:
    slices: list[tuple[int, int]] = []
    delivered = 0
    while delivered < count:
        start = data.draw(st.integers(min_value=0, max_value=delivered), label="start")
        end = data.draw(st.integers(min_value=start + 1, max_value=count), label="end")
        slices.append((start, end))
        delivered = max(delivered, end)
    return slices


PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)


@PROPERTY
@given(journey=JOURNEYS, data=st.data())
def test_random_batches_with_redeliveries_equal_one_pass_and_a_rebuild(
    journey: list[tuple[str, str, Any]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        log = record(root, journey, data.draw(st.integers(1, 5), label="per_batch"))
        one_pass = new_projection(SQLiteReadStore(root / "one.sqlite"))
        live = new_projection(SQLiteReadStore(root / "live.sqlite"))
        try:
            one_pass.process(log)
            for start, end in deliveries(data, len(log)):
                live.process(log[start:end])
            rebuild = cast(OrdersAndReturns, live.fresh_copy("__rebuild"))
            rebuild.create_tables()
            rebuild.process(log)

            expected = snapshot(one_pass)
            assert snapshot(live) == expected
            rebuilt = snapshot(rebuild)
            assert (rebuilt[0], rebuilt[1]) == (expected[0], expected[1])
            assert live.position() == log[-1][0]
            placed_orders = {str(e.originator_id) for _, e in log if type(e) is Order.Placed}
            assert {row["id"] for row in expected[0]} == placed_orders
            assert live.orders(1000) == one_pass.orders(1000) == rebuild.orders(1000)
            assert live.returns(1000) == one_pass.returns(1000) == rebuild.returns(1000)
        finally:
            one_pass.store.close()
            live.store.close()


@PROPERTY
@given(journey=JOURNEYS, data=st.data())
def test_applying_notifications_a_second_time_changes_nothing(
    journey: list[tuple[str, str, Any]], data: st.DataObject
) -> None:
    """Even past the position guard: each row remembers the last notification it holds."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        log = record(root, journey, per_batch=3)
        projection = new_projection(SQLiteReadStore(root / "twice.sqlite"))
        try:
            projection.process(log)
            before = snapshot(projection)
            start = data.draw(st.integers(0, len(log) - 1), label="start")
            end = data.draw(st.integers(start + 1, len(log)), label="end")
            with projection.store.transaction() as cursor:
                projection.apply_batch(cursor, log[start:end])
            assert projection.process(log[start:end]) == 0

            assert snapshot(projection) == before
        finally:
            projection.store.close()

"""The bugs the journeys' properties found (fixed), their examples kept as regression tests;
the state machine (tests/unit/test_journeys_stateful.py) re-delivers no-ops too, preferring
them (``Sent.redelivery_bug``)."""

from __future__ import annotations

from datetime import timedelta

from domain.order import Order
from tests.unit.journeys.feed import T0, Feed, with_feed
from tests.unit.journeys.setting import notifications


def test_bug_redelivered_noop_stock_out_records_a_new_stock_out() -> None:
    """Property 3 (twice equals once), R-ORD-02: found by the state machine (with
    re-delivering no-ops: "order.out_of_stock ... delivered again added 2 event(s)"),
    reduced by hand to this journey. After shipping, the same redelivery is refused with
    R-ORD-02 instead (the machine's other failure)."""

    def run(feed: Feed) -> None:
        placed = {
            "order_id": "o1",
            "items": [{"sku": "MUG-11", "quantity": 1, "unit_price": "39.50"}],
            "amount_paid": "39.50",
            "currency": "CNY",
            "promised_delivery_at": (T0 + timedelta(days=3)).isoformat(),
        }
        stock_out = {"order_id": "o1", "sku": "MUG-11"}
        again = feed.event("order.out_of_stock", stock_out, T0 + timedelta(minutes=2))
        notified = {
            "order_id": "o1",
            "sku": "MUG-11",
            "options": ["store_transfer", "similar_product", "restock_reminder"],
        }
        first = [
            feed.event("order.placed", placed, T0),
            feed.event("order.out_of_stock", stock_out, T0 + timedelta(minutes=1)),
            again,
            feed.event("order.customer_notified", notified, T0 + timedelta(minutes=3)),
        ]
        assert feed.deliver(*first) == []
        stored = notifications(feed.app)

        assert feed.deliver(again) == []

        order: Order = feed.app.repository.get(Order.create_id("o1"))
        assert (notifications(feed.app), order.stock_outs) == (stored, {"MUG-11": 1})

    with_feed(run)


def test_bug_redelivered_noop_priority_change_is_refused() -> None:
    """Property 3 (twice equals once), R-PRI-02: the same pattern as the stock-out (a
    command that returns without recording, so ``has_applied`` never learns the event),
    found beside it in ``Case.set_priority``."""

    def run(feed: Feed) -> None:
        opened = {"contact_id": "k1", "classification": "inquiry", "topic": "product"}
        same = feed.event(
            "case.priority_set",
            {"case_id": "k1", "priority": "general"},
            T0 + timedelta(minutes=1),
        )
        first = [
            feed.event("contact.opened", opened, T0, channel="app"),
            same,
            feed.event(
                "case.priority_set",
                {"case_id": "k1", "priority": "urgent"},
                T0 + timedelta(minutes=2),
            ),
        ]
        assert feed.deliver(*first) == []
        stored = notifications(feed.app)

        refusals = feed.deliver(same, check=False)

        assert (refusals, notifications(feed.app)) == ([], stored)

    with_feed(run)

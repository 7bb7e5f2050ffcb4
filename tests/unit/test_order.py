"""The Order aggregate: order rules R-ORD-01..04 on event time, and the money side of
refunds (R-REF-04); and the ``order.*`` source events through the application."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import reduce
from pathlib import Path
from typing import Any

import pytest

from adapters.sourcelog.base import TopicPartition
from application.batches import PendingBatch
from application.service import JourneyApplication
from contracts.envelope import InvalidEvent, SourceEvent, validate
from contracts.schemas import EVENT_TYPES
from domain.aggregate import JourneyAggregate, LateFact, outcomes_under
from domain.clocks import Outcome
from domain.errors import DomainError, NotFound
from domain.ids import aggregate_id
from domain.order import (
    Order,
    OrderExists,
    OrderLine,
    OrderRuleViolated,
    RefundExceedsPaid,
    SpecialRequest,
)
from domain.policy import BASELINE, policy_in_force
from domain.provenance import SourceRef
from tests.builders.apps import make_app
from tests.unit.parking_checks import journey_events, parked_naming, waiting_for

TZ = timezone(timedelta(hours=8))
PLACED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
PROMISED = PLACED_AT + timedelta(days=3)
POLICY = policy_in_force(PLACED_AT)
SECOND = timedelta(seconds=1)
SCHEMAS = {t.name: t.versions for t in EVENT_TYPES.of_family("orders")}
CENT = Decimal("0.01")
PAID = Decimal("378.00")
ITEMS = [OrderLine("KT-2209", 1, Decimal("299.00")), OrderLine("MUG-11", 2, Decimal("39.50"))]
THREE_OPTIONS = ["store_transfer", "similar_product", "restock_reminder"]

_offsets = itertools.count(1)


def ref(event_id: str | None = None) -> SourceRef:
    """A source reference; a fresh event id unless one is given (to repeat it)."""
    return SourceRef(event_id or f"ev-{uuid.uuid4().hex[:10]}", "journey.orders", 0, next(_offsets))


def place(
    *,
    order_id: str = "o-1",
    promised: datetime = PROMISED,
    special_requests: Sequence[SpecialRequest] = (),
    items: Sequence[OrderLine] = ITEMS,
    currency: str = "CNY",
    amount_paid: Decimal = PAID,
) -> Order:
    return Order.place(
        order_id=order_id,
        customer_id="cust-1",
        channel="app",
        items=items,
        amount_paid=amount_paid,
        currency=currency,
        promised_delivery_at=promised,
        store_id="store-7",
        special_requests=special_requests,
        occurred_at=PLACED_AT,
        source=ref("ev-placed"),
    )


def placed_order() -> Order:
    order = place()
    order.collect_events()
    return order


def outcome(order: Order, key: str) -> Outcome:
    outcomes = order.outcomes()
    assert key in outcomes, f"no outcome for {key}; have {sorted(outcomes)}"
    return outcomes[key]


def modify(order: Order, at: datetime, modification_id: str = "mod-1", **kw: Any) -> None:
    order.modify(
        modification_id=modification_id,
        changes=kw.pop("changes", {"address": "88 Huaihai Rd"}),
        systems=kw.pop("systems", ["oms", "wms"]),
        occurred_at=at,
        source=kw.pop("source", None) or ref(),
    )


def ship(order: Order, at: datetime, source: SourceRef | None = None) -> None:
    order.ship(carrier="SF", tracking_number="SF1", occurred_at=at, source=source or ref())


def replay(events: Sequence[Any]) -> Order:
    order = reduce(lambda aggregate, event: event.mutate(aggregate), events, None)
    assert isinstance(order, Order)
    return order


# -- placement --------------------------------------------------------------------------


def test_r_ord_04_placement_records_the_policy_and_starts_the_promise_clock() -> None:
    """R-ORD-04: the promised delivery date is a deadline from the moment of placement."""
    order = place()

    assert order.id == Order.create_id("o-1") == aggregate_id("order", "o-1")
    assert order.id != aggregate_id("case", "o-1")
    assert order.policy_version == POLICY.version
    placed, started = order.collect_events()
    assert isinstance(placed, Order.Placed)
    assert placed.source.event_id == "ev-placed"
    assert (placed.customer_id, placed.amount_paid, placed.currency) == ("cust-1", PAID, "CNY")
    assert isinstance(started, JourneyAggregate.DeadlineStarted)
    assert (started.rule, started.key) == ("R-ORD-04", "R-ORD-04:1")
    assert started.started_at == PLACED_AT
    assert started.due_at == PROMISED
    assert started.policy_version == POLICY.version
    state = order.state()
    assert state["status"] == "placed"
    assert state["items"] == [
        {"sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price)}
        for line in ITEMS
    ]
    assert order.amount_paid == PAID
    assert order.refundable() == PAID
    assert order.delivered_at is None
    assert order.has_applied("ev-placed")


@pytest.mark.parametrize("promised", [PLACED_AT, PLACED_AT - SECOND], ids=["equal", "before"])
def test_r_ord_04_promised_date_must_be_after_placement(promised: datetime) -> None:
    with pytest.raises(OrderRuleViolated) as caught:
        place(promised=promised)
    assert caught.value.rule == "R-ORD-04"
    assert "R-ORD-04" in str(caught.value)


def test_r_ord_04_promised_one_second_after_placement_is_accepted() -> None:
    order = place(promised=PLACED_AT + SECOND)
    assert order.clocks.open["R-ORD-04:1"].due_at == PLACED_AT + SECOND


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"items": []}, None),
        ({"items": [ITEMS[0], ITEMS[0]]}, None),
        ({"items": [OrderLine("X", 0, Decimal("1.00"))]}, None),
        ({"items": [OrderLine("X", 1, Decimal("-1.00"))]}, None),
        ({"amount_paid": Decimal("-0.01")}, None),
        ({"currency": "cny"}, None),
        ({"special_requests": [SpecialRequest("engrave")]}, "R-ORD-03"),
    ],
    ids=[
        "no-items",
        "sku-twice",
        "quantity-0",
        "negative-price",
        "negative-paid",
        "currency",
        "request-kind",
    ],
)
def test_invalid_placement_is_refused(changes: dict[str, Any], rule: str | None) -> None:
    """An order needs items, sums of money and a currency; special request kinds are those of
    R-ORD-03."""
    with pytest.raises(OrderRuleViolated) as caught:
        place(**changes)
    assert caught.value.rule == rule


def test_fact_before_the_placement_is_refused_as_late() -> None:
    """Order clocks (R-ORD-01..04) run on event time: a fact older than the placement is refused,
    not applied out of order."""
    order = placed_order()
    with pytest.raises(LateFact):
        modify(order, PLACED_AT - SECOND)
    assert order.pending_events == []


# -- R-ORD-01 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "met"),
    [(POLICY.order_sync, True), (POLICY.order_sync + SECOND, False)],
    ids=["exactly-5-min-met", "5-min-plus-1s-breached"],
)
def test_r_ord_01_sync_within_five_minutes(after: timedelta, met: bool) -> None:
    """R-ORD-01: a modified order reaches all systems within policy.order_sync."""
    order = placed_order()
    at = PLACED_AT + timedelta(hours=1)
    modify(order, at)
    assert order.clocks.open["R-ORD-01:mod-1"].due_at == at + POLICY.order_sync

    order.sync(modification_id="mod-1", occurred_at=at + after, source=ref())

    result = outcome(order, "R-ORD-01:mod-1")
    assert (result.rule, result.met, result.actual) == ("R-ORD-01", met, after)
    assert result.target == POLICY.order_sync
    decision = order.pending_events[-1]
    expected = JourneyAggregate.DeadlineMet if met else JourneyAggregate.DeadlineBreached
    assert isinstance(decision, expected)


def test_r_ord_01_each_modification_has_its_own_clock() -> None:
    order = placed_order()
    at = PLACED_AT + timedelta(hours=1)
    modify(order, at, "mod-1")
    modify(order, at + timedelta(minutes=1), "mod-2", changes="deliver to the back door")
    order.sync(modification_id="mod-2", occurred_at=at + timedelta(minutes=2), source=ref())

    assert outcome(order, "R-ORD-01:mod-2").met
    assert "R-ORD-01:mod-1" in order.clocks.open
    modified = [e for e in order.collect_events() if isinstance(e, Order.Modified)]
    assert [m.changes for m in modified] == [{"address": "88 Huaihai Rd"}, {}]
    assert [m.description for m in modified] == [None, "deliver to the back door"]


def test_r_ord_01_sync_of_an_unknown_modification_is_refused() -> None:
    order = placed_order()
    with pytest.raises(OrderRuleViolated) as caught:
        order.sync(modification_id="mod-9", occurred_at=PLACED_AT + SECOND, source=ref())
    assert caught.value.rule == "R-ORD-01"
    assert "mod-9" in str(caught.value)
    assert order.pending_events == []


def test_r_ord_01_sync_before_its_modification_is_refused_as_late() -> None:
    order = placed_order()
    modify(order, PLACED_AT + timedelta(hours=1))
    order.collect_events()
    with pytest.raises(LateFact):
        order.sync(
            modification_id="mod-1", occurred_at=PLACED_AT + timedelta(minutes=59), source=ref()
        )
    assert order.pending_events == []


def test_r_ord_01_second_sync_confirmation_changes_nothing() -> None:
    order = placed_order()
    modify(order, PLACED_AT + SECOND)
    order.sync(modification_id="mod-1", occurred_at=PLACED_AT + 2 * SECOND, source=ref())
    order.collect_events()
    first = outcome(order, "R-ORD-01:mod-1")

    order.sync(modification_id="mod-1", occurred_at=PLACED_AT + timedelta(hours=1), source=ref())

    assert order.pending_events == []
    assert outcome(order, "R-ORD-01:mod-1") == first


@pytest.mark.parametrize(
    "kwargs",
    [
        {"modification_id": "mod-1"},  # the same modification id again
        {"modification_id": "mod-2", "systems": []},
        {"modification_id": "mod-2", "systems": ["oms", "oms"]},
        {"modification_id": "mod-2", "changes": {}},
    ],
    ids=["same-id", "no-systems", "system-twice", "no-changes"],
)
def test_r_ord_01_invalid_modification_is_refused(kwargs: dict[str, Any]) -> None:
    order = placed_order()
    modify(order, PLACED_AT + SECOND)
    order.collect_events()
    mod_id = kwargs.pop("modification_id")
    with pytest.raises(OrderRuleViolated) as caught:
        modify(order, PLACED_AT + 2 * SECOND, mod_id, **kwargs)
    assert caught.value.rule == "R-ORD-01"
    assert order.pending_events == []


@pytest.mark.parametrize("end", ["shipped", "cancelled"])
def test_r_ord_01_modification_refused_after_shipment_or_cancellation(end: str) -> None:
    order = placed_order()
    if end == "shipped":
        ship(order, PLACED_AT + timedelta(hours=1))
    else:
        order.cancel(
            reason="changed mind", occurred_at=PLACED_AT + timedelta(hours=1), source=ref()
        )
    order.collect_events()

    with pytest.raises(OrderRuleViolated) as caught:
        modify(order, PLACED_AT + timedelta(hours=2))

    assert caught.value.rule == "R-ORD-01"
    assert end in str(caught.value)
    assert order.pending_events == []


@pytest.mark.parametrize(
    ("sync_after", "within"),
    [(POLICY.order_sync, True), (POLICY.order_sync + SECOND, False)],
    ids=["late-arrival-in-time", "really-late"],
)
def test_r_ord_01_watermark_breaches_unsynced_modification_then_sync_settles(
    sync_after: timedelta, within: bool
) -> None:
    """R-ORD-01: no sync by due + allowed lateness is a breach on the watermark; the sync
    that turns up later (with an earlier occurred_at) settles it on its real time."""
    order = placed_order()
    at = PLACED_AT + timedelta(hours=1)
    modify(order, at)
    order.collect_events()
    due = at + POLICY.order_sync

    order.advance_clock(due + POLICY.allowed_lateness)
    assert order.pending_events == []
    order.advance_clock(due + POLICY.allowed_lateness + SECOND)

    (breach,) = order.collect_events()
    assert isinstance(breach, JourneyAggregate.DeadlineBreached)
    assert (breach.key, breach.detected_by, breach.actual) == ("R-ORD-01:mod-1", "watermark", None)
    assert breach.due_at == due
    assert outcome(order, "R-ORD-01:mod-1").met is False

    order.sync(modification_id="mod-1", occurred_at=at + sync_after, source=ref())

    synced, settled = order.collect_events()
    assert isinstance(synced, Order.Synced)
    assert isinstance(settled, JourneyAggregate.DeadlineSettled)
    assert settled.within_target is within
    result = outcome(order, "R-ORD-01:mod-1")
    assert (result.met, result.actual) == (within, sync_after)


# -- R-ORD-02 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "met"),
    [(POLICY.out_of_stock_notice, True), (POLICY.out_of_stock_notice + SECOND, False)],
    ids=["exactly-1-h-met", "1-h-plus-1s-breached"],
)
def test_r_ord_02_customer_told_of_stock_out_within_an_hour(after: timedelta, met: bool) -> None:
    order = placed_order()
    at = PLACED_AT + timedelta(hours=2)
    order.report_out_of_stock(sku="MUG-11", occurred_at=at, source=ref())
    assert order.clocks.open["R-ORD-02:MUG-11:1"].due_at == at + POLICY.out_of_stock_notice

    order.notify_customer(sku="MUG-11", options=THREE_OPTIONS, occurred_at=at + after, source=ref())

    result = outcome(order, "R-ORD-02:MUG-11:1")
    assert (result.rule, result.met, result.actual) == ("R-ORD-02", met, after)
    assert result.target == POLICY.out_of_stock_notice


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["store_transfer", "similar_product"],
        ["store_transfer", "similar_product", "similar_product"],
        [*THREE_OPTIONS, "refund"],
        ["store_transfer", "similar_product", "refund"],
    ],
    ids=["none", "two", "duplicate", "four", "wrong-one"],
)
def test_r_ord_02_notice_refused_unless_exactly_the_three_options(options: list[str]) -> None:
    order = placed_order()
    order.report_out_of_stock(sku="MUG-11", occurred_at=PLACED_AT + SECOND, source=ref())
    order.collect_events()

    with pytest.raises(OrderRuleViolated) as caught:
        order.notify_customer(
            sku="MUG-11", options=options, occurred_at=PLACED_AT + 2 * SECOND, source=ref()
        )

    assert caught.value.rule == "R-ORD-02"
    assert "R-ORD-02" in str(caught.value)
    assert order.pending_events == []
    assert "R-ORD-02:MUG-11:1" in order.clocks.open


@pytest.mark.parametrize("options", list(itertools.permutations(THREE_OPTIONS)))
def test_r_ord_02_the_three_options_in_any_order_are_accepted(options: tuple[str, ...]) -> None:
    """R-ORD-02: store transfer (about policy.store_transfer_days days), similar product,
    restock reminder; the transfer time told is the policy's (R-CH-02)."""
    order = placed_order()
    order.report_out_of_stock(sku="MUG-11", occurred_at=PLACED_AT + SECOND, source=ref())
    order.notify_customer(
        sku="MUG-11", options=list(options), occurred_at=PLACED_AT + 2 * SECOND, source=ref()
    )

    notified = [e for e in order.collect_events() if isinstance(e, Order.CustomerNotified)]
    assert len(notified) == 1
    assert notified[0].options == list(options)
    assert notified[0].store_transfer_days == POLICY.store_transfer_days
    assert order.awaiting_notice == {}


def test_r_ord_02_stock_out_of_a_sku_not_on_the_order_is_refused() -> None:
    order = placed_order()
    with pytest.raises(OrderRuleViolated) as caught:
        order.report_out_of_stock(sku="TV-1", occurred_at=PLACED_AT + SECOND, source=ref())
    assert caught.value.rule == "R-ORD-02"
    assert "TV-1" in str(caught.value)
    assert order.pending_events == []


def test_r_ord_02_notice_without_a_stock_out_is_refused() -> None:
    order = placed_order()
    with pytest.raises(OrderRuleViolated) as caught:
        order.notify_customer(
            sku="MUG-11", options=THREE_OPTIONS, occurred_at=PLACED_AT + SECOND, source=ref()
        )
    assert caught.value.rule == "R-ORD-02"


def test_r_ord_02_repeat_report_waits_for_the_same_notice_and_a_new_stock_out_restarts() -> None:
    order = placed_order()
    at = PLACED_AT + timedelta(hours=1)
    order.report_out_of_stock(sku="MUG-11", occurred_at=at, source=ref())
    order.collect_events()
    order.report_out_of_stock(sku="MUG-11", occurred_at=at + timedelta(minutes=30), source=ref())
    # Only acknowledged (so its event_id counts as applied): still the first clock, due an
    # hour after ``at``.
    assert [type(e).__name__ for e in order.pending_events] == ["Acknowledged"]

    order.notify_customer(
        sku="MUG-11", options=THREE_OPTIONS, occurred_at=at + timedelta(minutes=50), source=ref()
    )
    order.report_out_of_stock(sku="MUG-11", occurred_at=at + timedelta(hours=5), source=ref())

    assert outcome(order, "R-ORD-02:MUG-11:1").actual == timedelta(minutes=50)
    assert order.clocks.open["R-ORD-02:MUG-11:2"].started_at == at + timedelta(hours=5)


# -- R-ORD-03 ---------------------------------------------------------------------------


def test_r_ord_03_special_requests_are_carried_to_the_shipped_fact() -> None:
    """R-ORD-03: requests given at placement and later reach fulfilment on the shipment."""
    at_placement = [SpecialRequest("gift_wrap", "red paper")]
    order = place(special_requests=at_placement)
    order.add_special_request(
        kind="delayed_shipping", note=None, occurred_at=PLACED_AT + SECOND, source=ref()
    )
    order.add_special_request(
        kind="other", note="call before", occurred_at=PLACED_AT + 2 * SECOND, source=ref()
    )
    ship(order, PLACED_AT + timedelta(hours=3))

    (shipped,) = [e for e in order.collect_events() if isinstance(e, Order.Shipped)]
    expected = [
        SpecialRequest("gift_wrap", "red paper").text,
        SpecialRequest("delayed_shipping").text,
        SpecialRequest("other", "call before").text,
    ]
    assert shipped.special_requests == expected
    assert "red paper" in shipped.special_requests[0]
    assert shipped.special_requests[1] == "delayed_shipping"


@pytest.mark.parametrize("end", ["shipped", "cancelled"])
def test_r_ord_03_special_request_refused_once_shipped_or_cancelled(end: str) -> None:
    order = placed_order()
    if end == "shipped":
        ship(order, PLACED_AT + SECOND)
    else:
        order.cancel(reason="x", occurred_at=PLACED_AT + SECOND, source=ref())
    order.collect_events()
    with pytest.raises(OrderRuleViolated) as caught:
        order.add_special_request(
            kind="gift_wrap", note=None, occurred_at=PLACED_AT + 2 * SECOND, source=ref()
        )
    assert caught.value.rule == "R-ORD-03"
    assert order.pending_events == []


def test_r_ord_03_unknown_special_request_kind_is_refused() -> None:
    order = placed_order()
    with pytest.raises(OrderRuleViolated) as caught:
        order.add_special_request(
            kind="engrave", note=None, occurred_at=PLACED_AT + SECOND, source=ref()
        )
    assert caught.value.rule == "R-ORD-03"


# -- R-ORD-04 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("announced", "met"),
    [
        (PROMISED - timedelta(days=1), True),
        (PROMISED, True),
        (PROMISED + SECOND, False),
    ],
    ids=["day-before-met", "on-the-date-met", "one-second-after-breached"],
)
def test_r_ord_04_delay_announced_before_the_promised_date(announced: datetime, met: bool) -> None:
    """R-ORD-04: a delay is announced before the promised date passes; the new date
    starts the next clock."""
    order = placed_order()
    new_date = PROMISED + timedelta(days=2)

    order.announce_delay(
        new_promised_delivery_at=new_date, reason="weather", occurred_at=announced, source=ref()
    )

    first = outcome(order, "R-ORD-04:1")
    assert (first.rule, first.met, first.actual) == ("R-ORD-04", met, announced - PLACED_AT)
    nxt = order.clocks.open["R-ORD-04:2"]
    assert (nxt.rule, nxt.started_at, nxt.due_at) == ("R-ORD-04", announced, new_date)
    assert order.promised_delivery_at == new_date
    (delay,) = [e for e in order.collect_events() if isinstance(e, Order.DelayAnnounced)]
    assert delay.previous_promised_delivery_at == PROMISED


@pytest.mark.parametrize("new_date", [PROMISED, PROMISED - SECOND], ids=["same", "earlier"])
def test_r_ord_04_new_promised_date_must_be_later(new_date: datetime) -> None:
    order = placed_order()
    with pytest.raises(OrderRuleViolated) as caught:
        order.announce_delay(
            new_promised_delivery_at=new_date,
            reason="force_majeure",
            occurred_at=PLACED_AT + SECOND,
            source=ref(),
        )
    assert caught.value.rule == "R-ORD-04"
    assert order.pending_events == []
    assert "R-ORD-04:1" in order.clocks.open


def test_r_ord_04_new_promised_date_in_the_past_of_the_announcement_is_refused() -> None:
    order = placed_order()
    with pytest.raises(OrderRuleViolated) as caught:
        order.announce_delay(
            new_promised_delivery_at=PROMISED + SECOND,
            reason="weather",
            occurred_at=PROMISED + timedelta(hours=1),
            source=ref(),
        )
    assert caught.value.rule == "R-ORD-04"


@pytest.mark.parametrize(
    ("delivered", "met"),
    [(PROMISED, True), (PROMISED + SECOND, False)],
    ids=["on-the-date-met", "one-second-after-breached"],
)
def test_r_ord_04_delivery_on_the_promised_date(delivered: datetime, met: bool) -> None:
    order = placed_order()
    ship(order, PLACED_AT + timedelta(days=1))

    order.deliver(occurred_at=delivered, source=ref())

    result = outcome(order, "R-ORD-04:1")
    assert (result.met, result.actual, result.target) == (
        met,
        delivered - PLACED_AT,
        PROMISED - PLACED_AT,
    )
    assert order.delivered_at == delivered
    assert order.status == "delivered"


def test_r_ord_04_delivery_after_a_delay_is_measured_against_the_new_date() -> None:
    order = placed_order()
    new_date = PROMISED + timedelta(days=2)
    order.announce_delay(
        new_promised_delivery_at=new_date,
        reason="weather",
        occurred_at=PLACED_AT + SECOND,
        source=ref(),
    )
    ship(order, PLACED_AT + timedelta(days=1))
    order.deliver(occurred_at=new_date, source=ref())

    assert outcome(order, "R-ORD-04:1").met
    second = outcome(order, "R-ORD-04:2")
    assert (second.met, second.actual) == (True, new_date - (PLACED_AT + SECOND))


def test_delivery_before_shipment_is_refused() -> None:
    """R-ORD-04: delivery stops the promised-date clock, and only a shipped order is delivered."""
    order = placed_order()
    with pytest.raises(OrderRuleViolated) as caught:
        order.deliver(occurred_at=PLACED_AT + timedelta(days=1), source=ref())
    assert "placed" in str(caught.value)
    assert order.delivered_at is None
    assert order.pending_events == []


def test_delivery_before_its_shipment_time_is_refused_as_late() -> None:
    """R-ORD-04 on event time: a delivery older than its shipment is refused."""
    order = placed_order()
    ship(order, PLACED_AT + timedelta(days=1))
    order.collect_events()
    with pytest.raises(LateFact):
        order.deliver(occurred_at=PLACED_AT + timedelta(hours=23), source=ref())


def test_shipment_refused_when_cancelled_or_already_shipped() -> None:
    """R-ORD-03: one shipment carries the requests to fulfilment; none after cancellation."""
    cancelled = placed_order()
    cancelled.cancel(reason="x", occurred_at=PLACED_AT + SECOND, source=ref())
    cancelled.collect_events()
    with pytest.raises(OrderRuleViolated):
        ship(cancelled, PLACED_AT + 2 * SECOND)
    assert cancelled.pending_events == []

    shipped = placed_order()
    ship(shipped, PLACED_AT + SECOND)
    shipped.collect_events()
    with pytest.raises(OrderRuleViolated):
        ship(shipped, PLACED_AT + 2 * SECOND)
    assert shipped.pending_events == []


# -- cancellation -----------------------------------------------------------------------


def test_cancellation_cancels_open_clocks_but_not_breaches() -> None:
    """R-ORD-01, R-ORD-02, R-ORD-04: a cancelled order calls off the clocks still running; a
    deadline that had already passed stays a breach."""
    order = placed_order()
    modify(order, PLACED_AT + timedelta(hours=1), "mod-late")  # due 1h05, passed at cancel
    order.report_out_of_stock(
        sku="MUG-11", occurred_at=PLACED_AT + timedelta(hours=1, minutes=30), source=ref()
    )
    modify(order, PLACED_AT + timedelta(hours=1, minutes=58), "mod-open")
    order.collect_events()

    order.cancel(reason="no stock", occurred_at=PLACED_AT + timedelta(hours=2), source=ref())

    decisions = {
        e.key: type(e).__name__  # type: ignore[attr-defined]
        for e in order.collect_events()
        if not isinstance(e, Order.Cancelled)
    }
    assert decisions == {
        "R-ORD-04:1": "DeadlineCancelled",
        "R-ORD-01:mod-open": "DeadlineCancelled",
        "R-ORD-02:MUG-11:1": "DeadlineCancelled",
        "R-ORD-01:mod-late": "DeadlineBreached",
    }
    assert order.clocks.open == {}
    assert outcome(order, "R-ORD-01:mod-late").met is False
    assert order.status == "cancelled"


def test_cancellation_refused_after_delivery() -> None:
    """R-ORD-04: a delivered order has met or missed its promise; it is returned, not cancelled."""
    order = placed_order()
    ship(order, PLACED_AT + SECOND)
    order.deliver(occurred_at=PLACED_AT + timedelta(days=1), source=ref())
    order.collect_events()
    with pytest.raises(OrderRuleViolated) as caught:
        order.cancel(reason="x", occurred_at=PLACED_AT + timedelta(days=2), source=ref())
    assert "delivered" in str(caught.value)
    assert order.pending_events == []


def test_delivery_refused_after_cancellation() -> None:
    """R-ORD-04: a cancelled order's promise clock was called off; no delivery follows."""
    order = placed_order()
    ship(order, PLACED_AT + SECOND)
    order.cancel(reason="lost", occurred_at=PLACED_AT + 2 * SECOND, source=ref())
    order.collect_events()
    with pytest.raises(OrderRuleViolated):
        order.deliver(occurred_at=PLACED_AT + timedelta(days=1), source=ref())
    assert order.delivered_at is None


# -- refunds (R-REF-04) -----------------------------------------------------------------


def refund(order: Order, amount: Decimal, source: SourceRef | None = None) -> None:
    order.record_refund(
        return_id="r-1",
        amount=amount,
        occurred_at=PLACED_AT + timedelta(days=5),
        source=source or ref(),
    )


def test_r_ref_04_refund_of_exactly_the_refundable_amount_is_accepted() -> None:
    order = placed_order()
    refund(order, PAID)

    (recorded,) = order.collect_events()
    assert isinstance(recorded, Order.RefundRecorded)
    assert recorded.amount == PAID
    assert order.refunded_total == PAID
    assert order.refundable() == Decimal(0)


def test_r_ref_04_refund_one_cent_over_the_refundable_amount_is_refused() -> None:
    order = placed_order()
    with pytest.raises(RefundExceedsPaid) as caught:
        refund(order, PAID + CENT)
    assert isinstance(caught.value, DomainError)
    assert caught.value.rule == "R-REF-04"
    assert "R-REF-04" in str(caught.value)
    assert order.pending_events == []
    assert order.refunded_total == Decimal(0)


def test_r_ref_04_partial_refunds_count_against_what_was_paid() -> None:
    order = placed_order()
    first = Decimal("100.00")
    refund(order, first)
    assert order.refundable() == PAID - first

    with pytest.raises(RefundExceedsPaid):
        order.check_refund(PAID - first + CENT)
    order.check_refund(PAID - first)
    assert len(order.pending_events) == 1  # check_refund only validates

    refund(order, PAID - first)
    assert order.refundable() == Decimal(0)
    with pytest.raises(RefundExceedsPaid):
        refund(order, CENT)
    assert order.refunds == {"r-1": PAID}


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-0.01"), Decimal("NaN")])
def test_r_ref_04_refund_must_be_a_positive_amount(amount: Decimal) -> None:
    order = placed_order()
    with pytest.raises(OrderRuleViolated) as caught:
        refund(order, amount)
    assert caught.value.rule == "R-REF-04"
    assert order.pending_events == []


def test_r_ref_04_redelivered_refund_has_no_effect_and_is_not_checked_again() -> None:
    order = placed_order()
    source = ref("ev-refund")
    refund(order, PAID, source)
    order.collect_events()

    order.check_refund(PAID, source=source)  # already applied: not judged again
    refund(order, PAID, source)

    assert order.pending_events == []
    assert order.refunded_total == PAID
    with pytest.raises(RefundExceedsPaid):
        order.check_refund(PAID)


# -- duplicates and replay --------------------------------------------------------------

Step = Callable[[Order, SourceRef], None]
T1 = PLACED_AT + timedelta(minutes=1)
T2 = PLACED_AT + timedelta(minutes=2)

STEPS: dict[str, tuple[list[Step], Step]] = {
    "modify": ([], lambda o, s: modify(o, T1, source=s)),
    "sync": (
        [lambda o, s: modify(o, T1, source=s)],
        lambda o, s: o.sync(modification_id="mod-1", occurred_at=T2, source=s),
    ),
    "special_request": (
        [],
        lambda o, s: o.add_special_request(kind="gift_wrap", note=None, occurred_at=T1, source=s),
    ),
    "out_of_stock": (
        [],
        lambda o, s: o.report_out_of_stock(sku="KT-2209", occurred_at=T1, source=s),
    ),
    "notify": (
        [lambda o, s: o.report_out_of_stock(sku="KT-2209", occurred_at=T1, source=s)],
        lambda o, s: o.notify_customer(
            sku="KT-2209", options=THREE_OPTIONS, occurred_at=T2, source=s
        ),
    ),
    "delay": (
        [],
        lambda o, s: o.announce_delay(
            new_promised_delivery_at=PROMISED + timedelta(days=1),
            reason="other",
            occurred_at=T1,
            source=s,
        ),
    ),
    "ship": ([], lambda o, s: ship(o, T1, s)),
    "deliver": ([lambda o, s: ship(o, T1, s)], lambda o, s: o.deliver(occurred_at=T2, source=s)),
    "cancel": ([], lambda o, s: o.cancel(reason="x", occurred_at=T1, source=s)),
    "refund": ([], lambda o, s: refund(o, Decimal("10.00"), s)),
}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_repeated_source_event_id_has_no_effect(name: str) -> None:
    """R-ORD-01..04, R-REF-04: a re-delivered source event changes nothing, whatever its command."""
    order = placed_order()
    before, step = STEPS[name]
    for prepare in before:
        prepare(order, ref())
    source = ref(f"ev-{name}")
    step(order, source)
    recorded = order.collect_events()
    assert recorded, "the first delivery must record something"
    state = order.state()

    step(order, source)  # the same source event again
    step(order, SourceRef(source.event_id, "journey.orders", 0, source.offset + 99))

    assert order.pending_events == []
    assert order.state() == state


def test_repeated_placement_event_id_has_no_effect_on_later_commands() -> None:
    """R-ORD-01: the placement's event id re-delivered as a modification is not applied."""
    order = placed_order()
    modify(order, T1, source=ref("ev-placed"))
    assert order.pending_events == []


def test_replay_of_events_equals_the_original() -> None:
    """R-ORD-01..04, R-REF-04: replaying the stored events rebuilds the same order, clocks and
    money."""
    order = place(special_requests=[SpecialRequest("gift_wrap")])
    modify(order, T1)
    order.sync(modification_id="mod-1", occurred_at=T2, source=ref())
    order.report_out_of_stock(sku="MUG-11", occurred_at=T2, source=ref())
    order.announce_delay(
        new_promised_delivery_at=PROMISED + timedelta(days=1),
        reason="weather",
        occurred_at=T2,
        source=ref(),
    )
    ship(order, T2 + SECOND)
    order.deliver(occurred_at=PROMISED, source=ref())
    refund(order, Decimal("20.00"))
    events = order.collect_events()

    replayed = replay(events)

    assert replayed.state() == order.state()
    assert replayed.refundable() == order.refundable()
    assert replayed.applied == order.applied
    assert replay(events[:3]).state()["modifications"] == ["mod-1"]


def test_r_ord_01_what_if_under_another_sync_target() -> None:
    """outcomes_under replays the facts alone: a 7-minute sync breaches the baseline
    R-ORD-01 target but meets a 10-minute one."""
    order = place()
    modify(order, T1)
    order.sync(modification_id="mod-1", occurred_at=T1 + timedelta(minutes=7), source=ref())
    history = order.collect_events()

    relaxed = replace(BASELINE, version="relaxed", order_sync=timedelta(minutes=10))

    assert outcome(order, "R-ORD-01:mod-1").met is False
    assert outcomes_under(history, relaxed)["R-ORD-01:mod-1"].met is True
    assert outcomes_under(history, BASELINE)["R-ORD-01:mod-1"].met is False


# -- through the application ------------------------------------------------------------

PARTITION = TopicPartition("journey.orders", 0)
NOW = datetime(2026, 4, 1, tzinfo=UTC)


class Feed:
    """Source events of one partition at consecutive offsets."""

    def __init__(self) -> None:
        self.offset = 0

    def event(
        self,
        event_type: str,
        data: dict[str, Any],
        at: datetime,
        *,
        event_id: str | None = None,
        customer_id: str = "cust-1",
    ) -> tuple[SourceRef, SourceEvent]:
        event_id = event_id or f"ev-{uuid.uuid4().hex[:10]}"
        body = {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": at.isoformat(),
            "channel": "app",
            "customer_id": customer_id,
            "source": "oms",
            "schema_version": 1,
            "data": data,
        }
        source = SourceRef(event_id, PARTITION.topic, PARTITION.partition, self.offset)
        self.offset += 1
        return source, validate(body, now=NOW, max_future=timedelta(minutes=5))


def run(
    app: JourneyApplication, feed: Feed, events: list[tuple[SourceRef, SourceEvent]]
) -> list[tuple[SourceRef, DomainError]]:
    """One batch, stored: its refusals (nothing of it may be parked)."""
    pending = run_batch(app, feed, events)
    assert pending.parked == [], f"parked: {pending.parked}"
    return pending.refusals


def run_batch(
    app: JourneyApplication, feed: Feed, events: list[tuple[SourceRef, SourceEvent]]
) -> PendingBatch:
    pending = app.prepare_batch(PARTITION, events, next_offset=feed.offset)
    pending.commit()
    return pending


def load(app: JourneyApplication, order_id: str = "o-1") -> Order:
    order: object = app.repository.get(Order.create_id(order_id))
    assert isinstance(order, Order)
    return order


def placed_data(order_id: str = "o-1") -> dict[str, Any]:
    return {
        "order_id": order_id,
        "items": [
            {"sku": "KT-2209", "quantity": 1, "unit_price": "299.00"},
            {"sku": "MUG-11", "quantity": 2, "unit_price": "39.50"},
        ],
        "amount_paid": str(PAID),
        "currency": "CNY",
        "promised_delivery_at": PROMISED.isoformat(),
        "special_requests": [{"kind": "gift_wrap", "note": "red paper"}],
    }


def test_order_journey_through_the_application(app: JourneyApplication) -> None:
    """R-ORD-01..04 through the handlers: every order.* type applied, stored and loaded."""
    feed = Feed()
    at = PLACED_AT
    new_date = PROMISED + timedelta(days=1)
    refusals = run(
        app,
        feed,
        [
            feed.event("order.placed", placed_data(), at),
            feed.event(
                "order.modified",
                {
                    "order_id": "o-1",
                    "modification_id": "m1",
                    "changes": {"address": "x"},
                    "systems": ["oms"],
                },
                at + timedelta(hours=1),
            ),
            feed.event(
                "order.synced",
                {"order_id": "o-1", "modification_id": "m1"},
                at + timedelta(hours=1) + POLICY.order_sync,
            ),
            feed.event(
                "order.special_request",
                {"order_id": "o-1", "kind": "delayed_shipping"},
                at + timedelta(hours=2),
            ),
            feed.event(
                "order.out_of_stock", {"order_id": "o-1", "sku": "MUG-11"}, at + timedelta(hours=3)
            ),
            feed.event(
                "order.customer_notified",
                {"order_id": "o-1", "sku": "MUG-11", "options": THREE_OPTIONS},
                at + timedelta(hours=3) + POLICY.out_of_stock_notice + SECOND,
            ),
            feed.event(
                "order.delay_announced",
                {
                    "order_id": "o-1",
                    "reason": "weather",
                    "new_promised_delivery_at": new_date.isoformat(),
                },
                at + timedelta(days=1),
            ),
            feed.event(
                "order.shipped", {"order_id": "o-1", "carrier": "SF"}, at + timedelta(days=2)
            ),
            feed.event("order.delivered", {"order_id": "o-1"}, new_date),
        ],
    )

    assert refusals == []
    order = load(app)
    assert order.status == "delivered"
    assert order.customer_id == "cust-1"
    assert order.amount_paid == PAID
    assert order.delivered_at == new_date
    assert order.policy_version == POLICY.version
    met = {key: o.met for key, o in order.outcomes().items()}
    assert met == {
        "R-ORD-01:m1": True,
        "R-ORD-02:MUG-11:1": False,
        "R-ORD-04:1": True,
        "R-ORD-04:2": True,
    }
    shipped = [e for e in app.events.get(order.id) if isinstance(e, Order.Shipped)]
    assert shipped[0].special_requests == ["gift_wrap: red paper", "delayed_shipping"]


@pytest.mark.parametrize("event_type", sorted(t for t in SCHEMAS if t != "order.placed"))
def test_event_for_an_unknown_order_is_parked_naming_it(
    app: JourneyApplication, tmp_path: Path, event_type: str
) -> None:
    """R-ORD-01..04: an event for an order never placed is parked, naming it, with nothing
    applied; once the order is placed it is applied (or refused by the order's rules)
    exactly as if it had come after the placement."""
    feed = Feed()
    data = {**SCHEMAS[event_type][1].example, "order_id": "o-missing"}
    source, event = feed.event(event_type, data, PLACED_AT + SECOND, event_id="ev-early")

    pending = run_batch(app, feed, [(source, event)])

    parked_naming(pending, [source], Order.create_id("o-missing"), "o-missing")
    assert Order.create_id("o-missing") not in app.repository
    assert journey_events(app) == 0

    placement = feed.event("order.placed", placed_data("o-missing"), PLACED_AT, event_id="ev-p")
    pending = run_batch(app, feed, [placement])

    assert waiting_for(app, Order.create_id("o-missing")) == []
    assert len(pending.released) + len(pending.released_refusals) == 1
    (tmp_path / "causal").mkdir()
    causal = make_app(tmp_path / "causal")
    try:
        other = Feed()
        assert (
            run(
                causal,
                other,
                [other.event("order.placed", placed_data("o-missing"), PLACED_AT, event_id="ev-p")],
            )
            == []
        )
        after = run(
            causal, other, [other.event(event_type, data, PLACED_AT + SECOND, event_id="ev-early")]
        )
        assert [str(e) for _, e in after] == [r.reason for r in pending.released_refusals]
        assert load(app, "o-missing").state() == load(causal, "o-missing").state()
    finally:
        causal.close()


def test_event_from_another_customer_is_refused(app: JourneyApplication) -> None:
    """R-CUS-01: an order answers only to its own customer's events."""
    feed = Feed()
    assert run(app, feed, [feed.event("order.placed", placed_data(), PLACED_AT)]) == []

    refusals = run(
        app,
        feed,
        [
            feed.event(
                "order.cancelled",
                {"order_id": "o-1", "reason": "x"},
                PLACED_AT + SECOND,
                customer_id="cust-2",
            )
        ],
    )

    assert [type(error) for _, error in refusals] == [NotFound]
    assert load(app).status == "placed"


def test_redelivered_placement_has_no_effect_and_a_second_placement_is_refused(
    app: JourneyApplication,
) -> None:
    """R-ORD-04: one placement, one promise clock; a re-delivery is a no-op."""
    feed = Feed()
    first = feed.event("order.placed", placed_data(), PLACED_AT, event_id="ev-p1")
    assert run(app, feed, [first]) == []
    version = load(app).version

    again = feed.event("order.placed", placed_data(), PLACED_AT, event_id="ev-p1")
    other = feed.event("order.placed", placed_data(), PLACED_AT + SECOND, event_id="ev-p2")
    refusals = run(app, feed, [again, other])

    assert [(r.event_id, type(e)) for r, e in refusals] == [("ev-p2", OrderExists)]
    assert load(app).version == version


def test_r_ord_02_wrong_options_refused_through_the_handler(app: JourneyApplication) -> None:
    feed = Feed()
    refusals = run(
        app,
        feed,
        [
            feed.event("order.placed", placed_data(), PLACED_AT),
            feed.event(
                "order.out_of_stock", {"order_id": "o-1", "sku": "MUG-11"}, PLACED_AT + SECOND
            ),
            feed.event(
                "order.customer_notified",
                {"order_id": "o-1", "sku": "MUG-11", "options": THREE_OPTIONS[:2]},
                PLACED_AT + 2 * SECOND,
            ),
        ],
    )

    assert len(refusals) == 1
    assert refusals[0][1].rule == "R-ORD-02"
    assert load(app).awaiting_notice == {"MUG-11": PLACED_AT + SECOND}


def test_r_ref_04_refund_money_survives_the_store(app: JourneyApplication) -> None:
    feed = Feed()
    assert run(app, feed, [feed.event("order.placed", placed_data(), PLACED_AT)]) == []
    order = load(app)
    refund(order, Decimal("0.10"))
    app.save(order)

    loaded = load(app)
    assert loaded.refunded_total == Decimal("0.10")
    assert loaded.refundable() == PAID - Decimal("0.10")
    with pytest.raises(RefundExceedsPaid):
        loaded.check_refund(PAID)


# -- schemas ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "cny"}, "data.currency"),
        ({"items": []}, "data.items"),
        ({"items": [{"sku": "A", "quantity": 0, "unit_price": "1.00"}]}, "data.items.0.quantity"),
        ({"amount_paid": "1.001"}, "data.amount_paid"),
        ({"colour": "red"}, "data.colour"),
        ({"special_requests": [{"kind": "engrave"}]}, "data.special_requests.0.kind"),
    ],
    ids=["currency", "no-items", "quantity-0", "three-decimals", "unknown-field", "kind"],
)
def test_invalid_placement_record_is_refused_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    """R-REF-04 needs exact money and R-ORD-03 known request kinds: bad placement records are
    refused at the edge, naming the field."""
    body = {
        "event_id": "ev-bad",
        "type": "order.placed",
        "occurred_at": PLACED_AT.isoformat(),
        "channel": "app",
        "customer_id": "cust-1",
        "source": "oms",
        "schema_version": 1,
        "data": {**placed_data(), **change},
    }
    with pytest.raises(InvalidEvent) as caught:
        validate(body, now=NOW, max_future=timedelta(minutes=5))
    assert field in [problem.field for problem in caught.value.problems]

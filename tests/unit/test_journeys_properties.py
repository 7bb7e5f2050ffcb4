"""Plain properties of journeys through the application, beside the state machine of
tests/unit/test_journeys_stateful.py: R-RESP-03 phone calls at any time of day, R-REF-04
refunds in parts never above what was paid; each with replay or redelivery."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.contact import Contact
from domain.order import Order
from tests.unit.journeys.feed import T0, Feed, with_feed
from tests.unit.journeys.setting import (
    PHONE_SECOND_OF_DAY,
    POLICY,
    SECOND,
    _seconds,
    money,
    notifications,
)


@settings(max_examples=40, deadline=None)
@given(
    second_of_day=PHONE_SECOND_OF_DAY,
    answered_after=st.one_of(
        st.sampled_from([POLICY.phone_answer, POLICY.phone_answer + SECOND]),
        st.integers(1, 120).map(_seconds),
    ),
)
def test_r_resp_03_phone_calls_at_any_time_of_day(
    second_of_day: int, answered_after: timedelta
) -> None:
    """R-RESP-03 through the application: a call in working hours (local time) is answered
    within its target or breached, one outside them has no clock; replay equals live
    (property 2) and the answer delivered twice is stored once (property 3)."""
    zone = timezone(POLICY.phone_hours.utc_offset)
    opened = datetime.combine(
        T0.astimezone(zone).date(),
        time(second_of_day // 3600, second_of_day % 3600 // 60, second_of_day % 60),
        tzinfo=zone,
    )

    def run(feed: Feed) -> None:
        opening = feed.event(
            "contact.opened",
            {"contact_id": "k1", "classification": "inquiry", "topic": "product"},
            opened,
            channel="phone",
        )
        answer = feed.event(
            "contact.replied",
            {"contact_id": "k1", "responder": "agent", "agent_id": "ag-1"},
            opened + answered_after,
        )
        assert feed.deliver(opening, answer) == []
        stored = notifications(feed.app)
        assert feed.deliver(answer) == []
        assert notifications(feed.app) == stored
        contact: Contact = feed.app.repository.get(Contact.create_id("k1"))
        outcome = contact.outcomes().get("R-RESP-03")
        if POLICY.phone_hours.contains(opened):
            assert outcome is not None
            assert outcome.met is (answered_after <= POLICY.phone_answer)
            assert outcome.actual == answered_after
        else:
            assert outcome is None

    with_feed(run)


@settings(max_examples=40, deadline=None)
@given(
    paid=st.integers(0, 50_000),
    refunds=st.lists(st.integers(0, 30_000), min_size=1, max_size=6),
    requested=st.lists(st.integers(1, 60_000), min_size=1, max_size=2),
)
def test_r_ref_04_refunds_in_parts_never_exceed_what_was_paid(
    paid: int, refunds: list[int], requested: list[int]
) -> None:
    """R-REF-04 through the application: refunds in parts against one or two approved
    returns of one order are accepted exactly while they fit both the request and the
    order's paid minus refunded; every other is refused naming R-REF-04; the order's
    refunded total never exceeds what was paid (property 1)."""

    def run(feed: Feed) -> None:
        at = T0
        placed = {
            "order_id": "o1",
            "items": [{"sku": "KT-2209", "quantity": 1, "unit_price": str(money(paid))}],
            "amount_paid": str(money(paid)),
            "currency": "CNY",
            "promised_delivery_at": (at + timedelta(days=3)).isoformat(),
        }
        events = [feed.event("order.placed", placed, at)]
        for event_type in ("order.shipped", "order.delivered"):
            at += timedelta(hours=20)
            events.append(feed.event(event_type, {"order_id": "o1"}, at))
        for n, amount in enumerate(requested):
            at += timedelta(hours=1)
            request = {
                "return_id": f"r{n}",
                "order_id": "o1",
                "reason": "quality",
                "opened": True,
                "where": "online",
                "amount_requested": str(money(amount)),
            }
            events.append(feed.event("return.requested", request, at))
            events.append(feed.event("return.approved", {"return_id": f"r{n}"}, at))
        assert feed.deliver(*events) == []
        left_on_order = paid
        left_on_request = list(requested)
        for n, amount in enumerate(refunds):
            which = n % len(requested)
            at += timedelta(hours=2)
            data = {"return_id": f"r{which}", "amount": str(money(amount))}
            refusals = feed.deliver(feed.event("refund.refunded", data, at))
            fits = 0 < amount <= min(left_on_order, left_on_request[which])
            if fits:
                assert refusals == []
                left_on_order -= amount
                left_on_request[which] -= amount
            else:
                assert [error.rule for _, error in refusals] == ["R-REF-04"]
            order: Order = feed.app.repository.get(Order.create_id("o1"))
            assert order.refunded_total == money(paid - left_on_order) <= order.amount_paid

    with_feed(run)

"""Order journeys on the orders topic: placement, changes, stock-outs, delays, shipment,
delivery (some late), cancellation; then the returns and refunds and the after-delivery
callback, which the domain checks against the delivered order and which therefore ride
with it (R-ORD-01..04, R-REF-01..05, R-SAT-04)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tools.simulator.catalogue import (
    CARRIERS,
    MERCHANTS,
    ORDER_CHANNEL_WEIGHTS,
    ORDER_CHANNELS,
    PRODUCTS,
    STORES,
    Product,
    basket,
    pick,
)
from tools.simulator.config import CHINA, RATES
from tools.simulator.timeline import DAY, HOUR, MINUTE, Timeline, Track

STOCK_OUT_OPTIONS = ["store_transfer", "similar_product", "restock_reminder"]  # R-ORD-02
CALLBACK_OUTCOMES = ("reached", "no_answer", "declined", "issue_raised")
CALLBACK_OUTCOME_WEIGHTS = (60, 25, 5, 10)
RETURN_REASONS = ("no_reason", "quality", "damaged", "wrong_item")
RETURN_REASON_WEIGHTS = (45, 25, 15, 15)


@dataclass
class OrderStory:
    """What happened to an order, for the journeys that follow from it."""

    order_id: str
    channel: str
    store_id: str
    placed_at: datetime
    lines: list[tuple[Product, int]]
    status: str = "placed"
    late: bool = False
    stock_out: bool = False
    promised_at: datetime | None = None
    delivered_at: datetime | None = None
    ended_at: datetime | None = None
    """Delivery or cancellation."""
    extra: dict[str, Any] = field(default_factory=dict)


def _promise(placed_at: datetime, days: int) -> datetime:
    """18:00 local, ``days`` days after the placement."""
    day = placed_at.astimezone(CHINA).date() + timedelta(days=days)
    return datetime.combine(day, time(18, 0), CHINA)


def order_journey(timeline: Timeline, start: datetime, channel: str | None = None) -> OrderStory:
    track = timeline.track("order.placed", start)
    rng = track.rng
    channel = channel or pick(rng, ORDER_CHANNELS, ORDER_CHANNEL_WEIGHTS)
    lines = basket(rng)
    story = OrderStory(
        order_id=timeline.next_id("o"),
        channel=channel,
        store_id=rng.choice(STORES),
        placed_at=start,
        lines=lines,
    )
    order = {"order_id": story.order_id}
    promised = _promise(start, rng.randint(2, 5))
    placed: dict[str, Any] = {
        **order,
        "items": [{"sku": p.sku, "quantity": q, "unit_price": str(p.price)} for p, q in lines],
        "amount_paid": str(sum((p.price * q for p, q in lines), Decimal("0"))),
        "currency": "CNY",
        "promised_delivery_at": promised.isoformat(),
        "store_id": story.store_id,
    }
    if track.chance(RATES.special_request):
        placed["special_requests"] = [{"kind": "gift_wrap", "note": "no price tag"}]
    track.add("order.placed", channel, placed)
    story.promised_at = promised

    if track.chance(RATES.special_request):  # R-ORD-03: before shipment
        request = {**order, "kind": "delayed_shipping", "note": "after the weekend"}
        track.after(10 * MINUTE, 3 * HOUR, "order.special_request", channel, request)
    if track.chance(RATES.modified):  # R-ORD-01: synchronised within 5 min
        change = {
            **order,
            "modification_id": "mod1",
            "changes": {"address": "another delivery address"},
            "systems": ["oms", "wms", "crm"],
        }
        track.after(5 * MINUTE, 2 * HOUR, "order.modified", channel, change)
        sync = (20, 290) if track.chance(0.92) else (6 * MINUTE, 30 * MINUTE)
        track.after(*sync, "order.synced", "web", {**order, "modification_id": "mod1"})
    if track.chance(RATES.out_of_stock):  # R-ORD-02: told within 1 h, three options
        sku = lines[0][0].sku
        story.stock_out = True
        track.after(10 * MINUTE, 4 * HOUR, "order.out_of_stock", "store", {**order, "sku": sku})
        notice = (2 * MINUTE, 55 * MINUTE) if track.chance(0.9) else (61 * MINUTE, 3 * HOUR)
        notified = {**order, "sku": sku, "options": list(STOCK_OUT_OPTIONS)}
        track.after(*notice, "order.customer_notified", channel, notified)
        if track.chance(RATES.out_of_stock_cancel):
            return _cancel(track, story, "out of stock; the customer chose a restock reminder")
    if track.chance(RATES.customer_cancel):
        return _cancel(track, story, "customer changed their mind")

    ship_by = promised - timedelta(hours=20)
    track.later(2 * HOUR, max(2 * HOUR, int((ship_by - track.now).total_seconds())))
    shipped = {
        **order,
        "carrier": rng.choice(CARRIERS),
        "tracking_number": f"TN{rng.randrange(10**9, 10**10)}",
    }
    track.add("order.shipped", "web", shipped)
    if track.chance(RATES.delay_announced):  # R-ORD-04: announced before the promise
        track.move_to(min(promised - timedelta(hours=1), track.now + timedelta(hours=6)))
        promised = promised + timedelta(days=rng.randint(1, 3))
        delay = {
            **order,
            "new_promised_delivery_at": promised.isoformat(),
            "reason": rng.choice(("weather", "force_majeure", "other")),
        }
        track.add("order.delay_announced", channel, delay)
        story.promised_at = promised
    if track.chance(RATES.late_delivery):
        track.move_to(promised)
        track.later(HOUR, 3 * DAY)
    else:
        room = int((promised - track.now).total_seconds()) - HOUR
        track.later(min(4 * HOUR, max(room, HOUR)), max(4 * HOUR, room))
    track.add("order.delivered", "web", order)
    story.status = "delivered"
    story.late = track.now > promised  # R-ORD-04: after the (latest) promised date
    story.delivered_at = story.ended_at = track.now
    return story


def _cancel(track: Track, story: OrderStory, reason: str) -> OrderStory:
    cancelled = {"order_id": story.order_id, "reason": reason}
    track.after(30 * MINUTE, 20 * HOUR, "order.cancelled", story.channel, cancelled)
    story.status = "cancelled"
    story.ended_at = track.now
    return story


def after_delivery_callback(timeline: Timeline, story: OrderStory) -> None:
    """R-SAT-04: a callback 7 days after the delivery, with its outcome (or missed)."""
    assert story.delivered_at is not None
    track = timeline.track("order.placed", story.delivered_at)
    callback_id = timeline.next_id("cb")
    scheduled = {"callback_id": callback_id, "reason": "after_delivery", "order_id": story.order_id}
    track.after(HOUR, 12 * HOUR, "callback.scheduled", "phone", scheduled)
    track.move_to(story.delivered_at + timedelta(days=7))
    if track.chance(RATES.callback_missed):
        missed = {"callback_id": callback_id, "reason": "no agent free that day"}
        track.after(HOUR, 8 * HOUR, "callback.missed", "phone", missed)
        return
    outcome = track.rng.choices(CALLBACK_OUTCOMES, CALLBACK_OUTCOME_WEIGHTS)[0]
    # Mostly on the day it is due, before the due time (R-SAT-04); some a little late.
    when = (-6 * HOUR, -MINUTE) if track.chance(0.95) else (MINUTE, 6 * HOUR)
    track.now = story.delivered_at + timedelta(days=7, seconds=track.rng.randint(*when))
    track.add("callback.completed", "phone", {"callback_id": callback_id, "outcome": outcome})


def return_journey(
    timeline: Timeline, story: OrderStory, start: datetime, reason: str, case_ref: str | None
) -> None:
    """A return of one order line within its window (R-REF-01), reviewed within 24 h
    online (R-REF-02), handled within 10 min in store with a receipt (R-REF-03), answered
    by the marketplace merchant within 48 h (R-REF-05), then refunded or exchanged within
    3 days of the approval (R-REF-02, R-REF-04)."""
    track = timeline.track("order.placed", start)
    rng = track.rng
    product, quantity = rng.choice(story.lines)
    amount = product.price * quantity
    return_id = timeline.next_id("rt")
    ret = {"return_id": return_id}
    where = "store" if story.channel == "store" or track.chance(0.1) else "online"
    requested: dict[str, Any] = {
        **ret,
        "order_id": story.order_id,
        "reason": reason,
        "opened": reason in ("quality", "damaged", "wrong_item") and track.chance(0.7),
        "where": where,
        "amount_requested": str(amount),
        "items": [product.sku],
    }
    merchant = rng.choice(MERCHANTS) if story.channel == "marketplace" else None
    if merchant:
        requested["merchant_id"] = merchant
    if where == "store":
        requested["has_receipt"] = True
    if case_ref:
        requested["case_id"] = case_ref
    track.add("return.requested", story.channel, requested)
    rejected = track.chance(RATES.return_rejected)
    if merchant:
        decision = "reject" if track.chance(RATES.merchant_reject) else "accept"
        answer = (HOUR, 47 * HOUR) if track.chance(0.9) else (49 * HOUR, 72 * HOUR)
        response = {**ret, "merchant_id": merchant, "decision": decision}
        track.after(*answer, "merchant.responded", "marketplace", response)
        rejected = decision == "reject"
    if where == "store":
        track.after(60, 9 * MINUTE, "return.inspected", "store", {**ret, "result": "as_described"})
        decided = "return.rejected" if rejected else "return.approved"
        track.after(10, 50, decided, "store", _decision(ret, rejected))
    else:
        review = (10 * MINUTE, 23 * HOUR) if track.chance(0.9) else (25 * HOUR, 40 * HOUR)
        decided = "return.rejected" if rejected else "return.approved"
        track.after(*review, decided, "web", _decision(ret, rejected))
        if not rejected:  # the goods arrive at the warehouse, on a clock of their own
            goods = timeline.track("order.placed", track.now)
            result = {**ret, "result": "as_described"}
            goods.after(12 * HOUR, 2 * DAY, "return.inspected", "web", result)
    if rejected:
        return
    done = (HOUR, 2 * DAY) if track.chance(0.9) else (3 * DAY + HOUR, 5 * DAY)
    if reason in ("quality", "damaged") and track.chance(RATES.exchange):
        exchange = {**ret, "new_sku": f"{product.sku}-NEW"}
        track.after(*done, "return.exchanged", "web", exchange)
    else:
        track.after(*done, "refund.refunded", "web", {**ret, "amount": str(amount)})


def _decision(ret: dict[str, Any], rejected: bool) -> dict[str, Any]:
    return {**ret, "reason": "the goods were opened and used"} if rejected else dict(ret)


__all__ = [
    "PRODUCTS",
    "RETURN_REASONS",
    "RETURN_REASON_WEIGHTS",
    "OrderStory",
    "after_delivery_callback",
    "order_journey",
    "return_journey",
]

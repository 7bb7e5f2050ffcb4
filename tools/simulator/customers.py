"""One simulated customer: registration with personal data and consents (R-CUS-02),
profile changes, notes (R-CUS-03), perhaps erasure; birthday and launch callbacks
(R-SAT-04); and over the window, pre-sale inquiries, orders and the contacts, complaints,
returns and callbacks that follow from them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from random import Random
from typing import Any

from tools.simulator.cases import CaseRequest, case_journey
from tools.simulator.catalogue import (
    CATEGORIES,
    CONTACT_CHANNEL_WEIGHTS,
    CONTACT_CHANNELS,
    STORES,
    birthday,
    personal,
    pick,
)
from tools.simulator.config import CHINA, RATES, SimConfig
from tools.simulator.orders import (
    RETURN_REASON_WEIGHTS,
    RETURN_REASONS,
    OrderStory,
    after_delivery_callback,
    order_journey,
    return_journey,
)
from tools.simulator.timeline import DAY, HOUR, MINUTE, Timeline

INQUIRY_TOPICS = ("product", "product", "membership", "other", "order")
INQUIRY_DEMANDS = {
    "product": "is this kettle available in white",
    "membership": "how do I use my membership points",
    "other": "opening hours of the store",
    "order": "can I still change the delivery address",
}


def customer_id(config: SimConfig, index: int) -> str:
    return f"sim{config.seed}-cust{index:06d}"


def customer_timeline(config: SimConfig, index: int) -> Timeline:
    """Every step of customer ``index``, from a random generator of its own: the same
    seed and index give the same steps whatever the other customers do."""
    rng = Random(f"journey-simulator:{config.seed}:{index}")  # noqa: S311 - reproducible
    timeline = Timeline(rng, customer_id(config, index))
    start, end = config.start_at, config.end_at
    window = (end - start).total_seconds()
    joined = start + timedelta(seconds=rng.uniform(0, window * 0.3))
    if rng.random() < RATES.registered:
        consents = _register(timeline, joined, index)
        if "marketing" in consents:
            _birthday_callback(timeline, joined, end)
    else:
        joined = start
    # Orders and inquiries arrive at random (exponential gaps) over the rest of the window.
    at = joined
    while (at := at + timedelta(days=rng.expovariate(RATES.orders_per_day))) < end:
        _order(timeline, at)
    at = joined
    while (at := at + timedelta(days=rng.expovariate(RATES.inquiries_per_day))) < end:
        _inquiry(timeline, at)
    return timeline


def _register(timeline: Timeline, at: datetime, index: int) -> list[str]:
    """customer.registered and later changes, on the customers topic; the consents given."""
    track = timeline.track("customer.registered", at)
    rng = track.rng
    consents = []
    if track.chance(RATES.service_consent):
        consents.append("service")
    if track.chance(RATES.marketing_consent):
        consents.append("marketing")
    if track.chance(RATES.research_consent):
        consents.append("research")
    data: dict[str, Any] = {"member_id": f"m-{index:07d}", "consents": consents}
    if "service" in consents:  # R-CUS-02: personal data only with service consent
        data["personal"] = personal(rng, index)
    if track.chance(0.7):
        data["birthday"] = birthday(rng)
    data["preferences"] = rng.sample(CATEGORIES, rng.randint(1, 2))
    channel = pick(rng, ("app", "mini_program", "web", "store"), (50, 25, 15, 10))
    track.add("customer.registered", channel, data)
    if "marketing" not in consents and track.chance(0.05):
        track.after(DAY, 20 * DAY, "customer.consent_granted", channel, {"purpose": "marketing"})
        consents.append("marketing")
    if "service" in consents and track.chance(RATES.profile_update):
        address = {"address": f"{rng.randint(1, 999)} Zhongshan Rd, Nanjing"}
        track.after(DAY, 30 * DAY, "customer.profile_updated", channel, {"personal": address})
    elif track.chance(RATES.profile_update / 2):
        prefs = {"preferences": rng.sample(CATEGORIES, 2)}
        track.after(DAY, 30 * DAY, "customer.profile_updated", channel, prefs)
    if track.chance(RATES.note):
        note = {
            "note": "Asked for delivery after 18:00 on weekdays; prefers SMS to calls.",
            "author": f"ag-{rng.randint(1, 120):03d}",
        }
        track.after(HOUR, 20 * DAY, "customer.note_added", "web", note)
    if "marketing" in consents and track.chance(RATES.marketing_withdrawn):
        track.after(DAY, 30 * DAY, "customer.consent_withdrawn", channel, {"purpose": "marketing"})
    if track.chance(RATES.erasure):
        track.after(
            DAY, 30 * DAY, "customer.erasure_requested", channel, {"reason": "closing the account"}
        )
    return consents


def _birthday_callback(timeline: Timeline, joined: datetime, end: datetime) -> None:
    """R-SAT-04: a birthday call for a customer with marketing consent (registered with a
    birthday inside the window), scheduled a few days before."""
    rng = timeline.rng
    if rng.random() >= RATES.birthday_callback:
        return
    local = joined.astimezone(CHINA)
    due = datetime.combine(local.date() + timedelta(days=rng.randint(3, 200)), time(10, 0), CHINA)
    if due >= end:
        return
    track = timeline.track("callback.scheduled", max(joined, due - timedelta(days=3)))
    callback_id = timeline.next_id("cb")
    scheduled = {"callback_id": callback_id, "reason": "birthday", "due_at": due.isoformat()}
    track.after(MINUTE, HOUR, "callback.scheduled", "phone", scheduled)
    if track.now >= due:
        return
    if track.chance(RATES.callback_missed):
        track.move_to(due)
        track.after(HOUR, 6 * HOUR, "callback.missed", "phone", {"callback_id": callback_id})
    else:
        outcome = pick(rng, ("reached", "no_answer", "declined"), (65, 30, 5))
        completed = {"callback_id": callback_id, "outcome": outcome}
        track.move_to(due - timedelta(seconds=rng.randint(MINUTE, 2 * HOUR)))
        track.after(0, 0, "callback.completed", "phone", completed)


def _inquiry(timeline: Timeline, at: datetime) -> None:
    """A pre-sale or service contact; some followed by an order within 7 days (R-KPI-08),
    a few urgent (account anomaly)."""
    rng = timeline.rng
    at = _daytime(rng, at)
    channel = pick(rng, CONTACT_CHANNELS, CONTACT_CHANNEL_WEIGHTS)
    topic = rng.choice(INQUIRY_TOPICS)
    classification = "service" if topic == "order" else "inquiry"
    if rng.random() < 0.02:
        classification, topic = "urgent", "membership"
    request = CaseRequest(
        classification=classification,
        topic=topic,
        channel=channel,
        demand="my account shows orders I did not place"
        if classification == "urgent"
        else INQUIRY_DEMANDS[topic],
        store_id=rng.choice(STORES) if channel == "store" else None,
        agent_group="pre-sales" if topic == "product" else None,
    )
    case_journey(timeline, at, request)
    if topic == "product" and rng.random() < 0.3:  # consultation conversion (R-KPI-08)
        _order(timeline, at + timedelta(seconds=rng.randint(HOUR, 6 * DAY)))


def _daytime(rng: Random, at: datetime) -> datetime:
    """Most contacts and orders fall between 08:00 and 23:00 local time."""
    local = at.astimezone(CHINA)
    if 8 <= local.hour < 23 or rng.random() < 0.1:
        return at
    return at + timedelta(hours=(8 - local.hour) % 24, minutes=rng.randint(0, 120))


def _order(timeline: Timeline, at: datetime) -> None:
    rng = timeline.rng
    story = order_journey(timeline, _daytime(rng, at))
    if story.status == "cancelled":
        if story.stock_out and rng.random() < RATES.complaint_after_cancel:
            cancelled_at = story.ended_at or story.placed_at
            demand = "order cancelled: out of stock"
            _complaint(timeline, story, cancelled_at, "order", None, demand)
        return
    assert story.delivered_at is not None
    assert story.promised_at is not None
    if story.late and rng.random() < RATES.complaint_after_late:
        # "Where is my parcel": after the promised date passed, before or after delivery.
        asked = story.promised_at + timedelta(seconds=rng.randint(HOUR, DAY))
        _complaint(timeline, story, asked, "logistics", None, "where is my parcel")
    if rng.random() < RATES.after_delivery_callback:
        after_delivery_callback(timeline, story)
    if rng.random() < (RATES.return_late if story.late else RATES.return_on_time):
        _return(timeline, story)
    elif rng.random() < RATES.complaint_after_delivery:
        kind = pick(rng, ("quality", "usage"), (60, 40))
        asked = story.delivered_at + timedelta(seconds=rng.randint(HOUR, 10 * DAY))
        _complaint(timeline, story, asked, "after_sales", kind, "the product does not work")


def _return(timeline: Timeline, story: OrderStory) -> None:
    """R-REF-01: a no-reason return of unopened goods within 7 days, goods at fault within
    30; a damaged or faulty product first raises an after-sales complaint (the return
    settles it)."""
    rng = timeline.rng
    assert story.delivered_at is not None
    reason = "no_reason" if story.late else pick(rng, RETURN_REASONS, RETURN_REASON_WEIGHTS)
    window = {"no_reason": (HOUR, 6 * DAY), "damaged": (HOUR, 2 * DAY)}.get(reason, (DAY, 25 * DAY))
    at = story.delivered_at + timedelta(seconds=rng.randint(*window))
    case_ref = None
    if reason in ("quality", "damaged") and rng.random() < 0.6:
        case_ref = _complaint(
            timeline, story, at, "after_sales", reason, f"the product arrived {reason}"
        )
        at += timedelta(seconds=rng.randint(10 * MINUTE, 3 * HOUR))
    return_journey(timeline, story, at, reason, case_ref)


def _complaint(
    timeline: Timeline,
    story: OrderStory,
    at: datetime,
    topic: str,
    kind: str | None,
    demand: str,
) -> str:
    rng = timeline.rng
    channel = pick(rng, CONTACT_CHANNELS, CONTACT_CHANNEL_WEIGHTS)
    major = kind == "quality" and rng.random() < RATES.major * 10
    request = CaseRequest(
        classification="complaint",
        topic=topic,
        channel=channel,
        demand=demand,
        after_sales_kind=kind if kind in ("quality", "damaged", "usage") else None,
        store_id=story.store_id,
        agent_group="after-sales-east" if topic == "after_sales" else "orders-north",
        major=major,
        product_batch=f"{story.lines[0][0].sku}-B{rng.randint(1, 9)}" if major else None,
    )
    return case_journey(timeline, at, request)

"""The read-side benchmark's source events: ``bench/events.py``'s contact and case journeys,
plus what a customer 360 shows beside them, plus one long case.

- **Customers** (``customer.registered``): 80 % of the customers of the contact stream
  registered during the year before the window, with service and marketing consents.
- **Orders** (``order.placed`` → ``order.shipped`` → ``order.delivered``, sometimes
  ``order.delay_announced`` first, 5 % ``order.cancelled`` instead of shipping): 0 to 5 per
  customer, placed from 60 days before the contact window to its end, delivered within or
  after the promised date (a late delivery breaches R-ORD-04).
- **One long case** (``LONG_CASE_REF``, customer ``LONG_CUSTOMER``): a complaint worked
  for weeks, with progress updates every few hours and four rounds of options, choice,
  resolution and reopening (R-CMP-07) before the customer confirms — over 200 stored
  events on the case aggregate (facts and their SLA clock decisions), for the auditor's
  history.

Everything is merged in event-time order; the same ``(count, seed)`` always gives the same
bytes. Every event is valid for the domain: a refusal during the fill is a bug.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random

import orjson

from bench.events import SOURCES, START, WINDOW, SourceRecord, Step, stream

LONG_CASE_REF = "ct-long-0000001"
LONG_CUSTOMER = "cust-long-01"
LONG_ROUNDS = 4
LONG_UPDATES_PER_ROUND = 15
ORDER_HISTORY = timedelta(days=60)
"""Orders are placed from this long before the contact window to its end."""
SKUS = {
    "KT-2209": Decimal("299.00"),
    "MUG-11": Decimal("39.50"),
    "FAN-300": Decimal("459.00"),
    "IRON-7": Decimal("189.00"),
    "RICE-5": Decimal("699.00"),
    "CUP-2": Decimal("25.00"),
    "BLD-12": Decimal("899.00"),
    "TWL-4": Decimal("59.90"),
}
CARRIERS = ("SF Express", "JD Logistics", "ZTO", "YTO")
ORDER_COUNT_WEIGHTS = (25, 30, 20, 12, 8, 5)
"""How many customers place 0, 1, … 5 orders."""


def _hours(rng: Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=rng.randint(int(low * 3600), int(high * 3600)))


def _registration(rng: Random, customer: str) -> Step:
    at = START - timedelta(days=1) - timedelta(seconds=rng.randrange(365 * 86400))
    data = {
        "member_id": f"m-{customer.rsplit('-', 1)[-1]}",
        "personal": {"name": f"Customer {customer}", "phone": "+86 138 0000 0000"},
        "consents": ["service", "marketing"],
        "birthday": f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "preferences": rng.sample(["kitchen", "small-appliances", "home", "outdoor"], 2),
    }
    return at, "customer.registered", rng.choice(("app", "web", "store")), data, 1


def _order(rng: Random, order_id: str) -> Iterator[Step]:
    """One order's life, in event-time order."""
    at = (
        START
        - ORDER_HISTORY
        + timedelta(seconds=rng.randrange(int((ORDER_HISTORY + WINDOW).total_seconds())))
    )
    channel = rng.choice(("app", "mini_program", "web", "store", "marketplace"))
    skus = rng.sample(sorted(SKUS), rng.randint(1, 3))
    quantities = {s: rng.randint(1, 2) for s in skus}
    items = [{"sku": s, "quantity": q, "unit_price": str(SKUS[s])} for s, q in quantities.items()]
    paid = sum((SKUS[s] * q for s, q in quantities.items()), Decimal(0))
    promised = at + _hours(rng, 48, 120)
    placed = {
        "order_id": order_id,
        "items": items,
        "amount_paid": str(paid),
        "currency": "CNY",
        "promised_delivery_at": promised.isoformat(timespec="seconds"),
        "store_id": f"store-{rng.randint(1, 60):02d}",
    }
    yield at, "order.placed", channel, placed, 1
    order = {"order_id": order_id}
    if rng.random() < 0.05:
        cancelled = {**order, "reason": "customer changed their mind"}
        yield at + _hours(rng, 0.2, 20), "order.cancelled", channel, cancelled, 1
        return
    shipped_at = at + _hours(rng, 4, 30)
    if rng.random() < 0.08:
        later = promised + _hours(rng, 24, 72)
        delay = {
            **order,
            "new_promised_delivery_at": later.isoformat(timespec="seconds"),
            "reason": rng.choice(("weather", "other")),
        }
        yield at + _hours(rng, 1, 3), "order.delay_announced", channel, delay, 1
        promised = later
    shipment = {
        **order,
        "carrier": rng.choice(CARRIERS),
        "tracking_number": f"TN{rng.randrange(10**10):010d}",
    }
    yield shipped_at, "order.shipped", "web", shipment, 1
    # Mostly on time; about one in ten arrives after the promised date (R-ORD-04 breach).
    delivered_at = shipped_at + _hours(rng, 20, 100)
    if delivered_at > promised and rng.random() < 0.7:
        delivered_at = max(shipped_at + _hours(rng, 1, 3), promised - _hours(rng, 1, 12))
    yield delivered_at, "order.delivered", "web", order, 1


def _long_case(rng: Random) -> Iterator[Step]:
    """A complaint with many progress updates and four reopenings: ≥ 200 stored events."""
    ref = LONG_CASE_REF
    at = START - timedelta(days=40)
    channel = "app"
    opened = {
        "contact_id": ref,
        "classification": "complaint",
        "topic": "after_sales",
        "after_sales_kind": "quality",
        "demand": "replacement for a cracked kettle",
        "store_id": "store-07",
        "agent_group": "after-sales-east",
    }
    yield at, "contact.opened", channel, opened, 2
    at += timedelta(minutes=2)
    yield at, "contact.message", channel, {"contact_id": ref, "message_id": "m-0"}, 1
    at += timedelta(minutes=5)
    yield at, "contact.identity_verified", channel, {"contact_id": ref, "method": "phone"}, 1
    at += timedelta(minutes=6)
    reply = {"contact_id": ref, "responder": "agent", "agent_id": "ag-007"}
    yield at, "contact.replied", channel, {**reply, "account_specific": True}, 1
    case = {"case_id": ref}
    at += timedelta(minutes=30)
    assigned = {
        **case,
        "owner": "ag-007",
        "due_at": (at + timedelta(days=30)).isoformat(timespec="seconds"),
        "acceptance_criteria": "customer confirms the chosen solution was delivered",
    }
    yield at, "case.owner_assigned", "web", assigned, 1
    at += timedelta(hours=2)
    escalation = {**case, "level": 2, "supervisor_id": "sup-3"}
    yield at, "case.escalated", "web", escalation, 1
    at += timedelta(minutes=20)
    yield at, "contact.closed", channel, {"contact_id": ref, "resolved": False}, 1
    for round_no in range(LONG_ROUNDS):
        for _ in range(LONG_UPDATES_PER_ROUND):
            at += _hours(rng, 3, 26)  # now and then later than the 24 h target (R-CMP-03)
            yield at, "case.progress_update_sent", "web", case, 1
        options = ["replace", "refund", "repair"][: 1 + round_no % 3]
        at += _hours(rng, 1, 4)
        yield at, "case.options_offered", "web", {**case, "options": options}, 1
        at += _hours(rng, 1, 4)
        yield at, "case.option_chosen", channel, {**case, "option": options[0]}, 1
        at += _hours(rng, 2, 10)
        summary = f"{options[0]} done, round {round_no + 1}"
        yield at, "case.resolved", "web", {**case, "option": options[0], "summary": summary}, 1
        at += _hours(rng, 2, 20)
        if round_no < LONG_ROUNDS - 1:
            reason = {**case, "reason": "the problem came back"}
            yield at, "case.reopened", channel, reason, 1
        else:
            yield at, "case.resolution_confirmed", channel, {**case, "via": "online"}, 1


def _record(step: Step, customer: str, event_id: str) -> SourceRecord:
    at, kind, channel, data, version = step
    body = {
        "event_id": event_id,
        "type": kind,
        "occurred_at": at.isoformat(timespec="seconds"),
        "channel": channel,
        "customer_id": customer,
        "source": SOURCES.get(channel, "oms"),
        "schema_version": version,
        "data": data,
    }
    return SourceRecord(customer, orjson.dumps(body), event_id, kind, version)


def readside_stream(contact_events: int, seed: int) -> list[SourceRecord]:
    """``bench.events.stream(contact_events, seed)`` plus registrations, orders and the
    long case, in event-time order."""
    base = stream(contact_events, seed)
    rng = Random(seed * 7919 + 1)  # noqa: S311 - a reproducible stream, not a secret
    customers = sorted({r.key for r in base})
    extra: list[tuple[datetime, int, SourceRecord]] = []

    def add(step: Step, customer: str, family: str) -> None:
        n = len(extra)
        extra.append((step[0], n, _record(step, customer, f"rs-{seed}-{family}-{n:08d}")))

    order_no = 0
    for customer in customers:
        if rng.random() < 0.8:
            add(_registration(rng, customer), customer, "customer")
        for _ in range(rng.choices(range(len(ORDER_COUNT_WEIGHTS)), ORDER_COUNT_WEIGHTS)[0]):
            order_no += 1
            for step in _order(rng, f"o-{order_no:08d}"):
                add(step, customer, "order")
    for step in _long_case(rng):
        add(step, LONG_CUSTOMER, "long")
    timed: list[tuple[datetime, int, SourceRecord]] = [
        (datetime.fromisoformat(orjson.loads(r.value)["occurred_at"]), -len(base) + n, r)
        for n, r in enumerate(base)
    ]
    # Base records keep their order among themselves and come first at equal times.
    merged = heapq.merge(timed, sorted(extra, key=lambda e: (e[0], e[1])), key=lambda e: e[:2])
    return [record for _, _, record in merged]

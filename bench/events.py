"""A deterministic stream of ``contact.*`` and ``case.*`` source events for many customers.

Each case follows a plausible journey in the shape of docs/events.md: a contact opens it
(v1 or v2 of ``contact.opened``), the customer writes, a bot may answer and hand over, an
agent answers (after identity verification when the answer is account-specific);
inquiries and service requests end there, complaints and urgent cases go on to an owner,
perhaps a priority change or an escalation, progress updates, a second contact on another
channel, options, the customer's choice, resolution, confirmation (or closure after the
no-reply period) and sometimes a reopening. Every event is valid for the domain, so an
ingest that refuses any of them is broken, not slow.

The same ``(count, seed)`` always gives the same bytes. Events of all cases are merged in
event-time order and cut at ``count``: a cut journey is a valid prefix of a journey.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from random import Random
from typing import Any

import orjson

CHINA = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 8, 0, tzinfo=CHINA)
"""Inside policy 2026.1, and in the past, so no ``occurred_at`` is refused as future."""
WINDOW = timedelta(days=14)

IM_CHANNELS = ("app", "mini_program", "web")
CHANNELS = (*IM_CHANNELS, "phone", "store", "social", "marketplace", "email")
CHANNEL_WEIGHTS = (30, 15, 15, 15, 10, 5, 5, 5)
SOURCES = {
    "app": "app-gateway",
    "mini_program": "mini-program-gateway",
    "web": "web-chat",
    "phone": "ivr",
    "store": "store-device",
    "social": "social-hub",
    "marketplace": "marketplace-bridge",
    "email": "mail-ingest",
}
CLASSIFICATIONS = ("inquiry", "service", "complaint", "urgent")
CLASSIFICATION_WEIGHTS = (30, 20, 40, 10)
TOPICS = ("product", "order", "after_sales", "logistics", "membership", "other")
AFTER_SALES_KINDS = ("quality", "damaged", "usage")
VERIFICATIONS = ("order_number", "member_id", "phone")
AGENT_GROUPS = ("after-sales-east", "after-sales-west", "orders-north", "members", "logistics")
OPTIONS = ("replace", "refund", "repair", "voucher", "reship")
DEMANDS = (
    "replacement for a cracked kettle",
    "refund for a late delivery",
    "where is my parcel",
    "membership points missing",
    "wrong size delivered",
    "charger stopped working after a week",
)

Step = tuple[datetime, str, str, dict[str, Any], int]
"""(occurred_at, type, channel, data, schema_version) of one source event."""


@dataclass(frozen=True)
class SourceRecord:
    key: str
    """``customer_id``: the Kafka key."""
    value: bytes
    event_id: str
    type: str
    schema_version: int


class _Clock:
    def __init__(self, rng: Random, start: datetime) -> None:
        self._rng = rng
        self.now = start

    def later(self, low: timedelta, high: timedelta) -> datetime:
        span = int((high - low).total_seconds())
        self.now += low + timedelta(seconds=self._rng.randint(0, span))
        return self.now


def _seconds(low: int, high: int) -> tuple[timedelta, timedelta]:
    return timedelta(seconds=low), timedelta(seconds=high)


def _case(rng: Random, ref: str, start: datetime) -> Iterator[Step]:
    """The source events of one case, in event-time order."""
    clock = _Clock(rng, start)
    channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
    classification = rng.choices(CLASSIFICATIONS, CLASSIFICATION_WEIGHTS)[0]
    topic = rng.choice(TOPICS)
    contact = ref
    opened: dict[str, Any] = {
        "contact_id": contact,
        "classification": classification,
        "topic": topic,
        "store_id": f"store-{rng.randint(1, 60):02d}",
        "agent_group": rng.choice(AGENT_GROUPS),
    }
    version = 1 if rng.random() < 0.15 else 2
    if version == 2:
        if topic == "after_sales":
            opened["after_sales_kind"] = rng.choice(AFTER_SALES_KINDS)
        opened["demand"] = rng.choice(DEMANDS)
        if rng.random() < 0.5:
            opened["verified_by"] = rng.choice(VERIFICATIONS)
    yield clock.now, "contact.opened", channel, opened, version
    verified = "verified_by" in opened

    for n in range(rng.randint(0, 3)):
        at = clock.later(*_seconds(5, 120))
        yield at, "contact.message", channel, {"contact_id": contact, "message_id": f"m-{n}"}, 1
    agent = f"ag-{rng.randint(1, 400):03d}"
    if channel in IM_CHANNELS and rng.random() < 0.4:
        bot = {"contact_id": contact, "responder": "bot"}
        yield clock.later(*_seconds(1, 5)), "contact.replied", channel, bot, 1
        handoff = {"contact_id": contact}
        yield clock.later(*_seconds(5, 60)), "contact.handoff_requested", channel, handoff, 1
        handed = {"contact_id": contact, "agent_id": agent}
        yield clock.later(*_seconds(3, 20)), "contact.handed_off", channel, handed, 1
    if not verified and rng.random() < 0.5:
        method = {"contact_id": contact, "method": rng.choice(VERIFICATIONS)}
        yield clock.later(*_seconds(10, 60)), "contact.identity_verified", channel, method, 1
        verified = True
    reply = {
        "contact_id": contact,
        "responder": "agent",
        "agent_id": agent,
        "account_specific": verified and rng.random() < 0.5,
    }
    yield clock.later(*_seconds(10, 600)), "contact.replied", channel, reply, 1

    if classification in ("inquiry", "service"):
        closed = {"contact_id": contact, "resolved": True}
        yield clock.later(*_seconds(30, 600)), "contact.closed", channel, closed, 1
        return
    yield from _complaint(rng, clock, ref, channel, classification, agent)


def _complaint(
    rng: Random, clock: _Clock, ref: str, channel: str, classification: str, agent: str
) -> Iterator[Step]:
    """A complaint's or urgent case's way to resolution (R-CMP-*), after the first answer."""
    case = {"case_id": ref}
    due = clock.now + timedelta(days=2)
    assigned = {
        **case,
        "owner": agent,
        "due_at": due.isoformat(timespec="seconds"),
        "acceptance_criteria": "customer confirms the chosen solution was delivered",
    }
    yield clock.later(*_seconds(60, 1800)), "case.owner_assigned", "web", assigned, 1
    if classification == "complaint" and rng.random() < 0.2:
        raised = {**case, "priority": "urgent"}
        yield clock.later(*_seconds(60, 900)), "case.priority_set", "web", raised, 1
    if rng.random() < 0.15:
        escalation = {**case, "level": 2, "supervisor_id": f"sup-{rng.randint(1, 20)}"}
        yield clock.later(*_seconds(60, 3000)), "case.escalated", "web", escalation, 1
    ended = {"contact_id": ref, "resolved": False}
    yield clock.later(*_seconds(30, 600)), "contact.closed", channel, ended, 1

    if rng.random() < 0.3:  # the customer comes back on another channel (R-CH-01)
        other = rng.choice([c for c in CHANNELS if c != channel])
        second = f"{ref}-2"
        joined = {"contact_id": second, "case_id": ref, "classification": "complaint"}
        joined["topic"] = "order"
        yield clock.later(*_seconds(600, 7200)), "contact.opened", other, joined, 2
        message = {"contact_id": second, "message_id": "m-0"}
        yield clock.later(*_seconds(5, 60)), "contact.message", other, message, 1
        answer = {"contact_id": second, "responder": "agent", "agent_id": agent}
        yield clock.later(*_seconds(10, 600)), "contact.replied", other, answer, 1
        done = {"contact_id": second, "resolved": False}
        yield clock.later(*_seconds(30, 600)), "contact.closed", other, done, 1

    for _ in range(rng.randint(1, 2)):
        yield clock.later(*_seconds(3600, 72000)), "case.progress_update_sent", "web", case, 1
    options = rng.sample(OPTIONS, rng.randint(1, 3))
    offered = {**case, "options": options}
    yield clock.later(*_seconds(600, 7200)), "case.options_offered", "web", offered, 1
    chosen = rng.choice(options)
    yield (
        clock.later(*_seconds(60, 3600)),
        "case.option_chosen",
        channel,
        {**case, "option": chosen},
        1,
    )
    yield from _resolution(rng, clock, case, channel, chosen)
    if rng.random() < 0.08:  # R-CMP-07
        reason = {**case, "reason": "the problem came back"}
        yield clock.later(*_seconds(3600, 86400)), "case.reopened", channel, reason, 1
        yield clock.later(*_seconds(3600, 36000)), "case.progress_update_sent", "web", case, 1
        yield from _resolution(rng, clock, case, channel, chosen)


def _resolution(
    rng: Random, clock: _Clock, case: dict[str, Any], channel: str, chosen: str
) -> Iterator[Step]:
    resolved = {**case, "option": chosen, "summary": f"{chosen} done"}
    yield clock.later(*_seconds(3600, 86400)), "case.resolved", "web", resolved, 1
    if rng.random() < 0.8:
        confirmed = {**case, "via": rng.choice(("sms", "online"))}
        yield clock.later(*_seconds(60, 86400)), "case.resolution_confirmed", channel, confirmed, 1
    else:  # R-CMP-04: after the 72 h no-reply period
        at = clock.later(timedelta(hours=72, minutes=1), timedelta(hours=80))
        yield at, "case.closed_no_reply", "web", case, 1


def stream(count: int, seed: int) -> list[SourceRecord]:
    """``count`` valid source records, in event-time order, the same for the same seed."""
    rng = Random(seed)  # noqa: S311 - a reproducible stream, not a secret
    steps: list[tuple[datetime, int, str, Step]] = []
    customers = max(1, count // 12)
    case_no = 0
    # Generate past ``count``, then cut in event-time order: the cut falls at the end of
    # the window, not inside every journey.
    while len(steps) < count * 1.15 + 50:
        case_no += 1
        customer = f"cust-{rng.randrange(customers):06d}"
        start = START + timedelta(seconds=rng.randrange(int(WINDOW.total_seconds())))
        for step in _case(rng, f"ct-{case_no:07d}", start):
            steps.append((step[0], len(steps), customer, step))
    records = []
    for n, (_, _, customer, (at, kind, channel, data, version)) in enumerate(
        heapq.nsmallest(count, steps, key=lambda s: (s[0], s[1]))
    ):
        event_id = f"ev-{seed}-{n:08d}"
        body = {
            "event_id": event_id,
            "type": kind,
            "occurred_at": at.isoformat(timespec="seconds"),
            "channel": channel,
            "customer_id": customer,
            "source": SOURCES[channel],
            "schema_version": version,
            "data": data,
        }
        records.append(SourceRecord(customer, orjson.dumps(body), event_id, kind, version))
    return records


def mix(records: list[SourceRecord]) -> Counter[str]:
    return Counter(r.type for r in records)

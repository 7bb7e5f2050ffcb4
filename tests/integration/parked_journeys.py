"""A seeded stream of journeys whose dependent events are published before what they
depend on (docs/delivery.md "Ordering"), for the parking chaos test
(tests/integration/test_crash_parking.py).

Each customer has an order (placed, shipped, delivered: the ``orders`` topic) and a
complaint case (opened by a contact, a reply, an owner, options, a resolution: the
``contacts`` topic), and, each drawn at random, what follows them: a callback after the
delivery and its completion, a survey after the resolution and its answer (``engagement``),
a return of the order, its approval and its refund (``returns``), and a second contact
joining the case. Those dependent events are **phase 1**: published first, every one of
them parked. The orders and cases are **phase 2**: published after, they let the parked
events in. Half the joining contacts are in phase 2 instead, published by the case's own
producer just ahead of the contact that opens the case, on the same partition: the batch
that parks one usually lets it in. A few customers also have a callback scheduled before
the delivery in event time (refused R-SAT-04 once let in) or one for an order that never
comes (dead-lettered by the clock timer once the event-time watermark passed its window).

Every customer's events lie within a few hours of one another and of the other customers'
(``SPAN``), far inside the 24 h window, so nothing whose prerequisite comes expires, whatever
the moment the timer looks. The facts each event must store follow from docs/events.md and
the domain rules, not from the code under test.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson

from adapters.sourcelog.base import Coordinates, OutgoingRecord
from application.service import JourneyApplication
from domain.parking import ParkingLot
from journey.bootstrap import Runtime
from tests.factories import unique

SPAN = timedelta(hours=6)
"""Customers' journeys start within this span of one another."""
ADVANCE = timedelta(days=2)
"""After the base time: the event time of the record that moves the watermark past every
window, once the rest is applied."""

EXPIRED = "not arrived within 24h"
TOO_EARLY = "R-SAT-04"


@dataclass(frozen=True)
class Planned:
    """One record: its type, bytes, and what the domain must make of it."""

    customer: str
    event_type: str
    event_id: str
    body: bytes
    phase: int
    """1: published first (it depends on what phase 2 brings); 2: its prerequisites; 3: the
    record that moves the watermark past every window."""
    waits: bool
    """Published before what it depends on, so it is parked when it comes."""
    facts: tuple[str, ...] = ()
    """Fact types it must store, each once, each carrying its ``event_id``."""
    refused: str | None = None
    """For an event dead-lettered from its lot: a fragment its reason must contain."""


@dataclass
class Placed:
    plan: Planned
    at: Coordinates


@dataclass
class ParkedStream:
    plans: list[Planned] = field(default_factory=list)
    cases: dict[str, tuple[str, int]] = field(default_factory=dict)
    """case_ref → (customer, contacts it must count)."""
    placed: list[Placed] = field(default_factory=list)

    def phase(self, number: int) -> list[Planned]:
        return [p for p in self.plans if p.phase == number]

    def waiting(self) -> list[Planned]:
        """What is published before what it depends on, so parked when it comes."""
        return [p for p in self.plans if p.waits]

    def expected_facts(self) -> list[tuple[str, str]]:
        return sorted((fact, p.event_id) for p in self.plans for fact in p.facts)

    @property
    def refused(self) -> list[Placed]:
        return [p for p in self.placed if p.plan.refused is not None]


class ParkedJourneys:
    """Journeys of many customers (see the module's docstring), seeded."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.prefix = unique("pk")
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
        self.stream = ParkedStream()

    def _plan(
        self,
        customer: str,
        event_type: str,
        at: datetime,
        data: dict[str, Any],
        phase: int,
        waits: bool = False,
        facts: tuple[str, ...] = (),
        refused: str | None = None,
    ) -> None:
        event_id = f"{self.prefix}-ev-{unique('')}"
        body = {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": at.isoformat(),
            "channel": "phone" if event_type.startswith("callback.") else "app",
            "customer_id": customer,
            "source": "parked-journeys",
            "schema_version": 2 if event_type == "contact.opened" else 1,
            "data": data,
        }
        self.stream.plans.append(
            Planned(
                customer, event_type, event_id, orjson.dumps(body), phase, waits, facts, refused
            )
        )

    def customer(self, number: int) -> None:
        rng = self.rng
        customer = f"{self.prefix}-cust-{number}"
        start = self.base + timedelta(minutes=rng.randrange(int(SPAN.total_seconds() // 60)))

        def add(
            phase: int,
            minute: int,
            event_type: str,
            facts: tuple[str, ...] | str,
            *,
            ahead: bool = False,
            **data: Any,
        ) -> None:
            """``facts``: the fact types it stores, or the reason it is dead-lettered for;
            ``ahead``: published before what it depends on (all of phase 1 is)."""
            at = start + timedelta(minutes=minute)
            waits = ahead or phase == 1
            if isinstance(facts, str):
                self._plan(customer, event_type, at, data, phase, waits, refused=facts)
            else:
                self._plan(customer, event_type, at, data, phase, waits, facts)

        order, case, callback = f"{customer}-o1", f"{customer}-k1", f"{customer}-cb1"
        survey, ret = f"{customer}-sv1", f"{customer}-r1"
        due = (start + timedelta(days=2)).isoformat()
        add(2, 0, "order.placed", ("Order.Placed",), order_id=order, amount_paid="300.00",
            currency="CNY", items=[{"sku": "KT-2209", "quantity": 1, "unit_price": "300.00"}],
            promised_delivery_at=due)  # fmt: skip
        add(2, 5, "order.shipped", ("Order.Shipped",), order_id=order, carrier="SF")
        if rng.random() < 0.15:  # scheduled before the delivery: refused once let in
            add(1, 30, "callback.scheduled", TOO_EARLY, callback_id=f"{customer}-cb0",
                reason="after_delivery", order_id=order)  # fmt: skip
        add(2, 60, "order.delivered", ("Order.Delivered",), order_id=order)
        # A second contact joins the case, sent before it opened: in phase 1 (by another
        # producer, as it were), or by the case's own, just ahead of the opening on the
        # same partition, so the batch that parks it lets it in.
        joins = rng.choice(["phase 1", "ahead"]) if rng.random() < 0.7 else "no"

        def join(phase: int) -> None:
            add(phase, 75, "contact.opened", ("Contact.Opened", "Case.ContactJoined"),
                ahead=True, contact_id=f"{case}-2", case_id=case, classification="complaint",
                topic="order")  # fmt: skip

        if joins == "ahead":
            join(2)
        add(2, 70, "contact.opened", ("Contact.Opened", "Case.Opened"), contact_id=case,
            classification="complaint", topic="order")  # fmt: skip
        add(2, 72, "contact.replied", ("Contact.Replied", "Case.Responded"), contact_id=case,
            responder="agent", agent_id=f"ag-{rng.randrange(50)}")  # fmt: skip
        if joins == "phase 1":
            join(1)
        add(2, 80, "case.owner_assigned", ("Case.OwnerAssigned",), case_id=case, owner="ag-1",
            due_at=due, acceptance_criteria="a replacement arrives")  # fmt: skip
        add(2, 85, "case.options_offered", ("Case.OptionsOffered",), case_id=case,
            options=["replace", "refund"])  # fmt: skip
        add(2, 90, "case.resolved", ("Case.Resolved",), case_id=case, option="refund")
        if rng.random() < 0.8:
            add(1, 100, "callback.scheduled", ("Callback.Scheduled",), callback_id=callback,
                reason="after_delivery", order_id=order)  # fmt: skip
            if rng.random() < 0.8:
                add(1, 110, "callback.completed", ("Callback.Completed",),
                    callback_id=callback, outcome="reached")  # fmt: skip
        if rng.random() < 0.8:
            add(1, 120, "survey.sent", ("Survey.Sent", "Case.SurveySent"), survey_id=survey,
                case_id=case)  # fmt: skip
            if rng.random() < 0.8:
                overall = rng.choice([3, 4, 5])  # R-SAT-03: the top score is thanked
                thanked = ("Survey.ThankYouTriggered",) if overall == 5 else ()
                add(1, 130, "survey.answered", ("Survey.Answered", *thanked), survey_id=survey,
                    attitude=5, efficiency=5, solution=5, overall=overall)  # fmt: skip
        if rng.random() < 0.7:
            add(1, 140, "return.requested", ("ReturnRequest.Requested",), return_id=ret,
                order_id=order, reason="quality", opened=False, where="online",
                amount_requested="100.00")  # fmt: skip
            if rng.random() < 0.8:
                add(1, 150, "return.approved", ("ReturnRequest.Approved",), return_id=ret)
                add(1, 160, "refund.refunded", ("Order.RefundRecorded", "ReturnRequest.Refunded"),
                    return_id=ret, amount="100.00")  # fmt: skip
        if rng.random() < 0.05:  # for an order that never comes: expires
            add(1, 100, "callback.scheduled", EXPIRED, callback_id=f"{customer}-cb9",
                reason="after_delivery", order_id=f"{customer}-o-never")  # fmt: skip
        self.stream.cases[case] = (customer, 1 if joins == "no" else 2)

    def build(self, records: int) -> ParkedStream:
        """Customers until the stream holds at least ``records`` records."""
        number = 0
        while len(self.stream.plans) < records:
            self.customer(number)
            number += 1
        return self.stream

    def advance(self) -> Planned:
        """A case of a customer of its own, ``ADVANCE`` after the base time: once applied,
        the event-time watermark has passed every parked event's window."""
        customer = f"{self.prefix}-late"
        case = f"{customer}-k1"
        self._plan(
            customer,
            "contact.opened",
            self.base + ADVANCE,
            {
                "contact_id": case,
                "classification": "complaint",
                "topic": "order",
            },
            3,
            facts=("Contact.Opened", "Case.Opened"),
        )
        self.stream.cases[case] = (customer, 1)
        return self.stream.plans[-1]


def publish(runtime: Runtime, stream: ParkedStream, plans: list[Planned]) -> None:
    """Publish ``plans`` each on its family's topic keyed by its customer, in order, onto
    ``stream.placed``."""
    placed = runtime.publisher.publish_many(
        [
            OutgoingRecord(runtime.topics.for_type(p.event_type), p.customer.encode(), p.body)
            for p in plans
        ]
    )
    stream.placed += [Placed(p, at) for p, at in zip(plans, placed, strict=True)]


LOT_TOPIC = f"{ParkingLot.__module__}:"
"""The stored topic prefix of the parking lots' events."""


@dataclass
class LotHistory:
    """What the parking lots' stored events say: each lot, and per source event how many
    times it was parked (again, when its reason changed), let in and expired."""

    lots: set[UUID] = field(default_factory=set)
    parked: Counter[str] = field(default_factory=Counter)
    released: Counter[str] = field(default_factory=Counter)
    expired: Counter[str] = field(default_factory=Counter)


def lot_history(app: JourneyApplication, page: int = 5000) -> LotHistory:
    history = LotHistory()
    start: int | None = None
    while True:
        notifications = app.process_recorder.select_notifications(
            start=start, limit=page, inclusive_of_start=start is None
        )
        for notification in notifications:
            if not notification.topic.startswith(LOT_TOPIC):
                continue
            event = app.mapper.to_domain_event(notification)
            history.lots.add(event.originator_id)
            if isinstance(event, ParkingLot.Parked):
                history.parked[event.event_id] += 1
            elif isinstance(event, ParkingLot.Released):
                history.released.update(event.event_ids)
            elif isinstance(event, ParkingLot.Expired):
                history.expired.update(event.event_ids)
        if len(notifications) < page:
            return history
        start = notifications[-1].id

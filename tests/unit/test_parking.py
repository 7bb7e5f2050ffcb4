"""Parking (issue 13, item 1): a source event whose prerequisite is not known yet is parked
in the same transaction as its partition's position, and applied, with its own source
coordinates, right after the event that brings the prerequisite, on whichever partition
that comes. The ``ParkingLot`` aggregate, and the batch around it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.privacy.tokens import ERASED
from adapters.sourcelog.base import TopicPartition
from application.batches import PendingBatch
from application.service import JourneyApplication
from contracts.envelope import SourceEvent
from domain.aggregate import is_fact
from domain.case import Case
from domain.contact import Contact
from domain.parking import ParkingLot, Waiting
from domain.policy import BASELINE
from domain.provenance import SourceRef
from tests.unit.feeding import source
from tests.unit.parking_checks import journey_events, waiting_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
CONTACTS = TopicPartition("journey.contacts", 2)
ENGAGEMENT = TopicPartition("journey.engagement", 1)


class Partitions:
    """Batches on several partitions, each at its own consecutive offsets."""

    def __init__(self, app: JourneyApplication) -> None:
        self.app = app
        self.offsets: dict[TopicPartition, int] = {}

    def refs(self, partition: TopicPartition, *events: SourceEvent) -> list[SourceRef]:
        first = self.offsets.get(partition, 0)
        self.offsets[partition] = first + len(events)
        return [
            SourceRef(e.event_id, partition.topic, partition.partition, first + n)
            for n, e in enumerate(events)
        ]

    def __call__(self, partition: TopicPartition, *events: SourceEvent) -> PendingBatch:
        refs = self.refs(partition, *events)
        pending = self.app.prepare_batch(
            partition, list(zip(refs, events, strict=True)), self.offsets[partition]
        )
        pending.commit()
        return pending


def opening(contact_id: str, at: datetime, event_id: str, **data: Any) -> SourceEvent:
    body = {"contact_id": contact_id, "classification": "complaint", "topic": "order", **data}
    return source("contact.opened", body, at, event_id)


def reply(contact_id: str, at: datetime, event_id: str) -> SourceEvent:
    return source("contact.replied", {"contact_id": contact_id, "responder": "agent"}, at, event_id)


def facts_of(app: JourneyApplication, aggregate_id: Any) -> list[Any]:
    return [e for e in app.events.get(aggregate_id) if is_fact(e)]


# -- the lot -------------------------------------------------------------------------------


def waiting(event_id: str, reason: str = "unknown case 'k9'") -> Waiting:
    return Waiting(
        event_id=event_id,
        event_type="contact.opened",
        customer_id="cust-1",
        sealed="pii:1:x",
        source=SourceRef(event_id, "journey.contacts", 0, 7),
        occurred_at=T0,
        expires_at=T0 + BASELINE.prerequisite_window,
        reason=reason,
    )


def test_a_lot_parks_an_event_once_and_again_only_for_another_reason() -> None:
    lot = ParkingLot.open(Case.create_id("k9"))
    lot.park(waiting("e1"))
    lot.park(waiting("e1"))
    assert [type(e).__name__ for e in lot.collect_events()] == ["Opened", "Parked"]

    lot.park(waiting("e1", reason="case 'k9' is not resolved yet"))

    assert [type(e).__name__ for e in lot.collect_events()] == ["Parked"]
    assert lot.waiting["e1"].reason == "case 'k9' is not resolved yet"


def test_a_lot_releases_and_expires_what_it_names() -> None:
    lot = ParkingLot.open(Case.create_id("k9"))
    lot.park(waiting("e1"))
    lot.park(replace_time(waiting("e2"), T0 + timedelta(hours=2)))
    lot.release(["e-unknown"])
    assert lot.waiting.keys() == {"e1", "e2"}
    assert lot.next_expiry == T0 + BASELINE.prerequisite_window

    expired = lot.expire(T0 + BASELINE.prerequisite_window)

    assert [w.event_id for w in expired] == ["e1"]
    assert lot.expire(T0 + BASELINE.prerequisite_window) == []
    lot.release(["e2"])
    assert lot.waiting == {}
    names = [type(e).__name__ for e in lot.collect_events()]
    assert names == ["Opened", "Parked", "Parked", "Expired", "Released"]


def replace_time(w: Waiting, at: datetime) -> Waiting:
    return dataclasses.replace(w, occurred_at=at, expires_at=at + BASELINE.prerequisite_window)


def test_a_lot_replays_to_the_same_waiting_events() -> None:
    lot = ParkingLot.open(Case.create_id("k9"))
    for n in range(3):
        lot.park(waiting(f"e{n}"))
    lot.release(["e1"])
    events = lot.collect_events()

    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)

    assert replayed.waiting == lot.waiting
    assert list(replayed.waiting) == ["e0", "e2"]


# -- through the batches --------------------------------------------------------------------


def test_a_parked_event_is_stored_with_the_position_and_applied_with_its_own_source(
    app: JourneyApplication,
) -> None:
    """The join arrives on one partition before its case opens on another: parked with
    the first partition's position; applied, with its own coordinates, by the batch of
    the second partition that opens the case."""
    send = Partitions(app)
    join = opening("k2", T0 + MINUTE, "e-join", case_id="k9")

    parked = send(CONTACTS, join)

    assert [ref.event_id for ref, _ in parked.parked] == ["e-join"]
    assert app.next_offset(CONTACTS) == 1
    assert journey_events(app) == 0
    assert waiting_for(app, Case.create_id("k9")) == ["e-join"]

    released = send(ENGAGEMENT, opening("k9", T0, "e-open"))

    assert app.next_offset(ENGAGEMENT) == 1
    assert [w.source for w in released.released] == [
        SourceRef("e-join", CONTACTS.topic, CONTACTS.partition, 0)
    ]
    joined = [e for e in facts_of(app, Case.create_id("k9")) if e.source.event_id == "e-join"]
    assert [e.source for e in joined] == [SourceRef("e-join", CONTACTS.topic, 2, 0)]
    assert [e.source for e in facts_of(app, Contact.create_id("k2"))][:1] == [joined[0].source]
    assert waiting_for(app, Case.create_id("k9")) == []


def test_a_parked_event_delivered_again_is_parked_once_and_applied_once(
    app: JourneyApplication,
) -> None:
    send = Partitions(app)
    join = opening("k2", T0 + MINUTE, "e-join", case_id="k9")
    send(CONTACTS, join)
    stored = app.process_recorder.max_notification_id()

    again = send(CONTACTS, join)

    assert [ref.offset for ref, _ in again.parked] == [1]
    assert app.process_recorder.max_notification_id() == stored
    assert waiting_for(app, Case.create_id("k9")) == ["e-join"]

    send(CONTACTS, opening("k9", T0, "e-open"), join)  # once released, again: no effect
    send(CONTACTS, join)

    case: Case = app.repository.get(Case.create_id("k9"))
    assert case.contact_ids == ["k9", "k2"]
    assert [e.source.event_id for e in facts_of(app, Contact.create_id("k2"))] == ["e-join"]


def test_what_a_released_event_creates_lets_in_what_waits_for_it_in_event_time_order(
    app: JourneyApplication,
) -> None:
    """A reply waits for its contact, which waits (a join) for its case; the case's own
    reply waits for the case too. The opening lets them all in by event time: the join,
    then both replies."""
    send = Partitions(app)
    late_reply = reply("k9", T0 + 3 * MINUTE, "e-case-reply")
    pending = send(
        CONTACTS,
        reply("k2", T0 + 2 * MINUTE, "e-reply"),
        late_reply,
        opening("k2", T0 + MINUTE, "e-join", case_id="k9"),
    )
    assert [ref.event_id for ref, _ in pending.parked] == ["e-reply", "e-case-reply", "e-join"]

    pending = send(ENGAGEMENT, opening("k9", T0, "e-open"))

    assert [w.event_id for w in pending.released] == ["e-join", "e-reply", "e-case-reply"]
    assert pending.released_refusals == []
    case: Case = app.repository.get(Case.create_id("k9"))
    assert case.contact_ids == ["k9", "k2"]
    assert journey_events(app) > 0
    assert waiting_for(app, Contact.create_id("k2")) == []


def test_a_released_event_a_rule_refuses_is_refused_with_what_its_lot_kept(
    app: JourneyApplication,
) -> None:
    """The join happened before the case opened (its event time): once let in, it is
    refused as it would have been in causal order, from its own coordinates and bytes."""
    send = Partitions(app)
    early = opening("k2", T0 - MINUTE, "e-join", case_id="k9")
    send(CONTACTS, early)

    pending = send(ENGAGEMENT, opening("k9", T0, "e-open"))

    (refusal,) = pending.released_refusals
    assert refusal.waiting.source == SourceRef("e-join", CONTACTS.topic, 2, 0)
    assert "out of order" in refusal.reason
    assert refusal.envelope == early.to_json()
    assert pending.released == []
    assert waiting_for(app, Case.create_id("k9")) == []
    assert Contact.create_id("k2") not in app.repository


def test_a_released_event_of_an_erased_customer_is_refused_unread(
    app: JourneyApplication,
) -> None:
    send = Partitions(app)
    send(CONTACTS, opening("k2", T0 + MINUTE, "e-join", case_id="k9"))
    app.personal.keys.erase("cust-1", T0 + 2 * MINUTE)
    assert app.personal.seal_text("cust-1", "parked", "x") == ERASED

    pending = send(ENGAGEMENT, source("contact.opened", _own("k9"), T0, "e-open", "cust-2"))

    (refusal,) = pending.released_refusals
    assert refusal.envelope == b""
    assert "erased" in refusal.reason


def _own(contact_id: str) -> dict[str, Any]:
    return {"contact_id": contact_id, "classification": "complaint", "topic": "order"}


def test_a_released_event_that_raises_the_unexpected_is_refused_and_its_batch_goes_on(
    app: JourneyApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the same batch: the join is parked, the opening lets it in, its handler raises.
    The batch is decided again: the join is parked again, and refused when let in, naming
    what it raised; the opening and the rest are applied."""
    real: Callable[..., None] = Case.join

    def join(case: Case, **kwargs: Any) -> None:
        if kwargs["contact_id"] == "k2":
            raise ZeroDivisionError("division by zero")
        real(case, **kwargs)

    monkeypatch.setattr(Case, "join", join)
    send = Partitions(app)

    pending = send(
        CONTACTS,
        opening("k2", T0 + MINUTE, "e-join", case_id="k9"),
        opening("k9", T0, "e-open"),
        opening("k3", T0 + 2 * MINUTE, "e-other", case_id="k9"),
    )

    assert pending.refused() == []
    (refusal,) = pending.released_refusals
    assert refusal.waiting.event_id == "e-join"
    assert "unexpected ZeroDivisionError" in refusal.reason
    case: Case = app.repository.get(Case.create_id("k9"))
    assert case.contact_ids == ["k9", "k3"]
    assert waiting_for(app, Case.create_id("k9")) == []

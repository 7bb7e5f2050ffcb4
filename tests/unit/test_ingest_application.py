"""JourneyApplication: a partition's batch of source events is stored together with the
partition's next offset in one transaction, so a record is applied once in effect."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.case import Case, CaseMismatch
from domain.provenance import SourceRef
from journey.application import JourneyApplication
from journey.envelope import SourceEvent, validate
from journey.log.base import TopicPartition

PARTITION = TopicPartition("journey.contacts", 3)
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

Batch = list[tuple[SourceRef, SourceEvent]]


@dataclass(frozen=True)
class Contact:
    event_id: str
    customer_id: str
    contact_id: str
    case_id: str | None = None
    channel: str = "app"
    classification: str = "complaint"


def source_event(contact: Contact, minute: int = 0) -> SourceEvent:
    data: dict[str, Any] = {
        "contact_id": contact.contact_id,
        "classification": contact.classification,
        "topic": "order",
    }
    if contact.case_id is not None:
        data["case_id"] = contact.case_id
    body = {
        "event_id": contact.event_id,
        "type": "contact.opened",
        "occurred_at": (NOW - timedelta(hours=1) + timedelta(minutes=minute)).isoformat(),
        "channel": contact.channel,
        "customer_id": contact.customer_id,
        "source": "test",
        "schema_version": 1,
        "data": data,
    }
    return validate(body, now=NOW, max_future=timedelta(minutes=5))


def batch(contacts: Sequence[Contact], first_offset: int = 0) -> Batch:
    """Source events at consecutive offsets of ``PARTITION`` from ``first_offset``."""
    return [
        (
            SourceRef(contact.event_id, PARTITION.topic, PARTITION.partition, offset),
            source_event(contact, minute=offset),
        )
        for offset, contact in enumerate(contacts, start=first_offset)
    ]


def make_app(folder: Path) -> JourneyApplication:
    return JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(folder / "events.sqlite"),
        }
    )


@pytest.fixture
def app(tmp_path: Path) -> Iterator[JourneyApplication]:
    application = make_app(tmp_path)
    yield application
    application.close()


def load(app: JourneyApplication, case_ref: str) -> Case:
    case: object = app.repository.get(Case.create_id(case_ref))
    assert isinstance(case, Case)
    return case


def exists(app: JourneyApplication, case_ref: str) -> bool:
    return Case.create_id(case_ref) in app.repository


def notification_count(app: JourneyApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


def test_new_store_starts_every_partition_at_offset_zero(app: JourneyApplication) -> None:
    assert app.next_offset(PARTITION) == 0
    assert app.next_offset(TopicPartition("other", 0)) == 0


def test_commit_stores_the_case_and_moves_the_position(app: JourneyApplication) -> None:
    events = batch(
        [
            Contact("e1", "cust-1", "k1", channel="app"),
            Contact("e2", "cust-1", "k2", case_id="k1", channel="phone"),
            Contact("e3", "cust-2", "k3", channel="web"),
        ],
        first_offset=10,
    )

    pending = app.prepare_batch(PARTITION, events, next_offset=13)
    assert app.next_offset(PARTITION) == 0
    assert not exists(app, "k1")
    pending.commit()

    assert pending.refusals == []
    assert app.next_offset(PARTITION) == 13
    assert app.next_offset(TopicPartition(PARTITION.topic, 0)) == 0
    case = load(app, "k1")
    assert case.version == 2
    assert case.customer_id == "cust-1"
    assert case.channels == ["app", "phone"]
    assert case.contact_ids == ["k1", "k2"]
    assert load(app, "k3").customer_id == "cust-2"
    assert not exists(app, "k2")
    history = list(app.events.get(Case.create_id("k1")))
    assert [event.source for event in history] == [  # type: ignore[attr-defined]
        SourceRef("e1", PARTITION.topic, PARTITION.partition, 10),
        SourceRef("e2", PARTITION.topic, PARTITION.partition, 11),
    ]
    assert notification_count(app) == 3


def test_positions_are_kept_per_partition(app: JourneyApplication) -> None:
    other = TopicPartition(PARTITION.topic, PARTITION.partition + 1)
    app.prepare_batch(PARTITION, batch([Contact("e1", "c", "k1")]), next_offset=1).commit()
    app.prepare_batch(other, batch([Contact("e2", "c", "k2")]), next_offset=7).commit()

    assert app.next_offset(PARTITION) == 1
    assert app.next_offset(other) == 7


def test_same_batch_again_after_the_position_moved_is_refused(app: JourneyApplication) -> None:
    events = batch([Contact("e1", "cust-1", "k1"), Contact("e2", "cust-1", "k2", case_id="k1")])
    app.prepare_batch(PARTITION, events, next_offset=2).commit()
    state = load(app, "k1").state()
    stored = notification_count(app)

    again = app.prepare_batch(PARTITION, events, next_offset=2)
    with pytest.raises(IntegrityError):
        again.commit()

    assert app.next_offset(PARTITION) == 2
    assert load(app, "k1").state() == state
    assert notification_count(app) == stored


def test_two_preparations_of_one_batch_store_it_once(app: JourneyApplication) -> None:
    """A member that lost the partition in a rebalance prepared the same batch: the
    second commit fails and stores nothing."""
    events = batch([Contact("e1", "cust-1", "k1"), Contact("e2", "cust-1", "k2", case_id="k1")])
    first = app.prepare_batch(PARTITION, events, next_offset=2)
    second = app.prepare_batch(PARTITION, events, next_offset=2)

    first.commit()
    with pytest.raises(IntegrityError):
        second.commit()

    assert app.next_offset(PARTITION) == 2
    assert load(app, "k1").version == 2
    assert notification_count(app) == 2


def test_tracking_only_moves_forward_and_fails_with_its_events(app: JourneyApplication) -> None:
    app.prepare_batch(PARTITION, batch([Contact("e1", "cust-1", "k1")]), next_offset=5).commit()

    stale = app.prepare_batch(
        PARTITION, batch([Contact("e9", "cust-9", "k9")], first_offset=3), next_offset=4
    )
    with pytest.raises(IntegrityError):
        stale.commit()

    assert app.next_offset(PARTITION) == 5
    assert not exists(app, "k9")
    assert notification_count(app) == 1


def test_same_source_event_in_a_later_batch_has_no_effect(app: JourneyApplication) -> None:
    first = [Contact("e1", "cust-1", "k1"), Contact("e2", "cust-1", "k2", case_id="k1")]
    app.prepare_batch(PARTITION, batch(first), next_offset=2).commit()
    state = load(app, "k1").state()
    stored = notification_count(app)

    # The producer retried: the same records arrive again at later offsets.
    pending = app.prepare_batch(PARTITION, batch(first, first_offset=2), next_offset=4)
    pending.commit()

    assert pending.refusals == []
    assert app.next_offset(PARTITION) == 4
    assert load(app, "k1").state() == state
    assert notification_count(app) == stored


def test_repeated_event_within_one_batch_is_applied_once(app: JourneyApplication) -> None:
    join = Contact("e2", "cust-1", "k2", case_id="k1", channel="phone")
    events = batch([Contact("e1", "cust-1", "k1"), join, join, Contact("e1", "cust-1", "k1")])

    app.prepare_batch(PARTITION, events, next_offset=4).commit()

    case = load(app, "k1")
    assert case.version == 2
    assert case.contact_ids == ["k1", "k2"]
    assert notification_count(app) == 2


def test_r_ch_01_contact_of_another_customer_is_refused_and_the_rest_stored(
    app: JourneyApplication,
) -> None:
    """R-CH-01: a refusal names the record; the batch's other events and position are kept."""
    events = batch(
        [
            Contact("e1", "cust-1", "k1"),
            Contact("e2", "cust-2", "k2", case_id="k1"),
            Contact("e3", "cust-1", "k3", case_id="k1", channel="email"),
        ]
    )

    pending = app.prepare_batch(PARTITION, events, next_offset=3)
    pending.commit()

    ((refused_ref, error),) = pending.refusals
    assert refused_ref == events[1][0]
    assert isinstance(error, CaseMismatch)
    assert error.rule == "R-CH-01"
    assert app.next_offset(PARTITION) == 3
    case = load(app, "k1")
    assert case.customer_id == "cust-1"
    assert case.contact_ids == ["k1", "k3"]
    assert case.channels == ["app", "email"]


def test_state_survives_reopening_the_store(tmp_path: Path) -> None:
    first = make_app(tmp_path)
    first.prepare_batch(
        PARTITION,
        batch([Contact("e1", "cust-1", "k1"), Contact("e2", "cust-1", "k2", case_id="k1")]),
        next_offset=2,
    ).commit()
    state = load(first, "k1").state()
    first.close()

    second = make_app(tmp_path)
    try:
        assert second.next_offset(PARTITION) == 2
        assert load(second, "k1").state() == state
    finally:
        second.close()


# -- batch boundaries do not matter -------------------------------------------------------

CUSTOMERS = ("c1", "c2")
CONTACT_IDS = ("k1", "k2", "k3")
CASE_IDS = (None, "k1", "k2", "shared")


@st.composite
def contact_streams(draw: st.DrawFn) -> list[Contact]:
    """Contacts with ids from a small alphabet; some records are re-deliveries of an
    earlier one (same event_id, same content)."""
    contacts: list[Contact] = []
    for number in range(draw(st.integers(min_value=1, max_value=14))):
        if contacts and draw(st.integers(min_value=0, max_value=2)) == 0:
            contacts.append(draw(st.sampled_from(contacts)))
            continue
        contacts.append(
            Contact(
                event_id=f"e{number}",
                customer_id=draw(st.sampled_from(CUSTOMERS)),
                contact_id=draw(st.sampled_from(CONTACT_IDS)),
                case_id=draw(st.sampled_from(CASE_IDS)),
                channel=draw(st.sampled_from(["app", "phone", "web", "store"])),
                classification=draw(st.sampled_from(["inquiry", "complaint", "urgent"])),
            )
        )
    return contacts


def case_refs(contacts: Sequence[Contact]) -> list[str]:
    """Every case a contact can open or join."""
    return sorted({contact.case_id or contact.contact_id for contact in contacts})


def expected_cases(contacts: Sequence[Contact]) -> dict[str, dict[str, Any]]:
    """A plain model of the rules: open, join (R-CH-01: same customer only), and ignore a
    source event already applied to the case."""
    cases: dict[str, dict[str, Any]] = {}
    applied: dict[str, set[str]] = {}
    for contact in contacts:
        ref = contact.case_id or contact.contact_id
        case = cases.get(ref)
        if case is None:
            cases[ref] = {
                "customer_id": contact.customer_id,
                "channels": [contact.channel],
                "contact_ids": [contact.contact_id],
                "version": 1,
            }
            applied[ref] = {contact.event_id}
        elif contact.event_id in applied[ref] or contact.customer_id != case["customer_id"]:
            continue
        else:
            if contact.channel not in case["channels"]:
                case["channels"].append(contact.channel)
            case["contact_ids"].append(contact.contact_id)
            case["version"] += 1
            applied[ref].add(contact.event_id)
    return cases


Outcome = tuple[dict[str, dict[str, Any] | None], int, int, int]


def apply_in_batches(folder: Path, events: Batch, cuts: Sequence[int], refs: list[str]) -> Outcome:
    """Apply ``events`` split at ``cuts``; return each case's stored state (``None`` when
    absent), the partition's position, the number of stored events and of refusals."""
    app = make_app(folder)
    try:
        refusals = 0
        bounds = [0, *sorted(set(cuts)), len(events)]
        for start, end in pairwise(bounds):
            if start == end:
                continue
            pending = app.prepare_batch(PARTITION, events[start:end], next_offset=end)
            pending.commit()
            refusals += len(pending.refusals)
        states = {ref: load(app, ref).state() if exists(app, ref) else None for ref in refs}
        return states, app.next_offset(PARTITION), notification_count(app), refusals
    finally:
        app.close()


@settings(max_examples=30, deadline=None)
@given(contacts=contact_streams(), data=st.data())
def test_batch_boundaries_do_not_change_the_outcome(
    contacts: list[Contact], data: st.DataObject
) -> None:
    """Split anywhere, the stored cases are those of one batch (and of the plain model)."""
    events = batch(contacts)
    cuts = data.draw(st.lists(st.integers(min_value=1, max_value=len(events)), max_size=6))
    refs = case_refs(contacts)

    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as split:
        expected = apply_in_batches(Path(one), events, [], refs)
        actual = apply_in_batches(Path(split), events, cuts, refs)

    assert actual == expected
    states, position, stored, _ = expected
    assert position == len(events)
    model = expected_cases(contacts)
    assert {ref: state for ref, state in states.items() if state is not None}.keys() == model.keys()
    for ref, case in model.items():
        state = states[ref]
        assert state is not None
        assert {key: state[key] for key in case} == case
    assert stored == sum(case["version"] for case in model.values())

"""JourneyApplication: a partition's batch of source events is stored together with the
partition's next offset in one transaction, so a record is applied once in effect."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sourcelog.base import TopicPartition
from application.service import JourneyApplication
from domain.aggregate import is_fact
from domain.case import Case, CaseMismatch
from domain.contact import Contact as ContactAggregate
from domain.policy import BASELINE
from domain.provenance import SourceRef
from tests.builders.apps import make_app
from tests.builders.ingest import PARTITION, Batch, Contact, batch, load
from tests.unit.parking_checks import journey_events, waiting_for


def exists(app: JourneyApplication, case_ref: str) -> bool:
    return Case.create_id(case_ref) in app.repository


def contact_exists(app: JourneyApplication, contact_id: str) -> bool:
    return ContactAggregate.create_id(contact_id) in app.repository


def history(app: JourneyApplication, aggregate_id: Any) -> list[Any]:
    return list(app.events.get(aggregate_id))


def facts(app: JourneyApplication, case_ref: str) -> list[Any]:
    """The case's facts (its clock decisions left out), in order."""
    return [event for event in history(app, Case.create_id(case_ref)) if is_fact(event)]


def stored_for(app: JourneyApplication, cases: Sequence[str], contacts: Sequence[str]) -> int:
    """How many events these cases and contacts have in the store."""
    ids = [Case.create_id(ref) for ref in cases]
    ids += [ContactAggregate.create_id(ref) for ref in contacts]
    return sum(len(history(app, aggregate_id)) for aggregate_id in ids)


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
    case_events = history(app, Case.create_id("k1"))
    assert case.version == len(case_events)
    assert [type(event) for event in facts(app, "k1")] == [Case.Opened, Case.ContactJoined]
    # Nothing stopped the clocks the opening started: the rest are deadlines started.
    assert {type(event) for event in case_events if not is_fact(event)} == {Case.DeadlineStarted}
    assert case.customer_id == "cust-1"
    assert case.channels == ["app", "phone"]
    assert case.contact_ids == ["k1", "k2"]
    assert load(app, "k3").customer_id == "cust-2"
    assert not exists(app, "k2")
    assert [event.source for event in facts(app, "k1")] == [
        SourceRef("e1", PARTITION.topic, PARTITION.partition, 10),
        SourceRef("e2", PARTITION.topic, PARTITION.partition, 11),
    ]
    assert all(contact_exists(app, ref) for ref in ("k1", "k2", "k3"))
    assert notification_count(app) == stored_for(app, ["k1", "k3"], ["k1", "k2", "k3"])


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
    stored = notification_count(app)
    with pytest.raises(IntegrityError):
        second.commit()

    assert app.next_offset(PARTITION) == 2
    assert [type(event) for event in facts(app, "k1")] == [Case.Opened, Case.ContactJoined]
    assert load(app, "k1").version == len(history(app, Case.create_id("k1")))
    assert notification_count(app) == stored == stored_for(app, ["k1"], ["k1", "k2"])


def test_tracking_only_moves_forward_and_fails_with_its_events(app: JourneyApplication) -> None:
    app.prepare_batch(PARTITION, batch([Contact("e1", "cust-1", "k1")]), next_offset=5).commit()
    stored = notification_count(app)
    assert stored == stored_for(app, ["k1"], ["k1"])

    stale = app.prepare_batch(
        PARTITION, batch([Contact("e9", "cust-9", "k9")], first_offset=3), next_offset=4
    )
    with pytest.raises(IntegrityError):
        stale.commit()

    assert app.next_offset(PARTITION) == 5
    assert not exists(app, "k9")
    assert not contact_exists(app, "k9")
    assert notification_count(app) == stored


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


def test_repeated_event_within_one_batch_is_applied_once(
    app: JourneyApplication, tmp_path: Path
) -> None:
    join = Contact("e2", "cust-1", "k2", case_id="k1", channel="phone")
    events = batch([Contact("e1", "cust-1", "k1"), join, join, Contact("e1", "cust-1", "k1")])

    app.prepare_batch(PARTITION, events, next_offset=4).commit()

    case = load(app, "k1")
    assert [type(event) for event in facts(app, "k1")] == [Case.Opened, Case.ContactJoined]
    assert case.contact_ids == ["k1", "k2"]
    (tmp_path / "once").mkdir()
    once = make_app(tmp_path / "once")
    try:
        once.prepare_batch(PARTITION, events[:2], next_offset=2).commit()
        assert load(once, "k1").state() == case.state()
        assert load(once, "k1").version == case.version
        assert notification_count(app) == notification_count(once)
    finally:
        once.close()


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


def case_clocks(contact: Contact) -> int:
    """Deadlines a case opening starts: R-PRI-02 always, R-CMP-03 for complaints and
    urgent cases (topic ``order``: no R-PRI-03)."""
    return 1 + (contact.classification in ("complaint", "urgent"))


def contact_clocks(contact: Contact) -> int:
    """Deadlines a contact opening starts: R-RESP-04 (store) and R-RESP-03 (phone, all
    these events being inside working hours); a chat (app, web) opened without the
    customer's message waits for it (R-RESP-01)."""
    return 1 if contact.channel in ("store", "phone") else 0


def expected_cases(
    contacts: Sequence[Contact],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, list[str]]]:
    """A plain model of the rules, giving cases and contacts: a contact opens its own case
    or joins the case it names (R-CH-01: same customer only); a contact opens once, so a
    re-delivered source event has no effect. A join naming a case not opened yet waits for
    it (parked) and, here where event time follows arrival, is refused as late when the
    case opens: it changes no case."""
    cases: dict[str, dict[str, Any]] = {}
    opened: dict[str, dict[str, Any]] = {}
    waiting: dict[str, list[str]] = {}
    for contact in contacts:
        if contact.contact_id in opened:
            continue
        ref = contact.case_id or contact.contact_id
        case = cases.get(ref)
        if case is None:
            if ref != contact.contact_id:
                parked = waiting.setdefault(ref, [])
                if contact.event_id not in parked:
                    parked.append(contact.event_id)
                continue
            waiting.pop(ref, None)  # released, and refused as late
            cases[ref] = {
                "customer_id": contact.customer_id,
                "channels": [contact.channel],
                "contact_ids": [contact.contact_id],
                "version": 1 + case_clocks(contact),
            }
        elif contact.customer_id != case["customer_id"]:
            continue
        else:
            if contact.channel not in case["channels"]:
                case["channels"].append(contact.channel)
            case["contact_ids"].append(contact.contact_id)
            case["version"] += 1
        opened[contact.contact_id] = {
            "customer_id": contact.customer_id,
            "case_ref": ref,
            "channel": contact.channel,
            "version": 1 + contact_clocks(contact),
        }
    return cases, opened, waiting


States = dict[str, dict[str, Any] | None]
Outcome = tuple[States, States, int, int, int, dict[str, list[str]]]


def stored_state(aggregate: Any) -> dict[str, Any]:
    return {**aggregate.state(), "version": aggregate.version}


def apply_in_batches(folder: Path, events: Batch, cuts: Sequence[int], refs: list[str]) -> Outcome:
    """Apply ``events`` split at ``cuts``; return each case's and each contact's stored
    state (``None`` when absent), the partition's position, the number of stored events
    (of the cases and contacts) and of refusals (once parked or not), and the events still
    waiting for each case."""
    app = make_app(folder)
    try:
        refusals = 0
        bounds = [0, *sorted(set(cuts)), len(events)]
        for start, end in pairwise(bounds):
            if start == end:
                continue
            pending = app.prepare_batch(PARTITION, events[start:end], next_offset=end)
            pending.commit()
            refusals += len(pending.refusals) + len(pending.released_refusals)
        states = {ref: stored_state(load(app, ref)) if exists(app, ref) else None for ref in refs}
        contacts: States = {}
        for contact_id in CONTACT_IDS:
            found: object = (
                app.repository.get(ContactAggregate.create_id(contact_id))
                if contact_exists(app, contact_id)
                else None
            )
            contacts[contact_id] = None if found is None else stored_state(found)
        waiting = {ref: waiting_for(app, Case.create_id(ref)) for ref in refs}
        position = app.next_offset(PARTITION)
        return states, contacts, position, journey_events(app), refusals, waiting
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
    # The model's contact_clocks counts on this (R-RESP-03).
    assert all(BASELINE.phone_hours.contains(event.occurred_at) for _, event in events)

    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as split:
        expected = apply_in_batches(Path(one), events, [], refs)
        actual = apply_in_batches(Path(split), events, cuts, refs)

    assert actual == expected
    states, contact_states, position, stored, _, waiting = expected
    assert position == len(events)
    model, opened, parked = expected_cases(contacts)
    assert {ref: ids for ref, ids in waiting.items() if ids} == parked
    assert {ref: state for ref, state in states.items() if state is not None}.keys() == model.keys()
    for ref, case in model.items():
        state = states[ref]
        assert state is not None
        assert {key: state[key] for key in case} == case
    assert {k for k, state in contact_states.items() if state is not None} == opened.keys()
    for contact_id, contact in opened.items():
        state = contact_states[contact_id]
        assert state is not None
        assert {key: state[key] for key in contact} == contact
    assert stored == sum(case["version"] for case in model.values()) + sum(
        contact["version"] for contact in opened.values()
    )

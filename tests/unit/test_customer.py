"""The Customer aggregate: consent for personal data (R-CUS-02), factual notes (R-CUS-03),
the erasure request, and the ``customer.*`` handlers and schemas."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import reduce
from pathlib import Path
from typing import Any

import pytest

import domain.policy
from adapters.sourcelog.base import TopicPartition
from application.batches import PendingBatch
from application.service import JourneyApplication
from contracts.envelope import InvalidEvent, SourceEvent, validate
from contracts.schemas import EVENT_TYPES
from domain.aggregate import LateFact
from domain.customer import (
    AlreadyRegistered,
    ConsentRequired,
    Customer,
    InvalidCustomerData,
    SubjectiveNote,
)
from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.note_vocabulary import CHINESE, ENGLISH, Label
from domain.notes import labels_in
from domain.policy import BASELINE, policy_in_force
from domain.provenance import SourceRef
from tests.factories import unique
from tests.unit.parking_checks import parked_naming, waiting_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
SECOND = timedelta(seconds=1)
TOPIC = "journey.customers"
LABELS = sorted(x.words for x in ENGLISH.labels if " " not in x.words and not x.needs_aspect)
"""English one-word labels: refused when said bare of the customer, in every NOTE_FORMS."""
SCHEMAS = {t.name: t.versions for t in EVENT_TYPES.of_family("customers")}


def ref(event_id: str | None = None, offset: int = 0) -> SourceRef:
    return SourceRef(event_id or unique("ev-"), TOPIC, 0, offset)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def register(
    *,
    personal: dict[str, str] | None = None,
    consents: Sequence[str] = ("service",),
    customer_id: str = "cust-1",
    **changes: Any,
) -> Customer:
    return Customer.register(
        customer_id=customer_id,
        personal=personal,
        consents=consents,
        channel=changes.pop("channel", "app"),
        occurred_at=changes.pop("occurred_at", T0),
        source=changes.pop("source", ref("evt-reg")),
        **changes,
    )


def update(customer: Customer, at: datetime, event_id: str | None = None, **fields: Any) -> None:
    customer.update_profile(occurred_at=at, source=ref(event_id), **fields)


def grant(customer: Customer, purpose: str, at: datetime, event_id: str | None = None) -> None:
    customer.grant_consent(purpose=purpose, occurred_at=at, source=ref(event_id))


def withdraw(customer: Customer, purpose: str, at: datetime, event_id: str | None = None) -> None:
    customer.withdraw_consent(purpose=purpose, occurred_at=at, source=ref(event_id))


def note(customer: Customer, text: str, at: datetime, event_id: str | None = None) -> None:
    customer.add_note(note=text, author="ag-17", occurred_at=at, source=ref(event_id))


def refused(kind: type[DomainError], action: Callable[[], object]) -> DomainError:
    with pytest.raises(kind) as caught:
        action()
    return caught.value


def replay(events: Sequence[Any]) -> Customer:
    customer = reduce(lambda aggregate, event: event.mutate(aggregate), events, None)
    assert isinstance(customer, Customer)
    return customer


# -- registration -----------------------------------------------------------------------------


def test_registration_records_the_customer_with_its_policy_version() -> None:
    personal = {"name": "Li Wei", "phone": "+86 138 0000 0000"}
    customer = register(
        personal=personal,
        consents=["service", "marketing"],
        member_id="m-1",
        birthday="03-14",
        preferences=["kitchen", "outdoor", "kitchen"],
        channel="mini_program",
    )

    assert customer.id == aggregate_id("customer", "cust-1") == Customer.create_id("cust-1")
    assert customer.id != aggregate_id("contact", "cust-1")
    (registered,) = customer.collect_events()  # no clock decisions
    assert isinstance(registered, Customer.Registered)
    assert registered.personal == personal
    assert registered.consents == ["service", "marketing"]
    assert registered.source == ref("evt-reg")
    assert registered.policy_version == policy_in_force(T0).version
    assert customer.state() == {
        "id": str(Customer.create_id("cust-1")),
        "customer_id": "cust-1",
        "member_id": "m-1",
        "channel": "mini_program",
        "registered_at": T0.isoformat(),
        "personal": personal,
        "consents": ["marketing", "service"],
        "birthday": "03-14",
        "preferences": ["kitchen", "outdoor"],
        "notes": [],
        "erasure_requested_at": None,
        "policy_version": policy_in_force(T0).version,
    }
    assert customer.has_applied("evt-reg")


@pytest.mark.parametrize("consents", [[], ["marketing"], ["marketing", "research"]])
def test_r_cus_02_personal_data_at_registration_needs_service_consent(
    consents: list[str],
) -> None:
    """R-CUS-02: personal fields without recorded ``service`` consent are refused, and the
    refusal names the fields."""
    error = refused(
        ConsentRequired,
        lambda: register(personal={"phone": "138", "name": "Li"}, consents=consents),
    )

    assert error.rule == "R-CUS-02"
    assert "R-CUS-02" in str(error)
    assert "phone" in str(error)
    assert "name" in str(error)
    assert "email" not in str(error)
    assert "service" in str(error)


def test_r_cus_02_registration_without_personal_data_needs_no_consent() -> None:
    customer = register(consents=[], preferences=["kitchen"], birthday="02-29")

    assert customer.personal == {}
    assert customer.consents == []
    assert customer.preferences == ["kitchen"]


def test_r_cus_02_registration_refuses_unknown_purpose_and_field() -> None:
    bad_purpose = refused(InvalidCustomerData, lambda: register(consents=["service", "resale"]))
    bad_field = refused(InvalidCustomerData, lambda: register(personal={"ssn": "1"}))
    bad_day = refused(InvalidCustomerData, lambda: register(birthday="02-30"))

    assert "resale" in str(bad_purpose)
    assert "ssn" in str(bad_field)
    assert "02-30" in str(bad_day)


# -- consent (R-CUS-02) -----------------------------------------------------------------------


def test_r_cus_02_personal_data_follows_service_consent() -> None:
    """R-CUS-02: accepted with service consent, refused after its withdrawal (fields
    named), accepted again after a new grant; data already held stays."""
    customer = register(personal={"name": "Li Wei"})
    update(customer, minutes(10), personal={"phone": "138"})
    assert customer.personal == {"name": "Li Wei", "phone": "138"}

    withdraw(customer, "service", minutes(20))
    assert "service" not in customer.consents
    customer.collect_events()
    before = customer.state()

    error = refused(
        ConsentRequired,
        lambda: update(customer, minutes(30), personal={"email": "a@b.c", "address": "1 Rd"}),
    )
    assert error.rule == "R-CUS-02"
    assert "email" in str(error)
    assert "address" in str(error)
    assert "phone" not in str(error)
    assert customer.pending_events == []
    assert customer.state() == before
    assert customer.personal == {"name": "Li Wei", "phone": "138"}  # stays until erasure

    grant(customer, "service", minutes(40))
    update(customer, minutes(50), personal={"email": "a@b.c"})
    assert customer.personal["email"] == "a@b.c"
    assert [type(e) for e in customer.collect_events()] == [
        Customer.ConsentGranted,
        Customer.ProfileUpdated,
    ]


def test_r_cus_02_customer_without_consent_can_consent_later() -> None:
    customer = register(consents=["marketing"])

    error = refused(ConsentRequired, lambda: update(customer, minutes(5), personal={"name": "L"}))
    assert "name" in str(error)

    grant(customer, "service", minutes(10))
    update(customer, minutes(15), personal={"name": "L"})
    assert customer.personal == {"name": "L"}
    assert customer.consents == ["marketing", "service"]


def test_r_cus_02_withdrawing_another_purpose_keeps_service_consent() -> None:
    customer = register(consents=["service", "marketing"])
    withdraw(customer, "marketing", minutes(5))

    update(customer, minutes(10), personal={"phone": "138"})

    assert customer.consents == ["service"]
    assert customer.personal == {"phone": "138"}


def test_r_cus_02_consent_is_judged_at_the_data_event_time() -> None:
    """R-CUS-02 on event time: data dated before a withdrawal was collected with consent
    (even if it arrives later); data dated at or after it was not. Same at a new grant."""
    withdrawn_at, granted_at = minutes(60), minutes(120)
    customer = register()
    withdraw(customer, "service", withdrawn_at)
    grant(customer, "service", granted_at)

    update(customer, withdrawn_at - SECOND, personal={"name": "before withdrawal"})
    refused(ConsentRequired, lambda: update(customer, withdrawn_at, personal={"phone": "1"}))
    refused(ConsentRequired, lambda: update(customer, granted_at - SECOND, personal={"phone": "2"}))
    update(customer, granted_at, personal={"email": "at grant"})

    assert customer.personal == {"name": "before withdrawal", "email": "at grant"}
    assert customer.consents_at(withdrawn_at - SECOND) == ["service"]
    assert customer.consents_at(withdrawn_at) == []
    assert customer.consents_at(granted_at) == ["service"]


def test_r_cus_02_refused_update_records_none_of_its_fields() -> None:
    customer = register(consents=[])
    customer.collect_events()

    refused(
        ConsentRequired,
        lambda: update(customer, minutes(5), personal={"name": "L"}, preferences=["toys"]),
    )

    assert customer.preferences == []
    assert customer.pending_events == []


def test_r_cus_02_preferences_and_birthday_need_no_consent() -> None:
    """Preferences and birthday feed callbacks (R-SAT-04); they are not personal fields."""
    customer = register(consents=[])

    update(customer, minutes(5), preferences=["kitchen", "toys"], birthday="12-31")

    assert customer.preferences == ["kitchen", "toys"]
    assert customer.birthday == "12-31"


def test_r_cus_02_unknown_purpose_field_or_empty_update_is_refused() -> None:
    customer = register()
    customer.collect_events()

    assert "resale" in str(refused(InvalidCustomerData, lambda: grant(customer, "resale", T0)))
    assert "ssn" in str(
        refused(InvalidCustomerData, lambda: update(customer, T0, personal={"ssn": "1"}))
    )
    assert "phone" in str(
        refused(InvalidCustomerData, lambda: update(customer, T0, personal={"phone": " "}))
    )
    refused(InvalidCustomerData, lambda: update(customer, T0, birthday="13-01"))
    refused(InvalidCustomerData, lambda: update(customer, T0))
    assert customer.pending_events == []


def test_every_consent_statement_is_recorded_with_its_time() -> None:
    """R-CUS-02: the record shows when the customer said what, repeats included."""
    customer = register(consents=["service"])
    grant(customer, "service", minutes(1))
    withdraw(customer, "research", minutes(2))

    facts = customer.collect_events()[1:]

    assert [(type(f).__name__, f.purpose, f.occurred_at) for f in facts] == [  # type: ignore[attr-defined]
        ("ConsentGranted", "service", minutes(1)),
        ("ConsentWithdrawn", "research", minutes(2)),
    ]
    assert customer.consents == ["service"]


def test_profile_fields_keep_their_newest_value_by_event_time() -> None:
    """A late update (earlier event time, later arrival) is recorded but does not
    overwrite a newer value."""
    customer = register()
    update(customer, minutes(60), personal={"phone": "new"}, preferences=["new"])
    update(customer, minutes(30), personal={"phone": "old", "name": "Li"}, preferences=["old"])

    assert customer.personal == {"phone": "new", "name": "Li"}
    assert customer.preferences == ["new"]
    assert customer.version == 3
    assert replay(customer.collect_events()).state() == customer.state()


# -- notes (R-CUS-03) -------------------------------------------------------------------------
# How a note is read is specified by tests/unit/test_note_labels.py; here: each English label
# said bare of the customer, in any case and punctuation, and the aggregate's side.

NOTE_FORMS: list[Callable[[str], str]] = [
    lambda w: w,
    lambda w: f"Customer was {w.capitalize()}.",
    lambda w: f"called twice, {w.upper()}, about the courier",
    lambda w: f"Very {w}, asked for the manager",
    lambda w: f"super-{w} on the phone",
    lambda w: f'Agent noted "{w.title()}!" (2nd call)',
]


@pytest.mark.parametrize("form", range(len(NOTE_FORMS)))
@pytest.mark.parametrize("label", LABELS)
def test_r_cus_03_each_subjective_label_is_refused(label: str, form: int) -> None:
    """R-CUS-03: whole words, any case, any punctuation around them; the refusal names
    the label as written."""
    customer = register()
    customer.collect_events()
    text = NOTE_FORMS[form](label)

    error = refused(SubjectiveNote, lambda: note(customer, text, minutes(5)))

    assert isinstance(error, SubjectiveNote)
    assert error.rule == "R-CUS-03"
    assert "R-CUS-03" in str(error)
    assert any(found.casefold().endswith(label) for found in error.labels), error.labels
    assert all(f'"{found}"' in str(error) for found in error.labels)
    assert customer.pending_events == []
    assert customer.notes == []


def test_r_cus_03_labels_are_listed_by_the_policy() -> None:
    assert len(LABELS) >= 2
    assert {"difficult", "picky"} <= set(LABELS)


@pytest.mark.parametrize(
    ("text", "named"),
    [("Called them liars.", "them liars"), ("Troublemakers, both of them", "Troublemakers")],
)
def test_r_cus_03_plural_of_a_label_is_refused(text: str, named: str) -> None:
    customer = register()
    error = refused(SubjectiveNote, lambda: note(customer, text, minutes(5)))
    assert isinstance(error, SubjectiveNote)
    assert error.labels == (named,)


def test_r_cus_03_every_label_found_is_named() -> None:
    customer = register()
    error = refused(
        SubjectiveNote, lambda: note(customer, "Difficult and picky; DIFFICULT again", minutes(5))
    )
    assert isinstance(error, SubjectiveNote)
    assert error.labels == ("Difficult", "picky", "DIFFICULT")
    assert '"Difficult", "picky", "DIFFICULT" label the customer' in str(error)
    assert labels_in("Difficult and picky", BASELINE.note_vocabularies) == ["Difficult", "picky"]


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        ("Reported difficulty pairing the kettle app", "difficult"),
        ("Two difficulties with the courier: late, wrong floor", "difficult"),
        ("Chose the prudent option: store credit", "rude"),
        ("Is familiar with the returns page", "liar"),
        ("Gift order for Nastya, wrapped", "nasty"),
        ("Asked when PickyPaws cat food is back in stock", "picky"),
        ("Returned a Crazyflie drone kit, unopened", "crazy"),
    ],
)
def test_r_cus_03_factual_note_with_a_label_inside_a_word_is_accepted(
    text: str, inside: str
) -> None:
    """R-CUS-03 matches English whole words: a label inside a longer word is not a label."""
    assert inside in LABELS
    assert inside in text.lower()
    customer = register()

    note(customer, text, minutes(5), event_id="evt-note")

    assert customer.notes == [{"note": text, "author": "ag-17", "at": minutes(5).isoformat()}]
    assert customer.has_applied("evt-note")


def test_r_cus_03_note_records_text_author_and_the_policy_that_judged_it() -> None:
    customer = register()
    customer.add_note(
        note="Prefers SMS.", author="ag-9", occurred_at=minutes(5), source=ref("evt-n")
    )

    (added,) = customer.collect_events()[1:]

    assert isinstance(added, Customer.NoteAdded)
    assert (added.note, added.author, added.source) == ("Prefers SMS.", "ag-9", ref("evt-n"))
    assert added.policy_version == policy_in_force(minutes(5)).version


def test_r_cus_03_labels_come_from_the_policy_in_force_at_the_note_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """R-CUS-03 uses ``policy_in_force(note time)``, not the policy recorded at
    registration: a label added by a later policy applies from its effective time."""
    effective = minutes(24 * 60)
    english = replace(ENGLISH, labels=(*ENGLISH.labels, Label("grumbler")))
    stricter = replace(
        BASELINE,
        version="2026.2-test",
        effective_from=effective,
        note_vocabularies=(english, CHINESE),
    )
    monkeypatch.setattr(
        domain.policy, "POLICIES", {BASELINE.version: BASELINE, stricter.version: stricter}
    )
    customer = register()
    assert customer.policy_version == BASELINE.version

    note(customer, "Customer is a grumbler", effective - SECOND)
    error = refused(SubjectiveNote, lambda: note(customer, "Customer is a grumbler", effective))

    assert isinstance(error, SubjectiveNote)
    assert error.labels == ("Customer is a grumbler",)
    assert stricter.version in str(error)
    assert customer.policy_version == BASELINE.version
    (accepted,) = customer.collect_events()[1:]
    assert accepted.policy_version == BASELINE.version  # type: ignore[attr-defined]


def test_r_cus_03_empty_note_is_refused() -> None:
    customer = register()
    assert refused(InvalidCustomerData, lambda: note(customer, "  ", minutes(1))).rule == (
        "R-CUS-03"
    )


# -- erasure ----------------------------------------------------------------------------------


def test_erasure_request_is_recorded_and_later_personal_data_refused() -> None:
    """R-CUS-02: after an erasure request no personal data is collected, whatever its event
    time and even with service consent; other profile data still is."""
    requested_at = minutes(60)
    customer = register(personal={"name": "Li"})
    customer.request_erasure(reason="closing account", occurred_at=requested_at, source=ref())
    assert customer.erasure_requested_at == requested_at
    assert customer.state()["erasure_requested_at"] == requested_at.isoformat()

    after = refused(
        ConsentRequired, lambda: update(customer, requested_at + SECOND, personal={"phone": "1"})
    )
    before = refused(
        ConsentRequired, lambda: update(customer, requested_at - SECOND, personal={"email": "e"})
    )
    grant(customer, "service", minutes(70))
    again = refused(ConsentRequired, lambda: update(customer, minutes(80), personal={"name": "L"}))

    for error, field in [(after, "phone"), (before, "email"), (again, "name")]:
        assert error.rule == "R-CUS-02"
        assert field in str(error)
        assert "erasure" in str(error)
    assert customer.personal == {"name": "Li"}  # the key's deletion is a later step
    update(customer, minutes(90), preferences=["toys"])
    assert customer.preferences == ["toys"]


def test_repeated_erasure_request_keeps_the_first() -> None:
    customer = register()
    customer.request_erasure(reason=None, occurred_at=minutes(10), source=ref())
    customer.collect_events()

    customer.request_erasure(reason="again", occurred_at=minutes(20), source=ref())

    assert customer.pending_events == []
    assert customer.erasure_requested_at == minutes(10)


# -- duplicates, order, replay ----------------------------------------------------------------

COMMANDS: dict[str, Callable[[Customer, str, int], None]] = {
    "grant": lambda c, eid, n: grant(c, ["research", "marketing"][n], minutes(5), eid),
    "withdraw": lambda c, eid, n: withdraw(c, ["service", "marketing"][n], minutes(5), eid),
    "update": lambda c, eid, n: update(c, minutes(5), eid, personal={"name": f"n{n}"}),
    "note": lambda c, eid, n: note(c, ["Prefers SMS.", "Picky!"][n], minutes(5), eid),
    "erasure": lambda c, eid, n: c.request_erasure(
        reason=f"r{n}", occurred_at=minutes(5 + n), source=ref(eid)
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_repeated_source_event_id_has_no_effect(command: str) -> None:
    """A re-delivered record was already judged: no new fact, and no refusal even when
    its (changed) content would now be refused."""
    customer = register()
    COMMANDS[command](customer, "evt-2", 0)
    assert customer.version == 2
    customer.collect_events()
    state = customer.state()

    COMMANDS[command](customer, "evt-2", 1)
    COMMANDS[command](customer, "evt-reg", 1)

    assert customer.pending_events == []
    assert customer.version == 2
    assert customer.state() == state


def test_facts_before_the_registration_are_refused() -> None:
    customer = register()
    error = refused(LateFact, lambda: grant(customer, "marketing", T0 - SECOND))
    assert "registration" in str(error)
    grant(customer, "marketing", T0)
    assert customer.consents == ["marketing", "service"]


def test_customer_has_no_sla_clocks_but_records_its_policy() -> None:
    customer = register(personal={"name": "Li"})
    update(customer, minutes(5), personal={"phone": "1"})
    note(customer, "Prefers SMS.", minutes(6))
    customer.request_erasure(reason=None, occurred_at=minutes(7), source=ref())
    customer.advance_clock(minutes(60 * 24 * 365))

    events = customer.collect_events()

    assert all(
        isinstance(e, Customer.Registered | Customer.ProfileUpdated)
        or type(e).__name__ in ("NoteAdded", "ErasureRequested")
        for e in events
    )
    assert len(events) == 4
    assert customer.outcomes() == {}
    assert customer.policy_version == policy_in_force(T0).version


def test_replay_of_collected_events_equals_the_original() -> None:
    customer = register(personal={"name": "Li"}, consents=["service", "marketing"])
    withdraw(customer, "marketing", minutes(1))
    update(customer, minutes(2), personal={"phone": "1"}, birthday="01-02")
    note(customer, "Prefers SMS.", minutes(3))
    customer.request_erasure(reason="moving", occurred_at=minutes(4), source=ref("evt-5"))
    events = customer.collect_events()

    replayed = replay(events)

    assert replayed.state() == customer.state()
    assert replayed.has_applied("evt-5")
    assert replayed.consent_statements == customer.consent_statements


def test_stored_history_round_trips(tmp_path: Path) -> None:
    app = JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        }
    )
    try:
        customer = register(personal={"name": "Li"}, preferences=["toys"])
        withdraw(customer, "service", minutes(1))
        note(customer, "Prefers SMS.", minutes(2))
        app.save(customer)

        loaded: object = app.repository.get(Customer.create_id("cust-1"))

        assert isinstance(loaded, Customer)
        assert loaded.state() == customer.state()
        assert loaded.consents_at(minutes(1) - SECOND) == ["service"]
        refused(ConsentRequired, lambda: update(loaded, minutes(3), personal={"phone": "1"}))
    finally:
        app.close()


# -- handlers and schemas ---------------------------------------------------------------------

NOW = datetime(2026, 4, 1, tzinfo=UTC)
PARTITION = TopicPartition(TOPIC, 0)


def body(
    event_type: str,
    data: dict[str, Any],
    *,
    customer_id: str = "cust-1",
    at: datetime = T0,
    event_id: str | None = None,
    channel: str = "app",
) -> dict[str, Any]:
    return {
        "event_id": event_id or unique("ev-"),
        "type": event_type,
        "occurred_at": at.isoformat(),
        "channel": channel,
        "customer_id": customer_id,
        "source": "crm",
        "schema_version": 1,
        "data": data,
    }


def as_event(raw: dict[str, Any]) -> SourceEvent:
    return validate(raw, now=NOW, max_future=timedelta(minutes=5))


def apply(
    app: JourneyApplication, bodies: Sequence[dict[str, Any]], parks: bool = False
) -> PendingBatch:
    """One batch at the partition's next offsets, committed; nothing of it may be parked
    unless ``parks``."""
    first = app.next_offset(PARTITION)
    batch = [
        (SourceRef(raw["event_id"], TOPIC, 0, offset), as_event(raw))
        for offset, raw in enumerate(bodies, start=first)
    ]
    pending = app.prepare_batch(PARTITION, batch, next_offset=first + len(batch))
    if not parks:
        assert pending.parked == [], f"parked: {pending.parked}"
    pending.commit()
    return pending


def load(app: JourneyApplication, customer_id: str = "cust-1") -> Customer:
    customer: object = app.repository.get(Customer.create_id(customer_id))
    assert isinstance(customer, Customer)
    return customer


def registration(**data: Any) -> dict[str, Any]:
    return body("customer.registered", data, event_id=data.pop("event_id", None))


def test_handlers_apply_the_customer_family(app: JourneyApplication) -> None:
    pending = apply(
        app,
        [
            registration(member_id="m-1", consents=["marketing"], preferences=["kitchen"]),
            body("customer.consent_granted", {"purpose": "service"}, at=minutes(1)),
            body(
                "customer.profile_updated",
                {"personal": {"name": "Li", "phone": "138"}, "birthday": "03-14"},
                at=minutes(2),
            ),
            body("customer.consent_withdrawn", {"purpose": "marketing"}, at=minutes(3)),
            body("customer.note_added", {"note": "Prefers SMS.", "author": "a"}, at=minutes(4)),
            body("customer.erasure_requested", {}, at=minutes(5), channel="web"),
        ],
    )

    assert pending.refusals == []
    customer = load(app)
    assert customer.version == 6
    assert customer.member_id == "m-1"
    # Stored sealed with the customer's key (DESIGN.md "Privacy"), readable through it.
    assert all(value.startswith("pii:1:") for value in customer.personal.values())
    assert app.personal.reveal("cust-1", customer.personal) == {"name": "Li", "phone": "138"}
    assert customer.consents == ["service"]
    assert customer.birthday == "03-14"
    assert customer.preferences == ["kitchen"]
    assert [app.personal.reveal("cust-1", {"note": n["note"]}) for n in customer.notes] == [
        {"note": "Prefers SMS."}
    ]
    assert customer.erasure_requested_at == minutes(5)
    assert app.next_offset(PARTITION) == 6


def test_r_cus_02_refusals_through_the_handler(app: JourneyApplication) -> None:
    """R-CUS-02 through ingest: a registration with personal data and no service consent
    creates nothing; a later update without consent is refused, the rest applies."""
    no_consent = registration(personal={"phone": "138"}, consents=["research"])
    first = apply(app, [no_consent])
    ((source, error),) = first.refusals
    assert source.event_id == no_consent["event_id"]
    assert isinstance(error, ConsentRequired)
    assert error.rule == "R-CUS-02"
    assert "phone" in str(error)
    assert Customer.create_id("cust-1") not in app.repository

    update_body = body("customer.profile_updated", {"personal": {"email": "e"}}, at=minutes(2))
    second = apply(app, [registration(consents=["research"]), update_body])
    assert [(s.event_id, e.rule) for s, e in second.refusals] == [
        (update_body["event_id"], "R-CUS-02")
    ]
    assert "email" in str(second.refusals[0][1])
    assert load(app).personal == {}


def test_r_cus_03_refusal_through_the_handler(app: JourneyApplication) -> None:
    bad = body("customer.note_added", {"note": "Picky, as usual", "author": "a"}, at=minutes(1))
    fact = "Difficult to reach by phone (3 attempts)"
    good = body("customer.note_added", {"note": fact, "author": "a"}, at=minutes(2))

    pending = apply(app, [registration(), bad, good])

    ((source, error),) = pending.refusals
    assert source.event_id == bad["event_id"]
    assert isinstance(error, SubjectiveNote)
    assert '"Picky" labels the customer' in str(error)
    (note,) = load(app).notes
    assert note["note"].startswith("pii:1:")  # the rule read the text; the event keeps it sealed
    assert app.personal.reveal("cust-1", {"note": note["note"]}) == {"note": fact}


def test_registering_twice_is_refused(app: JourneyApplication) -> None:
    first = registration(member_id="m-1", event_id="evt-r1")
    apply(app, [first])

    pending = apply(
        app,
        [
            registration(member_id="m-2", event_id="evt-r2"),
            first,  # the same record again: no effect, no refusal
            registration(member_id="m-3", event_id="evt-r3"),
        ],
    )

    assert [(s.event_id, type(e)) for s, e in pending.refusals] == [
        ("evt-r2", AlreadyRegistered),
        ("evt-r3", AlreadyRegistered),
    ]
    assert "cust-1" in str(pending.refusals[0][1])
    customer = load(app)
    assert customer.version == 1
    assert customer.member_id == "m-1"


def test_registering_twice_in_one_batch_is_refused(app: JourneyApplication) -> None:
    pending = apply(app, [registration(event_id="evt-a"), registration(event_id="evt-b")])

    assert [(s.event_id, type(e)) for s, e in pending.refusals] == [("evt-b", AlreadyRegistered)]
    assert load(app).has_applied("evt-a")


@pytest.mark.parametrize("event_type", sorted(set(SCHEMAS) - {"customer.registered"}))
def test_event_for_an_unknown_customer_is_parked_until_registration(
    app: JourneyApplication, event_type: str
) -> None:
    """An event of a customer not registered yet waits for the registration, nothing
    applied; it is applied (or refused by the customer's rules) right after it."""
    apply(app, [registration()])  # another customer exists
    example = dict(SCHEMAS[event_type][1].example)
    item = body(event_type, example, customer_id="cust-404", at=minutes(1))

    pending = apply(app, [item], parks=True)

    parked_naming(pending, [pending.parked[0][0]], Customer.create_id("cust-404"), "cust-404")
    assert pending.parked[0][0].event_id == item["event_id"]
    assert Customer.create_id("cust-404") not in app.repository
    assert load(app).version == 1
    assert waiting_for(app, Customer.create_id("cust-404")) == [item["event_id"]]

    pending = apply(app, [body("customer.registered", {}, customer_id="cust-404")])

    assert waiting_for(app, Customer.create_id("cust-404")) == []
    released = [w.event_id for w in pending.released]
    refused = [r.waiting.event_id for r in pending.released_refusals]
    assert sorted(released + refused) == [item["event_id"]]
    if released:
        assert load(app, "cust-404").has_applied(item["event_id"])


def test_schema_examples_apply_in_order(app: JourneyApplication) -> None:
    """The examples, in a journey's order, are accepted by the domain too."""
    order = [
        "customer.registered",
        "customer.consent_granted",
        "customer.profile_updated",
        "customer.note_added",
        "customer.consent_withdrawn",
        "customer.erasure_requested",
    ]
    assert sorted(order) == sorted(SCHEMAS)
    bodies = [
        body(t, dict(SCHEMAS[t][1].example), at=minutes(i), channel=SCHEMAS[t][1].example_channel)
        for i, t in enumerate(order)
    ]

    pending = apply(app, bodies)

    assert pending.refusals == []
    assert load(app).version == len(order)


@pytest.mark.parametrize(
    ("event_type", "data", "field"),
    [
        ("customer.registered", {"personal": {"ssn": "1"}}, "data.personal.ssn"),
        ("customer.registered", {"birthday": "02-30"}, "data.birthday"),
        ("customer.registered", {"birthday": "3-14"}, "data.birthday"),
        ("customer.registered", {"consents": ["resale"]}, "data.consents.0"),
        ("customer.consent_granted", {"purpose": "resale"}, "data.purpose"),
        ("customer.profile_updated", {}, "data"),
        ("customer.profile_updated", {"personal": {}}, "data"),
        ("customer.note_added", {"note": "", "author": "a"}, "data.note"),
        ("customer.erasure_requested", {"why": "x"}, "data.why"),
    ],
)
def test_schema_refuses_bad_data_naming_the_field(
    event_type: str, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        as_event(body(event_type, data))

    assert field in [problem.field for problem in caught.value.problems]

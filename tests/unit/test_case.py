"""The Case aggregate: one customer problem followed across contacts and channels."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import reduce
from typing import Any

import pytest

from domain.case import Case, CaseMismatch
from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.provenance import SourceRef
from journey.application import JourneyApplication

OPENED_AT = datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def ref(event_id: str, offset: int = 0) -> SourceRef:
    return SourceRef(event_id=event_id, topic="journey.contacts", partition=0, offset=offset)


def open_case(case_ref: str = "case-1", customer_id: str = "cust-1") -> Case:
    return Case(
        case_ref=case_ref,
        customer_id=customer_id,
        contact_id="contact-1",
        channel="app",
        classification="complaint",
        topic="after_sales",
        store_id="store-7",
        agent_group=None,
        occurred_at=OPENED_AT,
        source=ref("evt-1"),
    )


def join(case: Case, event_id: str, channel: str, customer_id: str = "cust-1") -> None:
    case.join(
        contact_id=f"contact-{event_id}",
        customer_id=customer_id,
        channel=channel,
        occurred_at=OPENED_AT + timedelta(hours=1),
        source=ref(event_id, offset=1),
    )


def replay(events: Sequence[Any]) -> Case:
    case = reduce(lambda aggregate, event: event.mutate(aggregate), events, None)
    assert isinstance(case, Case)
    return case


def test_case_is_opened_from_a_contact() -> None:
    case = open_case()

    assert case.id == Case.create_id("case-1")
    assert case.version == 1
    assert case.state() == {
        "id": str(Case.create_id("case-1")),
        "version": 1,
        "case_ref": "case-1",
        "customer_id": "cust-1",
        "classification": "complaint",
        "topic": "after_sales",
        "store_id": "store-7",
        "agent_group": None,
        "opened_at": "2024-05-01T09:30:00+08:00",
        "channels": ["app"],
        "contact_ids": ["contact-1"],
    }
    (opened,) = case.collect_events()
    assert isinstance(opened, Case.Opened)
    assert opened.source == ref("evt-1")
    assert opened.channel == "app"
    assert case.has_applied("evt-1")
    assert not case.has_applied("evt-2")


def test_r_ch_01_contact_on_another_channel_joins_the_same_case() -> None:
    """R-CH-01: a case opened on one channel continues on another with one history."""
    case = open_case()
    case.collect_events()

    join(case, "evt-2", channel="phone")
    join(case, "evt-3", channel="app")
    join(case, "evt-4", channel="web")

    assert case.id == Case.create_id("case-1")
    assert case.version == 4
    assert case.channels == ["app", "phone", "web"]
    assert case.contact_ids == ["contact-1", "contact-evt-2", "contact-evt-3", "contact-evt-4"]
    joined = case.collect_events()
    assert [type(event) for event in joined] == [Case.ContactJoined] * 3
    assert [event.originator_version for event in joined] == [2, 3, 4]
    assert [event.channel for event in joined] == ["phone", "app", "web"]  # type: ignore[attr-defined]


def test_r_ch_01_contact_from_another_customer_is_refused() -> None:
    """R-CH-01: one case, one customer; another customer cannot join it."""
    case = open_case()
    case.collect_events()
    before = case.state()

    with pytest.raises(CaseMismatch) as caught:
        join(case, "evt-2", channel="phone", customer_id="cust-2")

    assert isinstance(caught.value, DomainError)
    assert caught.value.rule == "R-CH-01"
    assert "R-CH-01" in str(caught.value)
    assert "case-1" in str(caught.value)
    assert case.collect_events() == []
    assert case.state() == before
    assert not case.has_applied("evt-2")


@pytest.mark.parametrize("channel", ["app", "phone"])
def test_repeated_opening_event_id_has_no_effect(channel: str) -> None:
    case = open_case()
    case.collect_events()

    join(case, "evt-1", channel=channel)

    assert case.pending_events == []
    assert case.version == 1
    assert case.channels == ["app"]
    assert case.contact_ids == ["contact-1"]


def test_repeated_join_event_id_has_no_effect() -> None:
    case = open_case()
    join(case, "evt-2", channel="phone")
    assert len(case.pending_events) == 2
    state = case.state()

    join(case, "evt-2", channel="phone")
    join(case, "evt-2", channel="web")

    assert len(case.pending_events) == 2
    assert case.version == 2
    assert case.state() == state


def test_repeated_event_id_is_ignored_even_from_another_customer() -> None:
    """A re-delivered record was already judged; it is not judged again."""
    case = open_case()
    join(case, "evt-2", channel="phone")
    case.collect_events()

    join(case, "evt-2", channel="phone", customer_id="cust-2")

    assert case.pending_events == []
    assert case.version == 2


def test_ids_are_deterministic() -> None:
    assert Case.create_id("x") == Case.create_id("x")
    assert Case.create_id("x") != Case.create_id("y")
    assert Case.create_id("x") != Case.create_id("X")
    assert Case.create_id("x") == aggregate_id("case", "x")
    assert aggregate_id("case", "x") != aggregate_id("order", "x")
    assert open_case("x").id == open_case("x").id == Case.create_id("x")
    assert open_case("x").id != open_case("y").id


def test_replay_of_collected_events_equals_the_original() -> None:
    case = open_case()
    join(case, "evt-2", channel="phone")
    join(case, "evt-3", channel="web")
    join(case, "evt-2", channel="email")
    events = case.collect_events()
    assert len(events) == 3

    replayed = replay(events)

    assert replayed.state() == case.state()
    assert replayed.version == 3
    assert replayed.source_event_ids == {"evt-1", "evt-2", "evt-3"}
    assert replayed.has_applied("evt-3")


def test_replay_at_each_version_gives_the_state_at_that_point() -> None:
    case = open_case()
    states = [case.state()]
    for number, channel in [(2, "phone"), (3, "web")]:
        join(case, f"evt-{number}", channel=channel)
        states.append(case.state())
    events = case.collect_events()

    assert [replay(events[:upto]).state() for upto in (1, 2, 3)] == states


@pytest.fixture
def app() -> Iterator[JourneyApplication]:
    application = JourneyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def test_replay_through_a_stored_history_equals_the_original(app: JourneyApplication) -> None:
    """Events survive transcoding (source refs, offsets of event times) unchanged."""
    case = open_case()
    join(case, "evt-2", channel="phone")
    app.save(case)
    join(case, "evt-3", channel="store")
    app.save(case)

    loaded: object = app.repository.get(Case.create_id("case-1"))

    assert isinstance(loaded, Case)
    assert loaded is not case
    assert loaded.state() == case.state()
    assert loaded.opened_at == OPENED_AT
    assert loaded.opened_at.utcoffset() == timedelta(hours=8)
    assert loaded.source_event_ids == {"evt-1", "evt-2", "evt-3"}
    history = list(app.events.get(Case.create_id("case-1")))
    assert [event.source for event in history] == [  # type: ignore[attr-defined]
        ref("evt-1"),
        ref("evt-2", 1),
        ref("evt-3", 1),
    ]
    version_2: object = app.repository.get(Case.create_id("case-1"), version=2)
    assert isinstance(version_2, Case)
    assert version_2.channels == ["app", "phone"]
    assert version_2.opened_at.astimezone(UTC) == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)


def test_replayed_case_still_ignores_applied_event_ids(app: JourneyApplication) -> None:
    case = open_case()
    join(case, "evt-2", channel="phone")
    app.save(case)
    loaded: object = app.repository.get(Case.create_id("case-1"))
    assert isinstance(loaded, Case)

    join(loaded, "evt-2", channel="phone")
    join(loaded, "evt-1", channel="web")

    assert loaded.pending_events == []
    assert loaded.version == 2

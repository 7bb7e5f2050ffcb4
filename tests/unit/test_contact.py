"""The Contact aggregate: first-response rules (R-RESP-01..05) and identity verification
before account-specific answers (R-CUS-01), on the aggregate and through the handlers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from functools import reduce
from pathlib import Path
from typing import Any

import pytest

from adapters.sourcelog.base import TopicPartition
from application.handlers.base import MissingPrerequisite
from application.service import JourneyApplication
from domain.aggregate import LateFact, is_fact
from domain.case import Case, CaseMismatch
from domain.clocks import Outcome
from domain.contact import Contact, ContactEnded, UnverifiedIdentity
from domain.errors import DomainError, NotFound
from domain.policy import BASELINE
from domain.provenance import SourceRef
from tests.unit.parking_checks import parked_naming, waiting_for
from tests.unit.through_handlers import TOPIC, Journey, opened

CHINA = timezone(timedelta(hours=8))
OPENED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA)  # a Monday, inside phone hours
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


class Refs:
    """Source records at consecutive offsets, with fresh event ids."""

    def __init__(self) -> None:
        self.offset = 0

    def __call__(self, event_id: str | None = None) -> SourceRef:
        self.offset += 1
        return SourceRef(event_id or f"evt-{self.offset}", "journey.contacts", 0, self.offset)


@pytest.fixture
def ref() -> Refs:
    return Refs()


def open_contact(
    ref: Refs,
    channel: str = "app",
    at: datetime = OPENED_AT,
    verified_by: str | None = None,
    contact_id: str = "ct-1",
    first_message_id: str | None = None,
) -> Contact:
    return Contact.open(
        contact_id=contact_id,
        customer_id="cust-1",
        case_ref="case-1",
        channel=channel,
        verified_by=verified_by,
        occurred_at=at,
        source=ref(),
        first_message_id=first_message_id,
    )


def open_chat(ref: Refs, channel: str = "app", at: datetime = OPENED_AT) -> Contact:
    """An instant-messaging contact the customer opens by writing: R-RESP-01 runs from the
    opening (the customer's first message, ``first_message_id``)."""
    return open_contact(ref, channel, at, first_message_id="m-0")


def agent_reply(contact: Contact, ref: Refs, at: datetime, **changes: Any) -> None:
    fields: dict[str, Any] = {"responder": "agent", "agent_id": "ag-1", "account_specific": False}
    fields.update(changes)
    contact.reply(**fields, occurred_at=at, source=ref())


def bot_reply(contact: Contact, ref: Refs, at: datetime) -> None:
    contact.reply(
        responder="bot", agent_id=None, account_specific=False, occurred_at=at, source=ref()
    )


def outcome(contact: Contact, key: str) -> Outcome:
    outcomes = contact.outcomes()
    assert key in outcomes, f"no outcome for {key}; outcomes: {sorted(outcomes)}"
    return outcomes[key]


def names(events: Sequence[Any]) -> list[str]:
    return [type(event).__name__ for event in events]


def replay(events: Sequence[Any]) -> Contact:
    contact = reduce(lambda aggregate, event: event.mutate(aggregate), events, None)
    assert isinstance(contact, Contact)
    return contact


# -- R-RESP-01: instant messaging, first human reply within 30 s -----------------------


@pytest.mark.parametrize("channel", ["app", "mini_program", "web"])
def test_r_resp_01_im_first_human_reply_at_exactly_30_s_is_met(ref: Refs, channel: str) -> None:
    contact = open_chat(ref, channel)

    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=30))

    result = outcome(contact, "R-RESP-01")
    assert (result.rule, result.met, result.actual) == ("R-RESP-01", True, timedelta(seconds=30))
    assert result.target == timedelta(seconds=30)
    assert contact.clocks.open == {}


@pytest.mark.parametrize("channel", ["app", "mini_program", "web"])
def test_r_resp_01_im_first_human_reply_at_31_s_is_breached(ref: Refs, channel: str) -> None:
    contact = open_chat(ref, channel)

    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=31))

    result = outcome(contact, "R-RESP-01")
    assert (result.met, result.actual) == (False, timedelta(seconds=31))
    (breach,) = [e for e in contact.collect_events() if isinstance(e, Contact.DeadlineBreached)]
    assert breach.rule == "R-RESP-01"
    assert breach.detected_by == "fact"
    assert breach.due_at == OPENED_AT + timedelta(seconds=30)


def test_r_resp_01_opening_records_the_deadline_with_its_policy_version(ref: Refs) -> None:
    """R-RESP-01: a chat that opens with the customer's message records that message
    (from the opening's source record) and starts the clock at it."""
    contact = open_chat(ref, "app")

    opened, message, started = contact.collect_events()

    assert isinstance(opened, Contact.Opened)
    assert isinstance(message, Contact.MessageReceived)
    assert (message.message_id, message.occurred_at) == ("m-0", OPENED_AT)
    assert message.source == opened.source
    assert isinstance(started, Contact.DeadlineStarted)
    assert (started.rule, started.key) == ("R-RESP-01", "R-RESP-01")
    assert started.started_at == OPENED_AT
    assert started.due_at == OPENED_AT + timedelta(seconds=30)
    assert started.policy_version == opened.policy_version == BASELINE.version


def test_r_resp_01_a_bot_answering_first_cancels_the_clock_not_a_breach(ref: Refs) -> None:
    """R-RESP-01 gives way to R-RESP-02 when a bot answers first: no outcome, no breach,
    even when a person answers much later."""
    contact = open_chat(ref, "app")

    bot_reply(contact, ref, OPENED_AT + timedelta(seconds=2))
    agent_reply(contact, ref, OPENED_AT + timedelta(minutes=10))

    assert "R-RESP-01" not in contact.outcomes()
    assert contact.clocks.open == {}
    events = contact.collect_events()
    (cancelled,) = [e for e in events if isinstance(e, Contact.DeadlineCancelled)]
    assert cancelled.rule == "R-RESP-01"
    assert cancelled.at == OPENED_AT + timedelta(seconds=2)
    assert not [e for e in events if isinstance(e, Contact.DeadlineBreached)]
    assert contact.state()["bot_replies"] == 1
    assert contact.state()["agent_replies"] == 1


def test_r_resp_01_a_bot_reply_after_a_human_one_changes_nothing(ref: Refs) -> None:
    contact = open_chat(ref, "web")
    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=5))
    before = contact.outcomes()

    bot_reply(contact, ref, OPENED_AT + timedelta(seconds=6))

    assert contact.outcomes() == before
    assert outcome(contact, "R-RESP-01").met


@pytest.mark.parametrize("channel", ["social", "marketplace", "email"])
def test_r_resp_01_other_channels_start_no_first_response_clock(ref: Refs, channel: str) -> None:
    contact = open_contact(ref, channel)
    agent_reply(contact, ref, OPENED_AT + timedelta(hours=5))

    assert contact.outcomes() == {}
    assert names(contact.collect_events()) == ["Opened", "Replied"]


# -- R-RESP-02: hand-off to a person within 10 s of the request ------------------------


@pytest.mark.parametrize(("after", "met"), [(10, True), (11, False)])
def test_r_resp_02_handoff_within_10_s_of_the_request(ref: Refs, after: int, met: bool) -> None:
    contact = open_contact(ref, "mini_program")
    bot_reply(contact, ref, OPENED_AT + timedelta(seconds=1))
    asked = OPENED_AT + timedelta(minutes=2)
    contact.request_handoff(occurred_at=asked, source=ref())

    contact.hand_off(agent_id="ag-9", occurred_at=asked + timedelta(seconds=after), source=ref())

    result = outcome(contact, "R-RESP-02:1")
    assert (result.rule, result.met, result.actual) == ("R-RESP-02", met, timedelta(seconds=after))
    assert result.target == timedelta(seconds=10)
    assert contact.state()["handoffs"] == 1


def test_r_resp_02_each_request_has_its_own_clock(ref: Refs) -> None:
    contact = open_contact(ref, "app")
    bot_reply(contact, ref, OPENED_AT + SECOND)
    first = OPENED_AT + timedelta(minutes=1)
    contact.request_handoff(occurred_at=first, source=ref())
    contact.hand_off(agent_id="ag-1", occurred_at=first + timedelta(seconds=3), source=ref())
    second = OPENED_AT + timedelta(minutes=5)
    contact.request_handoff(occurred_at=second, source=ref())

    contact.hand_off(agent_id="ag-2", occurred_at=second + timedelta(seconds=12), source=ref())

    assert outcome(contact, "R-RESP-02:1").met
    assert outcome(contact, "R-RESP-02:1").actual == timedelta(seconds=3)
    assert not outcome(contact, "R-RESP-02:2").met
    assert outcome(contact, "R-RESP-02:2").actual == timedelta(seconds=12)


# -- R-RESP-03: phone answered within 15 s during working hours -------------------------

HOURS = BASELINE.phone_hours
LOCAL = timezone(HOURS.utc_offset)
DAY = date(2026, 3, 2)


def local(at: Any) -> datetime:
    return datetime.combine(DAY, at, tzinfo=LOCAL)


@pytest.mark.parametrize(("after", "met"), [(15, True), (16, False)])
def test_r_resp_03_phone_answered_within_15_s(ref: Refs, after: int, met: bool) -> None:
    contact = open_contact(ref, "phone")

    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=after))

    result = outcome(contact, "R-RESP-03")
    assert (result.rule, result.met, result.actual) == ("R-RESP-03", met, timedelta(seconds=after))
    assert result.target == timedelta(seconds=15)


def test_r_resp_03_a_call_at_the_opening_minute_is_timed(ref: Refs) -> None:
    """Working hours open inclusive, in the chain's UTC offset (policy.phone_hours)."""
    opens = local(HOURS.opens)
    contact = open_contact(ref, "phone", at=opens)

    agent_reply(contact, ref, opens + timedelta(seconds=16))

    assert not outcome(contact, "R-RESP-03").met


def test_r_resp_03_the_same_instant_written_in_utc_is_inside_hours(ref: Refs) -> None:
    opens_utc = local(HOURS.opens).astimezone(UTC)
    assert opens_utc.utcoffset() == timedelta(0)
    contact = open_contact(ref, "phone", at=opens_utc)

    agent_reply(contact, ref, opens_utc + timedelta(seconds=15))

    assert outcome(contact, "R-RESP-03").met


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(local(HOURS.closes), id="closing-minute"),
        pytest.param(local(HOURS.opens) - SECOND, id="second-before-opening"),
        pytest.param(local(HOURS.opens).astimezone(UTC) - SECOND, id="before-in-utc"),
    ],
)
def test_r_resp_03_outside_hours_no_clock_and_no_breach(ref: Refs, at: datetime) -> None:
    """Working hours close exclusive; outside them the call goes to voicemail: no clock."""
    contact = open_contact(ref, "phone", at=at)

    agent_reply(contact, ref, at + timedelta(hours=1))
    contact.advance_clock(at + timedelta(days=1))

    assert contact.outcomes() == {}
    assert names(contact.collect_events()) == ["Opened", "Replied"]


def test_r_resp_03_a_call_a_second_before_closing_is_timed(ref: Refs) -> None:
    at = local(HOURS.closes) - SECOND
    contact = open_contact(ref, "phone", at=at)

    agent_reply(contact, ref, at + timedelta(seconds=20))

    assert not outcome(contact, "R-RESP-03").met


# -- R-RESP-04: store greeting within 30 s ----------------------------------------------


@pytest.mark.parametrize(("after", "met"), [(30, True), (31, False)])
def test_r_resp_04_store_visitor_greeted_within_30_s(ref: Refs, after: int, met: bool) -> None:
    contact = open_contact(ref, "store")

    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=after))

    result = outcome(contact, "R-RESP-04")
    assert (result.rule, result.met, result.actual) == ("R-RESP-04", met, timedelta(seconds=after))
    assert set(contact.outcomes()) == {"R-RESP-04"}


# -- R-RESP-05: a promised reply is followed up within 5 min ----------------------------


@pytest.mark.parametrize(
    ("after", "met"), [(timedelta(minutes=5), True), (timedelta(minutes=5, seconds=1), False)]
)
def test_r_resp_05_promised_reply_followed_up_within_5_min(
    ref: Refs, after: timedelta, met: bool
) -> None:
    contact = open_chat(ref, "app")
    promised = OPENED_AT + timedelta(seconds=20)
    contact.promise_reply(agent_id="ag-1", occurred_at=promised, source=ref())

    agent_reply(contact, ref, promised + after)

    # The promise itself is the first answer (R-RESP-01 met at 20 s).
    assert outcome(contact, "R-RESP-01").met
    assert outcome(contact, "R-RESP-01").actual == timedelta(seconds=20)
    result = outcome(contact, "R-RESP-05:1")
    assert (result.rule, result.met, result.actual) == ("R-RESP-05", met, after)
    assert result.target == timedelta(minutes=5)


def test_r_resp_05_a_bot_reply_does_not_keep_a_human_promise(ref: Refs) -> None:
    contact = open_contact(ref, "app")
    promised = OPENED_AT + timedelta(seconds=5)
    contact.promise_reply(agent_id="ag-1", occurred_at=promised, source=ref())

    bot_reply(contact, ref, promised + timedelta(minutes=1))

    assert "R-RESP-05:1" not in contact.outcomes()
    assert "R-RESP-05:1" in contact.clocks.open


# -- abandonment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "rule", "target"),
    [("app", "R-RESP-01", 30), ("phone", "R-RESP-03", 15), ("store", "R-RESP-04", 30)],
)
def test_r_resp_abandoned_before_the_target_is_cancelled(
    ref: Refs, channel: str, rule: str, target: int
) -> None:
    contact = open_chat(ref, channel) if channel == "app" else open_contact(ref, channel)

    contact.abandon(occurred_at=OPENED_AT + timedelta(seconds=target), source=ref())

    assert contact.outcomes() == {}
    assert contact.clocks.open == {}
    (cancelled,) = [e for e in contact.collect_events() if isinstance(e, Contact.DeadlineCancelled)]
    assert cancelled.rule == rule
    assert contact.state()["status"] == "abandoned"


@pytest.mark.parametrize(
    ("channel", "rule", "target"),
    [("app", "R-RESP-01", 30), ("phone", "R-RESP-03", 15), ("store", "R-RESP-04", 30)],
)
def test_r_resp_abandoned_after_the_target_is_breached(
    ref: Refs, channel: str, rule: str, target: int
) -> None:
    contact = open_chat(ref, channel) if channel == "app" else open_contact(ref, channel)

    contact.abandon(occurred_at=OPENED_AT + timedelta(seconds=target + 1), source=ref())

    result = outcome(contact, rule)
    assert (result.met, result.actual) == (False, None)
    assert not [e for e in contact.collect_events() if isinstance(e, Contact.DeadlineCancelled)]


def test_r_resp_02_abandoned_while_waiting_for_a_person(ref: Refs) -> None:
    contact = open_contact(ref, "app")
    bot_reply(contact, ref, OPENED_AT + SECOND)
    asked = OPENED_AT + timedelta(minutes=1)
    contact.request_handoff(occurred_at=asked, source=ref())

    contact.abandon(occurred_at=asked + timedelta(seconds=4), source=ref())

    assert contact.outcomes() == {}
    assert contact.clocks.open == {}


def test_facts_after_the_contact_ended_are_refused(ref: Refs) -> None:
    """R-RESP-01..05: no answers are timed on a contact that has ended."""
    contact = open_contact(ref, "app")
    ended = OPENED_AT + timedelta(minutes=3)
    contact.close(resolved=True, occurred_at=ended, source=ref())
    contact.collect_events()

    with pytest.raises(ContactEnded):
        agent_reply(contact, ref, ended + SECOND)

    assert contact.collect_events() == []
    assert contact.state()["status"] == "closed"
    assert contact.state()["resolved_in_contact"] is True


# -- R-CUS-01: identity before account-specific answers ---------------------------------


def test_r_cus_01_account_specific_reply_without_verified_identity_is_refused(
    ref: Refs,
) -> None:
    contact = open_contact(ref, "app")
    contact.collect_events()
    before = contact.state()
    source = ref()

    with pytest.raises(UnverifiedIdentity) as caught:
        contact.reply(
            responder="agent",
            agent_id="ag-1",
            account_specific=True,
            occurred_at=OPENED_AT + timedelta(seconds=5),
            source=source,
        )

    assert caught.value.rule == "R-CUS-01"
    assert "R-CUS-01" in str(caught.value)
    assert contact.collect_events() == []
    assert contact.state() == before
    assert not contact.has_applied(source.event_id)


@pytest.mark.parametrize("method", ["order_number", "member_id", "phone"])
def test_r_cus_01_after_identity_verified_the_reply_is_accepted(ref: Refs, method: str) -> None:
    contact = open_contact(ref, "app")
    contact.verify_identity(
        method=method, occurred_at=OPENED_AT + timedelta(seconds=3), source=ref()
    )

    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=9), account_specific=True)

    assert contact.state()["verified_by"] == method
    (replied,) = [e for e in contact.collect_events() if isinstance(e, Contact.Replied)]
    assert replied.account_specific is True


def test_r_cus_01_verified_at_opening_is_accepted(ref: Refs) -> None:
    contact = open_contact(ref, "app", verified_by="member_id")

    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=9), account_specific=True)

    assert contact.state()["agent_replies"] == 1


def test_r_cus_01_unknown_verification_method_is_refused(ref: Refs) -> None:
    with pytest.raises(UnverifiedIdentity) as at_open:
        open_contact(ref, "app", verified_by="guesswork")
    contact = open_contact(ref, "app")
    with pytest.raises(UnverifiedIdentity) as later:
        contact.verify_identity(method="guesswork", occurred_at=OPENED_AT + SECOND, source=ref())

    assert at_open.value.rule == later.value.rule == "R-CUS-01"
    assert contact.state()["verified_by"] is None


# -- late facts -------------------------------------------------------------------------


def test_a_fact_before_the_contact_opened_is_refused_as_late(ref: Refs) -> None:
    """R-RESP-01: first-response clocks measure from the opening; nothing precedes it."""
    contact = open_contact(ref, "app")
    contact.collect_events()
    source = ref()

    with pytest.raises(LateFact) as caught:
        contact.reply(
            responder="agent",
            agent_id="ag-1",
            account_specific=False,
            occurred_at=OPENED_AT - SECOND,
            source=source,
        )

    assert isinstance(caught.value, DomainError)
    assert OPENED_AT.isoformat() in str(caught.value)
    assert contact.collect_events() == []
    assert not contact.has_applied(source.event_id)


def test_r_resp_01_an_earlier_reply_arriving_after_a_later_message_counts_by_event_time(
    ref: Refs,
) -> None:
    contact = open_chat(ref, "app")
    contact.receive_message(
        message_id="m-2", occurred_at=OPENED_AT + timedelta(seconds=20), source=ref()
    )

    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=10))

    result = outcome(contact, "R-RESP-01")
    assert (result.met, result.actual) == (True, timedelta(seconds=10))
    assert contact.last_event_at == OPENED_AT + timedelta(seconds=20)


def test_r_resp_01_the_earliest_human_reply_decides_whatever_the_arrival_order(
    ref: Refs,
) -> None:
    contact = open_chat(ref, "app")
    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=40))

    agent_reply(contact, ref, OPENED_AT + timedelta(seconds=20))

    result = outcome(contact, "R-RESP-01")
    assert (result.met, result.actual) == (True, timedelta(seconds=20))


# -- duplicates and replay --------------------------------------------------------------


def test_a_repeated_source_event_id_has_no_effect(ref: Refs) -> None:
    """R-RESP-01: a re-delivered reply (even with other content) is not timed again."""
    contact = open_contact(ref, "app")
    first = ref()
    contact.reply(
        responder="agent",
        agent_id="ag-1",
        account_specific=False,
        occurred_at=OPENED_AT + timedelta(seconds=40),
        source=first,
    )
    state, version = contact.state(), contact.version
    contact.collect_events()

    # The same record again, and a record reusing the id with other content.
    contact.reply(
        responder="agent",
        agent_id="ag-1",
        account_specific=False,
        occurred_at=OPENED_AT + timedelta(seconds=40),
        source=first,
    )
    contact.reply(
        responder="agent",
        agent_id="ag-2",
        account_specific=True,
        occurred_at=OPENED_AT + timedelta(seconds=5),
        source=SourceRef(first.event_id, first.topic, first.partition, first.offset + 10),
    )
    contact.abandon(occurred_at=OPENED_AT + timedelta(seconds=50), source=first)

    assert contact.collect_events() == []
    assert contact.state() == state
    assert contact.version == version


def test_replay_of_the_events_equals_the_original(ref: Refs) -> None:
    """R-RESP-02, R-RESP-05: the history rebuilds the same state and outcomes."""
    contact = open_contact(ref, "app")
    bot_reply(contact, ref, OPENED_AT + SECOND)
    contact.request_handoff(occurred_at=OPENED_AT + timedelta(seconds=4), source=ref())
    contact.hand_off(agent_id="ag-3", occurred_at=OPENED_AT + timedelta(seconds=20), source=ref())
    contact.promise_reply(
        agent_id="ag-3", occurred_at=OPENED_AT + timedelta(seconds=30), source=ref()
    )
    agent_reply(contact, ref, OPENED_AT + timedelta(minutes=2))
    events = contact.collect_events()

    replayed = replay(events)

    assert replayed.state() == contact.state()
    assert replayed.version == contact.version == len(events)
    assert replayed.applied == contact.applied
    assert replayed.outcomes() == contact.outcomes()
    assert replayed.state()["outcomes"] == {
        "R-RESP-02:1": ("R-RESP-02", False, timedelta(seconds=16)),
        "R-RESP-05:1": ("R-RESP-05", True, timedelta(seconds=90)),
    }


# -- through the handlers ---------------------------------------------------------------


@pytest.fixture
def journey(tmp_path: Path) -> Iterator[Journey]:
    app = JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        }
    )
    yield Journey(app)
    app.close()


def test_contact_opened_stores_the_contact_and_its_own_case(journey: Journey) -> None:
    """R-CH-01, R-CUS-01: a contact opens its own case; identity verified at opening."""
    pending = journey.apply(
        journey.event("contact.opened", opened("ct-1", verified_by="phone"), OPENED_AT)
    )

    assert pending.refusals == []
    contact, case = journey.contact("ct-1"), journey.case("ct-1")
    assert contact.state()["case_ref"] == "ct-1"
    assert contact.state()["verified_by"] == "phone"
    assert contact.opened_at == OPENED_AT
    assert contact.opened_at.utcoffset() == timedelta(hours=8)
    assert case.state()["contact_ids"] == ["ct-1"]
    assert case.customer_id == contact.customer_id == "cust-1"
    assert contact.policy_version == case.policy_version == BASELINE.version
    history: list[Any] = list(journey.app.events.get(Contact.create_id("ct-1")))
    assert [event.source for event in history if is_fact(event)] == [
        SourceRef("src-1", TOPIC, 0, 0)
    ]
    assert journey.app.next_offset(TopicPartition(TOPIC, 0)) == 1


def test_r_resp_01_and_r_pri_02_an_agent_reply_stops_contact_and_case_clocks(
    journey: Journey,
) -> None:
    journey.apply(
        journey.event("contact.opened", opened("ct-1", first_message_id="m-0"), OPENED_AT),
        journey.event(
            "contact.replied",
            {"contact_id": "ct-1", "responder": "agent", "agent_id": "ag-1"},
            OPENED_AT + timedelta(seconds=31),
        ),
    )

    contact, case = journey.contact("ct-1"), journey.case("ct-1")
    assert contact.state()["outcomes"]["R-RESP-01"] == ("R-RESP-01", False, timedelta(seconds=31))
    assert case.state()["outcomes"]["R-PRI-02:0"] == ("R-PRI-02", True, timedelta(seconds=31))
    assert case.first_response_at == OPENED_AT + timedelta(seconds=31)


def test_r_resp_01_a_bot_reply_does_not_answer_the_case(journey: Journey) -> None:
    journey.apply(
        journey.event("contact.opened", opened("ct-1", first_message_id="m-0"), OPENED_AT),
        journey.event(
            "contact.replied",
            {"contact_id": "ct-1", "responder": "bot"},
            OPENED_AT + timedelta(seconds=1),
        ),
    )

    assert journey.case("ct-1").first_response_at is None
    assert "R-PRI-02:0" in journey.case("ct-1").clocks.open
    assert "R-RESP-01" not in journey.contact("ct-1").outcomes()
    assert "R-RESP-01" in journey.contact("ct-1").clocks.called_off


def test_r_cus_01_through_the_handler(journey: Journey) -> None:
    answer = {
        "contact_id": "ct-1",
        "responder": "agent",
        "agent_id": "ag-1",
        "account_specific": True,
    }
    early = journey.event("contact.replied", answer, OPENED_AT + timedelta(seconds=5))
    pending = journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT), early)

    ((refused, error),) = pending.refusals
    assert refused == early[0]
    assert isinstance(error, UnverifiedIdentity)
    assert error.rule == "R-CUS-01"
    assert journey.case("ct-1").first_response_at is None

    pending = journey.apply(
        journey.event(
            "contact.identity_verified",
            {"contact_id": "ct-1", "method": "order_number"},
            OPENED_AT + timedelta(seconds=10),
        ),
        journey.event("contact.replied", answer, OPENED_AT + timedelta(seconds=12)),
    )

    assert pending.refusals == []
    assert journey.contact("ct-1").state()["agent_replies"] == 1
    assert journey.case("ct-1").first_response_at == OPENED_AT + timedelta(seconds=12)


def test_r_resp_02_and_05_through_the_handlers(journey: Journey) -> None:
    asked = OPENED_AT + timedelta(seconds=30)
    promised = asked + timedelta(seconds=40)
    pending = journey.apply(
        journey.event("contact.opened", opened("ct-1"), OPENED_AT),
        journey.event(
            "contact.replied", {"contact_id": "ct-1", "responder": "bot"}, OPENED_AT + SECOND
        ),
        journey.event("contact.handoff_requested", {"contact_id": "ct-1"}, asked),
        journey.event(
            "contact.handed_off",
            {"contact_id": "ct-1", "agent_id": "ag-2"},
            asked + timedelta(seconds=10),
        ),
        journey.event(
            "contact.reply_promised", {"contact_id": "ct-1", "agent_id": "ag-2"}, promised
        ),
        journey.event(
            "contact.replied",
            {"contact_id": "ct-1", "responder": "agent", "agent_id": "ag-2"},
            promised + timedelta(minutes=5, seconds=1),
        ),
        journey.event(
            "contact.closed",
            {"contact_id": "ct-1", "resolved": True},
            promised + timedelta(minutes=6),
        ),
    )

    assert pending.refusals == []
    outcomes = journey.contact("ct-1").state()["outcomes"]
    assert outcomes == {
        "R-RESP-02:1": ("R-RESP-02", True, timedelta(seconds=10)),
        "R-RESP-05:1": ("R-RESP-05", False, timedelta(minutes=5, seconds=1)),
    }
    # The promise was the first answer by a person on the case (R-PRI-02).
    assert journey.case("ct-1").first_response_at == promised
    assert journey.contact("ct-1").state()["status"] == "closed"


def test_r_ch_01_a_contact_on_another_channel_joins_the_named_case(journey: Journey) -> None:
    pending = journey.apply(
        journey.event("contact.opened", opened("ct-1"), OPENED_AT),
        journey.event(
            "contact.opened",
            opened("ct-2", case_id="ct-1"),
            OPENED_AT + timedelta(hours=2),
            channel="phone",
        ),
        journey.event(
            "contact.opened",
            opened("ct-3", case_id="ct-1"),
            OPENED_AT + timedelta(hours=3),
            channel="app",
        ),
    )

    assert pending.refusals == []
    case = journey.case("ct-1")
    assert case.state()["channels"] == ["app", "phone"]
    assert case.state()["contact_ids"] == ["ct-1", "ct-2", "ct-3"]
    assert journey.contact("ct-2").case_ref == journey.contact("ct-3").case_ref == "ct-1"
    assert Case.create_id("ct-2") not in journey.app.repository


def test_r_ch_01_another_customers_contact_naming_the_case_is_refused(journey: Journey) -> None:
    journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT))
    stored = journey.stored()
    intruder = journey.event(
        "contact.opened", opened("ct-2", case_id="ct-1"), OPENED_AT + SECOND, customer_id="cust-2"
    )

    pending = journey.apply(intruder)

    ((refused, error),) = pending.refusals
    assert refused == intruder[0]
    assert isinstance(error, CaseMismatch)
    assert error.rule == "R-CH-01"
    assert journey.stored() == stored
    assert Contact.create_id("ct-2") not in journey.app.repository
    assert journey.case("ct-1").state()["contact_ids"] == ["ct-1"]


def test_contact_opened_naming_an_unknown_case_is_parked_until_it_opens(
    journey: Journey,
) -> None:
    """R-CH-01: a contact can only join a case that exists; one naming a case not known yet
    is parked (nothing applied, the partition moves on) and joins it once it opens."""
    item = journey.event("contact.opened", opened("ct-1", case_id="case-404"), OPENED_AT)

    pending = journey.apply(item, parks=True)

    parked_naming(pending, [item[0]], Case.create_id("case-404"), "case-404")
    assert journey.applied() == 0
    assert Contact.create_id("ct-1") not in journey.app.repository
    assert journey.app.next_offset(TopicPartition(TOPIC, 0)) == 1
    assert waiting_for(journey.app, Case.create_id("case-404")) == [item[1].event_id]

    opening = journey.event("contact.opened", opened("case-404"), OPENED_AT - MINUTE)
    pending = journey.apply(opening)

    assert [w.source for w in pending.released] == [item[0]]
    assert journey.case("case-404").state()["contact_ids"] == ["case-404", "ct-1"]
    assert journey.contact("ct-1").has_applied(item[1].event_id)
    assert waiting_for(journey.app, Case.create_id("case-404")) == []


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("contact.message", {"contact_id": "ct-404", "message_id": "m-1"}),
        ("contact.replied", {"contact_id": "ct-404", "responder": "agent"}),
        ("contact.identity_verified", {"contact_id": "ct-404", "method": "phone"}),
        ("contact.handoff_requested", {"contact_id": "ct-404"}),
        ("contact.handed_off", {"contact_id": "ct-404", "agent_id": "ag-1"}),
        ("contact.reply_promised", {"contact_id": "ct-404"}),
        ("contact.closed", {"contact_id": "ct-404"}),
        ("contact.abandoned", {"contact_id": "ct-404"}),
    ],
)
def test_an_event_for_an_unknown_contact_is_parked_until_it_opens(
    journey: Journey, type_: str, data: dict[str, Any]
) -> None:
    """R-RESP-01..05, R-CUS-01: a contact.* event for no known contact is parked, nothing
    applied; it is applied once the contact opens."""
    item = journey.event(type_, data, OPENED_AT + MINUTE)

    pending = journey.apply(item, parks=True)

    parked_naming(pending, [item[0]], Contact.create_id("ct-404"), "ct-404")
    assert journey.applied() == 0

    pending = journey.apply(journey.event("contact.opened", opened("ct-404"), OPENED_AT))

    assert pending.released_refusals == []
    assert [w.event_id for w in pending.released] == [item[1].event_id]
    assert journey.contact("ct-404").has_applied(item[1].event_id)
    assert waiting_for(journey.app, Contact.create_id("ct-404")) == []


def test_an_event_naming_another_customers_contact_is_refused(journey: Journey) -> None:
    """R-CUS-01: no answers on another customer's contact."""
    journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT))
    stored = journey.stored()

    pending = journey.apply(
        journey.event(
            "contact.replied",
            {"contact_id": "ct-1", "responder": "agent"},
            OPENED_AT + SECOND,
            customer_id="cust-2",
        )
    )

    ((_, error),) = pending.refusals
    assert isinstance(error, NotFound)
    assert journey.stored() == stored


def test_a_late_fact_through_the_handler_is_refused_and_the_rest_stored(
    journey: Journey,
) -> None:
    """R-RESP-01: a fact before the opening is refused; the batch goes on."""
    journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT))
    late = journey.event(
        "contact.message", {"contact_id": "ct-1", "message_id": "m-0"}, OPENED_AT - SECOND
    )

    pending = journey.apply(
        late,
        journey.event(
            "contact.replied",
            {"contact_id": "ct-1", "responder": "agent"},
            OPENED_AT + timedelta(seconds=9),
        ),
    )

    ((refused, error),) = pending.refusals
    assert refused == late[0]
    assert isinstance(error, LateFact)
    assert journey.contact("ct-1").state()["agent_replies"] == 1
    assert not journey.contact("ct-1").has_applied(late[1].event_id)


def test_a_join_before_the_case_opened_is_refused_and_leaves_no_contact(
    journey: Journey,
) -> None:
    """R-CH-01: a refused join leaves nothing behind, whatever the batch boundaries: the
    contact's next event waits for a contact that never opens."""
    journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT))
    applied = journey.applied()
    late_join = journey.event(
        "contact.opened", opened("ct-2", case_id="ct-1"), OPENED_AT - timedelta(minutes=1)
    )
    follow_up = journey.event(
        "contact.message", {"contact_id": "ct-2", "message_id": "m-1"}, OPENED_AT + SECOND
    )

    pending = journey.apply(late_join, follow_up, parks=True)

    assert [(ref, type(error)) for ref, error in pending.refusals] == [(late_join[0], LateFact)]
    assert [(ref, type(error)) for ref, error in pending.parked] == [
        (follow_up[0], MissingPrerequisite)
    ]
    assert Contact.create_id("ct-2") not in journey.app.repository
    assert journey.applied() == applied
    assert journey.case("ct-1").state()["contact_ids"] == ["ct-1"]


def test_the_same_source_event_in_two_batches_has_the_effect_of_once(journey: Journey) -> None:
    """R-RESP-01, R-PRI-02: re-delivered records in later batches change nothing."""
    opening = journey.event("contact.opened", opened("ct-1"), OPENED_AT)
    reply = journey.event(
        "contact.replied",
        {"contact_id": "ct-1", "responder": "agent"},
        OPENED_AT + timedelta(seconds=20),
    )
    journey.apply(opening, reply)
    contact, case, stored = (
        journey.contact("ct-1").state(),
        journey.case("ct-1").state(),
        journey.stored(),
    )

    # The producer retried both records: they arrive again at later offsets, in one batch
    # and then in another.
    again = journey.apply(journey.at_next_offset(opening[1]), journey.at_next_offset(reply[1]))
    once_more = journey.apply(journey.at_next_offset(reply[1]))

    assert again.refusals == once_more.refusals == []
    assert journey.contact("ct-1").state() == contact
    assert journey.case("ct-1").state() == case
    assert journey.stored() == stored
    assert journey.app.next_offset(TopicPartition(TOPIC, 0)) == journey.offset


def test_contact_opened_again_with_a_new_event_id_is_refused(journey: Journey) -> None:
    """R-CH-01: a contact is opened once."""
    journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT))
    stored = journey.stored()

    pending = journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT + SECOND))

    ((_, error),) = pending.refusals
    assert isinstance(error, DomainError)
    assert "ct-1" in str(error)
    assert journey.stored() == stored

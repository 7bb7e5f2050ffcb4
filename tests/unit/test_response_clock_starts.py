"""Issue 14, item 1: each first-response clock starts at the fact its rule counts from, on
event time, with the boundaries one second either side.

- R-RESP-01 (instant messaging): the customer's first message — not the opening of a chat
  the customer has not written in yet.
- R-RESP-02 (a bot answered first): the customer's request for a person — not the bot's
  first answer.
- R-RESP-03 (phone): the ring (the opening of a phone contact), inside working hours.
- R-RESP-04 (store): the visit (the opening of a store contact).

Facts that end a clock may arrive before the fact that starts it (another producer on the
same topic): the outcome is that of event-time order.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.aggregate import LateFact
from domain.clocks import Outcome
from domain.contact import Contact
from domain.policy import BASELINE
from domain.provenance import SourceRef

CHINA = timezone(timedelta(hours=8))
OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA)  # a Monday, inside phone hours
S = timedelta(seconds=1)
WRITES = OPENED + 60 * S
"""The customer's first message, a minute after the chat opened."""
LATER = timedelta(days=1)


class Refs:
    def __init__(self) -> None:
        self.offset = 0

    def __call__(self) -> SourceRef:
        self.offset += 1
        return SourceRef(f"e-{self.offset}", "journey.contacts", 0, self.offset)


@pytest.fixture
def ref() -> Refs:
    return Refs()


def opened(
    ref: Refs, channel: str = "app", at: datetime = OPENED, first_message_id: str | None = None
) -> Contact:
    return Contact.open(
        contact_id="k",
        customer_id="c",
        case_ref="k",
        channel=channel,
        verified_by=None,
        occurred_at=at,
        source=ref(),
        first_message_id=first_message_id,
    )


def message(contact: Contact, ref: Refs, at: datetime) -> None:
    contact.receive_message(message_id=f"m-{ref.offset}", occurred_at=at, source=ref())


def reply(contact: Contact, ref: Refs, at: datetime, responder: str = "agent") -> None:
    contact.reply(
        responder=responder,  # type: ignore[arg-type]
        agent_id="ag-1" if responder == "agent" else None,
        account_specific=False,
        occurred_at=at,
        source=ref(),
    )


def started(contact: Contact) -> list[tuple[str, datetime, datetime]]:
    return [
        (e.key, e.started_at, e.due_at)
        for e in contact.collect_events()
        if isinstance(e, Contact.DeadlineStarted)
    ]


def final(contact: Contact) -> dict[str, Outcome]:
    contact.advance_clock(OPENED + LATER)
    return contact.outcomes()


# -- R-RESP-01: from the customer's first message ----------------------------------------


@pytest.mark.parametrize("channel", ["app", "mini_program", "web"])
def test_r_resp_01_a_chat_opened_before_the_customer_writes_is_no_breach(
    ref: Refs, channel: str
) -> None:
    """R-RESP-01: the issue's case — a chat opened, the customer never wrote, nobody
    answered: no clock, so nothing to breach, however far the watermark goes."""
    contact = opened(ref, channel)

    assert started(contact) == []
    assert final(contact) == {}


@pytest.mark.parametrize("channel", ["app", "mini_program", "web"])
def test_r_resp_01_starts_at_the_customers_first_message(ref: Refs, channel: str) -> None:
    contact = opened(ref, channel)
    contact.collect_events()

    message(contact, ref, WRITES)

    assert started(contact) == [("R-RESP-01", WRITES, WRITES + BASELINE.im_first_reply)]
    assert contact.first_message_at == WRITES


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(-1, None, id="a second before the message: answers nothing"),
        pytest.param(0, (True, 0), id="with the message"),
        pytest.param(1, (True, 1), id="a second after the message"),
        pytest.param(29, (True, 29), id="29 s"),
        pytest.param(30, (True, 30), id="30 s: met"),
        pytest.param(31, (False, 31), id="31 s: breached"),
    ],
)
def test_r_resp_01_an_answer_is_timed_from_the_first_message(
    ref: Refs, after: int, expected: tuple[bool, int] | None
) -> None:
    """R-RESP-01: a person's answer a second before the customer's first message (a
    greeting) answers nothing; from the message on it is timed, 30 s met, 31 s not."""
    contact = opened(ref)
    message(contact, ref, WRITES)

    reply(contact, ref, WRITES + after * S)

    if expected is None:
        assert "R-RESP-01" in contact.clocks.open
        assert final(contact)["R-RESP-01"] == Outcome(
            "R-RESP-01", "R-RESP-01", BASELINE.im_first_reply, False, None
        )
    else:
        result = contact.outcomes()["R-RESP-01"]
        assert (result.met, result.actual) == (expected[0], expected[1] * S)


def test_r_resp_01_a_later_message_does_not_restart_the_clock(ref: Refs) -> None:
    contact = opened(ref)
    message(contact, ref, WRITES)
    message(contact, ref, WRITES + 20 * S)

    reply(contact, ref, WRITES + 31 * S)

    result = contact.outcomes()["R-RESP-01"]
    assert (result.met, result.actual) == (False, 31 * S)


def test_r_resp_01_a_chat_that_opens_with_the_message_starts_at_the_opening(ref: Refs) -> None:
    """R-RESP-01: ``contact.opened`` with ``first_message_id`` is the customer's first
    message: recorded as one, and the clock runs from the opening."""
    contact = opened(ref, first_message_id="m-0")

    assert started(contact) == [("R-RESP-01", OPENED, OPENED + 30 * S)]
    assert contact.first_message_at == OPENED
    reply(contact, ref, OPENED + 30 * S)
    assert contact.outcomes()["R-RESP-01"].met


@pytest.mark.parametrize(
    ("arrived_first", "expected"),
    [
        pytest.param([("agent", 40)], (True, 20), id="the answer"),
        pytest.param([("agent", 19)], None, id="a greeting before the message"),
        pytest.param([("bot", 25), ("agent", 40)], "off", id="a bot's answer"),
        pytest.param([("agent", 30), ("bot", 25)], "off", id="a bot before the person"),
        pytest.param([("bot", 45), ("agent", 30)], (True, 10), id="a person before the bot"),
        pytest.param([("agent", 51)], (False, 31), id="an answer after the target"),
    ],
)
def test_r_resp_01_answers_that_arrive_before_the_message_decide_as_in_event_time(
    ref: Refs, arrived_first: list[tuple[str, int]], expected: object
) -> None:
    """R-RESP-01: the customer's message (20 s after opening) arrives after the answers
    (they come from another system): the clock, started at the message, is decided by
    them at once — met, breached, or called off by a bot's earlier answer (R-RESP-02)."""
    contact = opened(ref)
    for responder, seconds in arrived_first:
        reply(contact, ref, OPENED + seconds * S, responder)
    assert contact.outcomes() == {}

    message(contact, ref, OPENED + 20 * S)

    if expected == "off":
        assert contact.outcomes() == {}
        assert "R-RESP-01" in contact.clocks.called_off
    elif expected is None:
        assert "R-RESP-01" in contact.clocks.open
    else:
        assert isinstance(expected, tuple)
        result = contact.outcomes()["R-RESP-01"]
        assert (result.met, result.actual) == (expected[0], expected[1] * S)


@pytest.mark.parametrize(("left", "breached"), [(50, False), (51, True)])
def test_r_resp_01_a_message_arriving_after_the_customer_left(
    ref: Refs, left: int, breached: bool
) -> None:
    """R-RESP-01: the customer wrote at 20 s and left at 50 s (the due time) or 51 s;
    the message arrives after the abandonment: called off, or breached, as in order."""
    contact = opened(ref)
    contact.abandon(occurred_at=OPENED + left * S, source=ref())

    message(contact, ref, OPENED + 20 * S)

    if breached:
        assert contact.outcomes()["R-RESP-01"] == Outcome(
            "R-RESP-01", "R-RESP-01", 30 * S, False, None
        )
    else:
        assert contact.outcomes() == {}
        assert "R-RESP-01" in contact.clocks.called_off


def test_r_resp_01_a_message_older_than_the_first_one_is_refused(ref: Refs) -> None:
    """R-RESP-01: the clock runs from the customer's first message; an older one arriving
    later would move its start, so it is refused (a second before), not applied; one at
    the same instant is applied and changes nothing."""
    contact = opened(ref)
    message(contact, ref, WRITES)
    contact.collect_events()

    with pytest.raises(LateFact, match="the customer's first message"):
        message(contact, ref, WRITES - S)
    message(contact, ref, WRITES)

    assert [type(e).__name__ for e in contact.collect_events()] == ["MessageReceived"]
    assert contact.first_message_at == WRITES


@pytest.mark.parametrize("channel", ["phone", "store", "email", "social", "marketplace"])
def test_r_resp_01_messages_start_no_clock_off_instant_messaging(ref: Refs, channel: str) -> None:
    """R-RESP-01 is instant messaging only; elsewhere messages come in any order."""
    contact = opened(ref, channel)
    message(contact, ref, WRITES)
    message(contact, ref, WRITES - S)

    assert [key for key, *_ in started(contact)] in ([], ["R-RESP-03"], ["R-RESP-04"])
    assert "R-RESP-01" not in contact.clocks.open


FACTS = st.lists(
    st.tuples(st.sampled_from(["message", "agent", "bot"]), st.integers(0, 120)),
    max_size=7,
    unique_by=lambda fact: fact[1],  # two answers at one instant: arrival order decides
)


def outcome_of(arrivals: list[tuple[str, int]]) -> object:
    ref = Refs()
    contact = opened(ref)
    for kind, seconds in arrivals:
        if kind == "message":
            message(contact, ref, OPENED + seconds * S)
        else:
            reply(contact, ref, OPENED + seconds * S, kind)
    return final(contact), "R-RESP-01" in contact.clocks.called_off


@given(FACTS, st.randoms())
@settings(max_examples=300, deadline=None)
def test_r_resp_01_outcomes_depend_on_event_times_not_arrival_order(
    facts: list[tuple[str, int]], shuffler: random.Random
) -> None:
    """R-RESP-01: the customer's messages (from the chat, in their order) and the answers
    of people and bots (from other systems) arrive interleaved in any way: the outcome is
    that of event-time order."""
    messages = sorted(f for f in facts if f[0] == "message")
    answers = [f for f in facts if f[0] != "message"]
    shuffler.shuffle(answers)
    slots = sorted(shuffler.sample(range(len(facts)), len(messages)))
    arrived: list[tuple[str, int]] = []
    for position in range(len(facts)):
        arrived.append(messages.pop(0) if position in slots else answers.pop())
    in_event_time = sorted(facts, key=lambda f: f[1])

    assert outcome_of(arrived) == outcome_of(in_event_time)


# -- R-RESP-02: from the customer's request for a person ---------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(-1, None, id="a second before the request: no hand-off for it"),
        pytest.param(0, (True, 0), id="with the request"),
        pytest.param(10, (True, 10), id="10 s: met"),
        pytest.param(11, (False, 11), id="11 s: breached"),
    ],
)
def test_r_resp_02_is_timed_from_the_request_not_the_bots_first_answer(
    ref: Refs, after: int, expected: tuple[bool, int] | None
) -> None:
    """R-RESP-02: the bot answered at 2 s; the customer asked for a person two minutes
    later; the hand-off is timed from the request."""
    contact = opened(ref, first_message_id="m-0")
    reply(contact, ref, OPENED + 2 * S, "bot")
    asked = OPENED + 120 * S

    if after < 0:
        contact.hand_off(agent_id="ag-1", occurred_at=asked + after * S, source=ref())
        contact.request_handoff(occurred_at=asked, source=ref())
        assert "R-RESP-02:1" in contact.clocks.open
        return
    contact.request_handoff(occurred_at=asked, source=ref())
    contact.hand_off(agent_id="ag-1", occurred_at=asked + after * S, source=ref())

    assert expected is not None
    result = contact.outcomes()["R-RESP-02:1"]
    assert (result.met, result.actual, result.target) == (
        expected[0],
        expected[1] * S,
        BASELINE.bot_handoff,
    )
    assert "R-RESP-01" not in contact.outcomes()  # the bot answered first


@pytest.mark.parametrize(("after", "met"), [(10, True), (11, False)])
def test_r_resp_02_a_hand_off_that_arrives_before_the_request_decides_at_once(
    ref: Refs, after: int, met: bool
) -> None:
    """R-RESP-02: the hand-off (from the routing system) arrives before the customer's
    request (from the bot): the request's clock is decided by it, as in event time."""
    contact = opened(ref, first_message_id="m-0")
    reply(contact, ref, OPENED + 2 * S, "bot")
    asked = OPENED + 120 * S
    contact.hand_off(agent_id="ag-1", occurred_at=asked + after * S, source=ref())

    contact.request_handoff(occurred_at=asked, source=ref())

    result = contact.outcomes()["R-RESP-02:1"]
    assert (result.met, result.actual) == (met, after * S)


def test_r_resp_02_a_request_arriving_after_the_customer_left_is_called_off(ref: Refs) -> None:
    contact = opened(ref, first_message_id="m-0")
    reply(contact, ref, OPENED + 2 * S, "bot")
    contact.abandon(occurred_at=OPENED + 125 * S, source=ref())

    contact.request_handoff(occurred_at=OPENED + 120 * S, source=ref())

    assert contact.outcomes() == {}
    assert "R-RESP-02:1" in contact.clocks.called_off


# -- R-RESP-03: from the ring, in working hours --------------------------------------------

HOURS = BASELINE.phone_hours
LOCAL = timezone(HOURS.utc_offset)


def local(day: datetime, at: object) -> datetime:
    return datetime.combine(day.date(), at, tzinfo=LOCAL)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ring", "timed"),
    [
        pytest.param(local(OPENED, HOURS.opens) - S, False, id="a second before opening"),
        pytest.param(local(OPENED, HOURS.opens), True, id="at opening"),
        pytest.param(local(OPENED, HOURS.opens) + S, True, id="a second after opening"),
        pytest.param(local(OPENED, HOURS.closes) - S, True, id="a second before closing"),
        pytest.param(local(OPENED, HOURS.closes), False, id="at closing"),
    ],
)
def test_r_resp_03_the_ring_starts_the_clock_in_working_hours(
    ref: Refs, ring: datetime, timed: bool
) -> None:
    """R-RESP-03: a phone contact opens when the call rings; the policy's working hours
    at that instant (opening inclusive, closing exclusive) decide whether it is timed."""
    contact = opened(ref, "phone", at=ring)

    assert started(contact) == ([("R-RESP-03", ring, ring + 15 * S)] if timed else [])


@pytest.mark.parametrize(("after", "met"), [(14, True), (15, True), (16, False)])
def test_r_resp_03_an_answer_is_timed_from_the_ring_whatever_comes_between(
    ref: Refs, after: int, met: bool
) -> None:
    """R-RESP-03: neither the voice menu's (a bot's) answer nor a message moves or stops
    the clock; a person's answer 15 s after the ring meets it, 16 s does not."""
    contact = opened(ref, "phone")
    reply(contact, ref, OPENED + 3 * S, "bot")
    message(contact, ref, OPENED + 5 * S)

    reply(contact, ref, OPENED + after * S)

    result = contact.outcomes()["R-RESP-03"]
    assert (result.met, result.actual) == (met, after * S)


# -- R-RESP-04: from the visit -------------------------------------------------------------


@pytest.mark.parametrize(("after", "met"), [(29, True), (30, True), (31, False)])
def test_r_resp_04_a_greeting_is_timed_from_the_visit(ref: Refs, after: int, met: bool) -> None:
    """R-RESP-04: a store contact opens when the store's device records the visitor; a
    kiosk's (a bot's) greeting is not a person's; a person's at 30 s meets it, 31 s not."""
    contact = opened(ref, "store")
    assert started(contact) == [("R-RESP-04", OPENED, OPENED + 30 * S)]
    reply(contact, ref, OPENED + 2 * S, "bot")

    reply(contact, ref, OPENED + after * S)

    result = contact.outcomes()["R-RESP-04"]
    assert (result.met, result.actual, result.target) == (met, after * S, 30 * S)

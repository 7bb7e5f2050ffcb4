"""SLA clocks on event time (domain/clocks.py) and what every aggregate does with them
(domain/aggregate.py): the watermark, late facts that settle a breach, the what-if replay
under another policy, and the policy version recorded at opening."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.service import JourneyApplication
from domain.aggregate import JourneyAggregate, outcomes_under
from domain.case import Case
from domain.clocks import (
    Breached,
    Cancel,
    Cancelled,
    Clocks,
    Met,
    Outcome,
    Settled,
    Start,
    Started,
    Stop,
)
from domain.contact import Contact
from domain.policy import BASELINE, POLICIES, policy_in_force, policy_named
from domain.provenance import SourceRef

CHINA = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA)
SECOND = timedelta(seconds=1)
TARGET = timedelta(seconds=30)
LATENESS = BASELINE.allowed_lateness
DRAFT = POLICIES["2027.1-draft"]


# -- the clocks alone -------------------------------------------------------------------


def started_clocks(key: str = "k", at: datetime = T0, target: timedelta = TARGET) -> Clocks:
    clocks = Clocks()
    (decision,) = clocks.decide(Start("R-X", key, at, target))
    clocks.apply(decision)
    return clocks


def settle(clocks: Clocks, decisions: Sequence[Any]) -> None:
    for decision in decisions:
        clocks.apply(decision)


def test_start_sets_the_due_time_from_the_event_time() -> None:
    """R-RESP-01 and every SLA rule: the due time is event time plus target."""
    clocks = Clocks()

    decisions = clocks.decide(Start("R-X", "k", T0, TARGET))

    assert decisions == [Started("R-X", "k", T0, T0 + TARGET)]
    assert clocks == Clocks(), "decide computes, apply changes"
    settle(clocks, decisions)
    assert clocks.next_due() == T0 + TARGET
    assert clocks.decide(Start("R-X", "k", T0 + SECOND, TARGET)) == []


def test_stop_exactly_at_the_due_time_is_met_one_second_later_breached() -> None:
    """R-RESP-01 and every SLA rule: exactly at the target is met."""
    clocks = started_clocks()

    assert clocks.decide(Stop("k", T0 + TARGET)) == [Met("R-X", "k", T0 + TARGET, TARGET)]
    assert clocks.decide(Stop("k", T0 + TARGET + SECOND)) == [
        Breached("R-X", "k", T0 + TARGET, TARGET, TARGET + SECOND, "fact")
    ]
    assert clocks.decide(Stop("other", T0)) == []


def test_a_decided_deadline_is_not_started_again() -> None:
    """R-PRI-02: a deadline is decided once."""
    clocks = started_clocks()
    settle(clocks, clocks.decide(Stop("k", T0 + SECOND)))

    assert clocks.decide(Start("R-X", "k", T0 + 2 * SECOND, TARGET)) == []
    assert clocks.outcomes["k"] == Outcome("R-X", "k", TARGET, True, SECOND)
    assert clocks.next_due() is None


def test_cancel_by_the_due_time_is_no_breach_after_it_is_one() -> None:
    """R-RESP-01/R-RESP-02: a cancelled deadline is no breach unless already overdue."""
    clocks = started_clocks()

    assert clocks.decide(Cancel("k", T0 + TARGET, "gone")) == [
        Cancelled("R-X", "k", T0 + TARGET, "gone")
    ]
    assert clocks.decide(Cancel("k", T0 + TARGET + SECOND, "gone")) == [
        Breached("R-X", "k", T0 + TARGET, TARGET, None, "fact")
    ]
    settle(clocks, clocks.decide(Cancel("k", T0, "gone")))
    assert clocks.outcomes == {}
    assert clocks.open == {}


def test_the_watermark_waits_for_the_allowed_lateness() -> None:
    """Every SLA rule (R-RESP-01..): the watermark breaches after due time + lateness."""
    clocks = started_clocks("b", target=2 * TARGET)
    settle(clocks, clocks.decide(Start("R-X", "a", T0, TARGET)))

    assert clocks.on_watermark(T0 + TARGET + LATENESS, LATENESS) == []
    assert clocks.on_watermark(T0 + TARGET + LATENESS + SECOND, LATENESS) == [
        Breached("R-X", "a", T0 + TARGET, TARGET, None, "watermark")
    ]
    assert [d.key for d in clocks.on_watermark(T0 + 2 * TARGET + 2 * LATENESS, LATENESS)] == [
        "a",
        "b",
    ]


@pytest.mark.parametrize(("after", "met"), [(TARGET, True), (TARGET + SECOND, False)])
def test_a_late_stopping_fact_settles_a_watermark_breach(after: timedelta, met: bool) -> None:
    """Every SLA rule (R-RESP-01..): the real duration decides once the fact arrives."""
    clocks = started_clocks()
    settle(clocks, clocks.on_watermark(T0 + TARGET + LATENESS + SECOND, LATENESS))
    assert clocks.outcomes["k"] == Outcome("R-X", "k", TARGET, False, None)

    decisions = clocks.decide(Stop("k", T0 + after))

    assert decisions == [Settled("R-X", "k", T0 + after, after, met)]
    settle(clocks, decisions)
    assert clocks.outcomes["k"] == Outcome("R-X", "k", TARGET, met, after)
    assert clocks.stopped_at["k"] == T0 + after


# -- advance_clock on an aggregate ------------------------------------------------------


class Refs:
    def __init__(self) -> None:
        self.offset = 0

    def __call__(self) -> SourceRef:
        self.offset += 1
        return SourceRef(f"evt-{self.offset}", "journey.contacts", 0, self.offset)


def im_contact(ref: Refs, at: datetime = T0) -> Contact:
    """A chat the customer opens by writing: R-RESP-01 runs from the opening."""
    return Contact.open(
        contact_id="ct-1",
        customer_id="cust-1",
        case_ref="case-1",
        channel="app",
        verified_by=None,
        occurred_at=at,
        source=ref(),
        first_message_id="m-0",
    )


def reply(contact: Contact, ref: Refs, at: datetime, responder: str = "agent") -> None:
    contact.reply(
        responder=responder,  # type: ignore[arg-type]
        agent_id=None,
        account_specific=False,
        occurred_at=at,
        source=ref(),
    )


def test_r_resp_01_the_watermark_breaches_what_no_fact_stopped() -> None:
    ref = Refs()
    contact = im_contact(ref)
    contact.collect_events()

    contact.advance_clock(T0 + TARGET + LATENESS)
    assert contact.collect_events() == []
    contact.advance_clock(T0 + TARGET + LATENESS + SECOND)

    (breach,) = contact.collect_events()
    assert isinstance(breach, Contact.DeadlineBreached)
    assert (breach.rule, breach.due_at, breach.actual, breach.detected_by) == (
        "R-RESP-01",
        T0 + TARGET,
        None,
        "watermark",
    )
    assert contact.outcomes()["R-RESP-01"] == Outcome("R-RESP-01", "R-RESP-01", TARGET, False, None)


@pytest.mark.parametrize(("after", "met"), [(TARGET, True), (TARGET + SECOND, False)])
def test_r_resp_01_a_later_reply_with_an_earlier_time_settles_the_breach(
    after: timedelta, met: bool
) -> None:
    ref = Refs()
    contact = im_contact(ref)
    contact.advance_clock(T0 + timedelta(hours=1))
    contact.collect_events()

    reply(contact, ref, T0 + after)

    settled = [e for e in contact.collect_events() if isinstance(e, Contact.DeadlineSettled)]
    assert [(e.rule, e.actual, e.within_target) for e in settled] == [("R-RESP-01", after, met)]
    assert contact.outcomes()["R-RESP-01"] == Outcome("R-RESP-01", "R-RESP-01", TARGET, met, after)


# Contact facts as (kind, seconds after the previous fact), applied in event-time order.
CONTACT_FACTS = st.lists(
    st.tuples(
        st.sampled_from(["agent", "promise", "handoff_requested", "handed_off", "message"]),
        st.integers(min_value=0, max_value=400),
    ),
    max_size=8,
)


def apply_contact_fact(contact: Contact, ref: Refs, kind: str, at: datetime) -> None:
    if kind == "agent":
        reply(contact, ref, at)
    elif kind == "promise":
        contact.promise_reply(agent_id="ag-1", occurred_at=at, source=ref())
    elif kind == "handoff_requested":
        contact.request_handoff(occurred_at=at, source=ref())
    elif kind == "handed_off":
        contact.hand_off(agent_id="ag-1", occurred_at=at, source=ref())
    else:
        contact.receive_message(message_id=f"m-{ref.offset}", occurred_at=at, source=ref())


def final_outcomes(aggregate: JourneyAggregate, horizon: datetime) -> dict[str, Outcome]:
    aggregate.advance_clock(horizon)
    return aggregate.outcomes()


@settings(max_examples=150, deadline=None)
@given(facts=CONTACT_FACTS, data=st.data())
def test_r_resp_outcomes_do_not_depend_on_when_the_watermark_passed(
    facts: list[tuple[str, int]], data: st.DataObject
) -> None:
    """Stopping facts give the same final outcomes whether or not a watermark (the latest
    event time seen, or the wall clock) breached their deadline before they arrived."""
    plain_ref, watched_ref = Refs(), Refs()
    plain, watched = im_contact(plain_ref), im_contact(watched_ref)
    at = T0
    for kind, gap in facts:
        at += timedelta(seconds=gap)
        ahead = data.draw(st.none() | st.integers(0, 3600), label="watermark ahead (s)")
        if ahead is not None:
            watched.advance_clock(at + timedelta(seconds=ahead))
        apply_contact_fact(plain, plain_ref, kind, at)
        apply_contact_fact(watched, watched_ref, kind, at)
    horizon = at + timedelta(days=1)

    assert final_outcomes(watched, horizon) == final_outcomes(plain, horizon)


@settings(max_examples=75, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 30 * 3600), max_size=5),
    resolve_after=st.none() | st.integers(0, 30 * 3600),
    urgent=st.booleans(),
    data=st.data(),
)
def test_r_cmp_03_outcomes_do_not_depend_on_when_the_watermark_passed(
    gaps: list[int], resolve_after: int | None, urgent: bool, data: st.DataObject
) -> None:
    def new_case(ref: Refs) -> Case:
        case = Case.open(
            case_ref="case-1",
            customer_id="cust-1",
            contact_id="ct-1",
            channel="web",
            classification="urgent" if urgent else "complaint",
            topic="after_sales",
            occurred_at=T0,
            source=ref(),
        )
        case.assign_owner(
            owner="ag-1",
            due_at=T0 + timedelta(hours=40),
            acceptance_criteria="fixed",
            occurred_at=T0,
            source=ref(),
        )
        case.offer_options(options=["fix"], occurred_at=T0, source=ref())
        return case

    plain_ref, watched_ref = Refs(), Refs()
    plain, watched = new_case(plain_ref), new_case(watched_ref)
    steps: list[tuple[str, int]] = [("update", gap) for gap in gaps]
    if resolve_after is not None:
        steps.append(("resolve", resolve_after))
    at = T0
    for kind, gap in steps:
        at += timedelta(seconds=gap)
        ahead = data.draw(st.none() | st.integers(0, 48 * 3600), label="watermark ahead (s)")
        if ahead is not None:
            watched.advance_clock(at + timedelta(seconds=ahead))
        for case, ref in ((plain, plain_ref), (watched, watched_ref)):
            if kind == "update":
                case.send_progress_update(occurred_at=at, source=ref())
            else:
                case.resolve(option="fix", summary=None, occurred_at=at, source=ref())
    horizon = at + timedelta(days=3)

    assert final_outcomes(watched, horizon) == final_outcomes(plain, horizon)


@pytest.mark.parametrize("cancelling", ["abandoned", "bot_first"])
def test_r_resp_01_a_late_cancelling_fact_gives_the_same_outcome_as_in_order(
    cancelling: str,
) -> None:
    plain_ref, watched_ref = Refs(), Refs()
    plain, watched = im_contact(plain_ref), im_contact(watched_ref)
    watched.advance_clock(T0 + TARGET + LATENESS + SECOND)
    assert not watched.outcomes()["R-RESP-01"].met

    for contact, ref in ((plain, plain_ref), (watched, watched_ref)):
        if cancelling == "abandoned":
            contact.abandon(occurred_at=T0 + 10 * SECOND, source=ref())
        else:
            reply(contact, ref, T0 + 10 * SECOND, responder="bot")
    horizon = T0 + timedelta(days=1)

    assert final_outcomes(plain, horizon) == {}
    assert final_outcomes(watched, horizon) == final_outcomes(plain, horizon)


# -- what-if: outcomes_under another policy ---------------------------------------------


def stored_events(app: JourneyApplication, aggregate: JourneyAggregate) -> list[Any]:
    return list(app.events.get(aggregate.id))


def as_values(events: Sequence[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(type(e).__qualname__, dict(vars(e))) for e in events]


def test_r_resp_01_what_if_the_draft_policy_had_been_in_force(app: JourneyApplication) -> None:
    """An IM reply at 25 s meets the baseline (30 s) and breaches the draft (20 s); the
    stored events are only read."""
    assert (BASELINE.im_first_reply, DRAFT.im_first_reply) == (TARGET, timedelta(seconds=20))
    ref = Refs()
    contact = im_contact(ref)
    reply(contact, ref, T0 + timedelta(seconds=25))
    app.save(contact)
    events = stored_events(app, contact)
    before = as_values(events)
    stored = app.process_recorder.max_notification_id()

    under_draft = outcomes_under(events, DRAFT)

    assert under_draft["R-RESP-01"] == Outcome(
        "R-RESP-01", "R-RESP-01", timedelta(seconds=20), False, timedelta(seconds=25)
    )
    assert outcomes_under(events, BASELINE) == contact.outcomes()
    assert contact.outcomes()["R-RESP-01"].met
    assert as_values(events) == before
    assert as_values(stored_events(app, contact)) == before
    assert app.process_recorder.max_notification_id() == stored
    loaded: object = app.repository.get(contact.id)
    assert isinstance(loaded, Contact)
    assert loaded.outcomes() == contact.outcomes()
    assert loaded.policy_version == BASELINE.version


def test_r_cmp_03_what_if_progress_updates_were_due_every_12_h() -> None:
    ref = Refs()
    case = Case.open(
        case_ref="case-1",
        customer_id="cust-1",
        contact_id="ct-1",
        channel="web",
        classification="complaint",
        topic="order",
        occurred_at=T0,
        source=ref(),
    )
    updated = T0 + timedelta(hours=20)
    case.send_progress_update(occurred_at=updated, source=ref())
    events = case.collect_events()

    under_draft = outcomes_under(events, DRAFT)

    assert case.outcomes()["R-CMP-03:1"].met
    assert under_draft["R-CMP-03:1"] == Outcome(
        "R-CMP-03", "R-CMP-03:1", timedelta(hours=12), False, timedelta(hours=20)
    )
    # As of its latest fact, like the live case with the watermark there (R-PRI-02 overdue).
    assert outcomes_under(events, BASELINE) == final_outcomes(case, updated)
    assert not under_draft["R-PRI-02:0"].met


def test_what_if_as_of_a_time_breaches_only_what_was_overdue_by_then() -> None:
    """R-CH-02, R-RESP-01: a what-if as of a time."""
    ref = Refs()
    contact = im_contact(ref)
    events = contact.collect_events()
    due = T0 + DRAFT.im_first_reply

    assert outcomes_under(events, DRAFT, as_of=due + DRAFT.allowed_lateness) == {}
    assert outcomes_under(events, DRAFT, as_of=due + DRAFT.allowed_lateness + SECOND) == {
        "R-RESP-01": Outcome("R-RESP-01", "R-RESP-01", DRAFT.im_first_reply, False, None)
    }
    assert outcomes_under(events, DRAFT) == {}  # as of its latest fact, the opening
    assert outcomes_under([], DRAFT) == {}


# -- the policy in force at opening -----------------------------------------------------


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(T0, id="baseline"),
        pytest.param(datetime(2025, 6, 1, tzinfo=UTC), id="before-any-policy"),
        pytest.param(DRAFT.effective_from - SECOND, id="second-before-the-draft"),
        pytest.param(DRAFT.effective_from.astimezone(CHINA), id="draft-at-+08:00"),
        pytest.param(DRAFT.effective_from + timedelta(days=1), id="draft"),
    ],
)
def test_the_policy_recorded_is_the_one_in_force_at_opening(at: datetime) -> None:
    """R-CH-02, R-RESP-01: the version in force at opening is recorded and used."""
    ref = Refs()
    policy = policy_in_force(at)
    contact = im_contact(ref, at)
    reply(contact, ref, at + timedelta(seconds=25))

    events = contact.collect_events()

    assert contact.policy_version == policy.version
    assert events[0].policy_version == policy.version  # type: ignore[attr-defined]
    started = [e for e in events if isinstance(e, Contact.DeadlineStarted)]
    assert [(e.policy_version, e.due_at - e.started_at) for e in started] == [
        (policy.version, policy.im_first_reply)
    ]
    assert contact.outcomes()["R-RESP-01"].met is (policy.im_first_reply >= timedelta(seconds=25))
    assert policy_named(contact.policy_version) is policy


def test_the_draft_applies_from_its_effective_time() -> None:
    """R-CH-02: policy versions take effect at their effective time."""
    assert policy_in_force(DRAFT.effective_from) is DRAFT
    assert policy_in_force(DRAFT.effective_from - SECOND) is BASELINE
    assert policy_in_force(BASELINE.effective_from - SECOND) is BASELINE


def test_later_facts_keep_the_policy_of_the_opening() -> None:
    """R-CH-02, R-RESP-01: a contact opened under the baseline keeps its 30 s target
    even when its reply happens after the draft took effect."""
    ref = Refs()
    opened = DRAFT.effective_from - timedelta(seconds=10)
    contact = im_contact(ref, opened)

    reply(contact, ref, opened + timedelta(seconds=25))

    assert contact.policy_version == BASELINE.version
    assert contact.outcomes()["R-RESP-01"] == Outcome(
        "R-RESP-01", "R-RESP-01", TARGET, True, timedelta(seconds=25)
    )


def test_the_baseline_holds_the_sop_targets() -> None:
    """R-CH-02: one configuration holds every target of SOP_RULES.md."""
    assert BASELINE.im_first_reply == timedelta(seconds=30)  # R-RESP-01
    assert BASELINE.bot_handoff == timedelta(seconds=10)  # R-RESP-02
    assert BASELINE.phone_answer == timedelta(seconds=15)  # R-RESP-03
    assert BASELINE.store_greeting == timedelta(seconds=30)  # R-RESP-04
    assert BASELINE.promised_reply_max == timedelta(minutes=5)  # R-RESP-05
    assert dict(BASELINE.response_by_priority) == {
        "urgent": timedelta(minutes=30),
        "important": timedelta(hours=2),
        "general": timedelta(hours=24),
    }  # R-PRI-02
    assert (BASELINE.after_sales_quality, BASELINE.after_sales_general) == (
        timedelta(minutes=15),
        timedelta(hours=1),
    )  # R-PRI-03
    assert (BASELINE.options_min, BASELINE.options_max) == (1, 3)  # R-CMP-01
    assert (BASELINE.progress_update, BASELINE.progress_update_urgent) == (
        timedelta(hours=24),
        timedelta(hours=4),
    )  # R-CMP-03
    assert (BASELINE.supervisor_takeover, BASELINE.major_solution) == (
        timedelta(hours=1),
        timedelta(hours=24),
    )  # R-CMP-05
    assert BASELINE.survey_after_resolution == timedelta(hours=24)  # R-SAT-01

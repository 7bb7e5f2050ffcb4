"""Surveys (R-SAT-01..03): sent within 24 h of a case's resolution, answered once with
scores 1-5 and NPS 0-10, a supervisor within 1 h after a low score or dissatisfaction,
a thank-you for a top overall score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import reduce
from typing import Any

import pytest

from application.handlers.base import MissingPrerequisite
from application.service import JourneyApplication
from contracts.envelope import InvalidEvent, SourceEvent
from contracts.schemas import engagement
from domain.aggregate import LateFact, outcomes_under
from domain.case import Case, CaseRuleViolated
from domain.errors import NotFound
from domain.policy import BASELINE, policy_in_force
from domain.provenance import SourceRef
from domain.survey import ScoreOutOfRange, Survey, SurveyExists, SurveyRuleViolated
from tests.unit.feeding import Feed, source
from tests.unit.parking_checks import journey_events, waiting_for

TZ = timezone(timedelta(hours=8))
OPENED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
RESOLVED_AT = OPENED_AT + timedelta(hours=5)
SENT_AT = RESOLVED_AT + timedelta(hours=2)
ANSWERED_AT = SENT_AT + timedelta(hours=3)
SECOND = timedelta(seconds=1)
POLICY = policy_in_force(OPENED_AT)

HIGH = {"attitude": 5, "efficiency": 5, "solution": 5, "overall": 5}


def ref(event_id: str, offset: int = 0) -> SourceRef:
    return SourceRef(event_id=event_id, topic="journey.engagement", partition=0, offset=offset)


def resolved_case(case_ref: str = "case-1", resolved_at: datetime = RESOLVED_AT) -> Case:
    """Open a case, assign its owner, offer options and resolve it (R-CMP-01/02)."""
    case = Case.open(
        case_ref=case_ref,
        customer_id="cust-1",
        contact_id=case_ref,
        channel="app",
        classification="complaint",
        topic="order",
        occurred_at=OPENED_AT,
        source=ref("c-open"),
    )
    case.assign_owner(
        owner="ag-1",
        due_at=OPENED_AT + timedelta(days=2),
        acceptance_criteria="replacement delivered",
        occurred_at=OPENED_AT + timedelta(minutes=10),
        source=ref("c-owner"),
    )
    case.offer_options(
        options=["replace", "refund"],
        occurred_at=OPENED_AT + timedelta(minutes=20),
        source=ref("c-options"),
    )
    case.resolve(option="replace", summary=None, occurred_at=resolved_at, source=ref("c-resolve"))
    return case


def sent_survey(survey_id: str = "sv-1") -> Survey:
    return Survey.send(
        survey_id=survey_id,
        customer_id="cust-1",
        case_ref="case-1",
        occurred_at=SENT_AT,
        source=ref("s-sent"),
    )


def answer(
    survey: Survey,
    event_id: str = "s-answer",
    at: datetime = ANSWERED_AT,
    nps: int | None = None,
    dissatisfied: bool = False,
    given: dict[str, int] | None = None,
    **scores: int,
) -> None:
    survey.answer(
        **{**HIGH, **(given or {}), **scores},
        nps=nps,
        comment=None,
        dissatisfied=dissatisfied,
        occurred_at=at,
        source=ref(event_id),
    )


def started(aggregate: Any, rule: str) -> list[Any]:
    return [
        e
        for e in aggregate.pending_events
        if isinstance(e, Survey.DeadlineStarted | Case.DeadlineStarted) and e.rule == rule
    ]


def replay(events: Sequence[Any]) -> Any:
    return reduce(lambda aggregate, event: event.mutate(aggregate), events, None)


# -- R-SAT-01: sent within 24 h of the resolution -----------------------------------------


def test_r_sat_01_resolution_starts_a_24_hour_survey_clock() -> None:
    case = resolved_case()

    (start,) = started(case, "R-SAT-01")
    assert POLICY.survey_after_resolution == timedelta(hours=24)
    assert start.started_at == RESOLVED_AT
    assert start.due_at == RESOLVED_AT + POLICY.survey_after_resolution


@pytest.mark.parametrize(
    ("after", "met"),
    [
        pytest.param(BASELINE.survey_after_resolution, True, id="exactly-24h-met"),
        pytest.param(BASELINE.survey_after_resolution + SECOND, False, id="24h+1s-breached"),
    ],
)
def test_r_sat_01_survey_sent_at_the_boundary(after: timedelta, met: bool) -> None:
    """R-SAT-01: a survey exactly 24 h after the resolution is in time; 1 s later is not."""
    case = resolved_case()
    at = RESOLVED_AT + after

    case.survey_sent(survey_id="sv-1", occurred_at=at, source=ref("s-sent"))

    (outcome,) = (o for o in case.outcomes().values() if o.rule == "R-SAT-01")
    assert outcome.met is met
    assert outcome.actual == after
    assert case.surveys == ["sv-1"]


def test_r_sat_01_watermark_breaches_an_unsent_survey_and_a_late_fact_settles_it() -> None:
    """R-SAT-01: no survey by due + allowed lateness → breached by the watermark; the
    survey's record arriving afterwards with an in-time occurred_at settles it as met."""
    case = resolved_case()
    due = RESOLVED_AT + POLICY.survey_after_resolution

    case.advance_clock(due + POLICY.allowed_lateness)
    assert not [o for o in case.outcomes().values() if o.rule == "R-SAT-01"]

    case.advance_clock(due + POLICY.allowed_lateness + SECOND)
    (breached,) = (o for o in case.outcomes().values() if o.rule == "R-SAT-01")
    assert (breached.met, breached.actual) == (False, None)

    case.survey_sent(survey_id="sv-1", occurred_at=due, source=ref("s-late-record"))
    (settled,) = (o for o in case.outcomes().values() if o.rule == "R-SAT-01")
    assert (settled.met, settled.actual) == (True, POLICY.survey_after_resolution)
    assert isinstance(case.pending_events[-1], Case.DeadlineSettled)


def test_r_sat_01_survey_for_an_unresolved_case_is_refused() -> None:
    case = Case.open(
        case_ref="case-2",
        customer_id="cust-1",
        contact_id="case-2",
        channel="app",
        classification="complaint",
        topic="order",
        occurred_at=OPENED_AT,
        source=ref("c-open"),
    )
    before = len(case.pending_events)

    with pytest.raises(CaseRuleViolated) as caught:
        case.survey_sent(survey_id="sv-1", occurred_at=SENT_AT, source=ref("s-sent"))

    assert caught.value.rule == "R-SAT-01"
    assert len(case.pending_events) == before


def test_survey_is_sent_with_its_case_and_policy() -> None:
    survey = sent_survey()

    assert survey.id == Survey.create_id("sv-1")
    (sent,) = survey.collect_events()
    assert isinstance(sent, Survey.Sent)
    assert sent.source == ref("s-sent")
    assert survey.state()["case_ref"] == "case-1"
    assert survey.state()["answered_at"] is None
    assert survey.policy_version == POLICY.version
    assert survey.outcomes() == {}


# -- R-SAT-01: scores 1-5, NPS 0-10, answered once after sending ----------------------------


@pytest.mark.parametrize("field", ["attitude", "efficiency", "solution", "overall"])
@pytest.mark.parametrize("value", [0, 6, -1, 100])
def test_r_sat_01_domain_refuses_a_score_outside_1_to_5(field: str, value: int) -> None:
    survey = sent_survey()
    survey.collect_events()

    with pytest.raises(ScoreOutOfRange) as caught:
        answer(survey, given={field: value})

    assert caught.value.rule == "R-SAT-01"
    assert "R-SAT-01" in str(caught.value)
    assert field in str(caught.value)
    assert survey.pending_events == []
    assert survey.answered_at is None


@pytest.mark.parametrize("value", [1, 5])
def test_r_sat_01_scores_at_both_ends_of_1_to_5_are_accepted(value: int) -> None:
    survey = sent_survey()
    answer(survey, attitude=value, efficiency=value, solution=value, overall=value)
    assert survey.scores == dict.fromkeys(HIGH, value)


@pytest.mark.parametrize(("nps", "ok"), [(-1, False), (0, True), (10, True), (11, False)])
def test_r_sat_01_nps_is_0_to_10(nps: int, ok: bool) -> None:
    survey = sent_survey()
    if ok:
        answer(survey, nps=nps)
        assert survey.nps == nps
    else:
        with pytest.raises(ScoreOutOfRange) as caught:
            answer(survey, nps=nps)
        assert caught.value.rule == "R-SAT-01"
        assert "NPS" in str(caught.value)
        assert survey.answered_at is None


def test_r_sat_01_a_survey_is_answered_once() -> None:
    survey = sent_survey()
    answer(survey, event_id="s-answer-1", overall=4)
    recorded = len(survey.pending_events)

    with pytest.raises(SurveyRuleViolated) as caught:
        answer(survey, event_id="s-answer-2", overall=2)

    assert caught.value.rule == "R-SAT-01"
    assert len(survey.pending_events) == recorded
    assert survey.scores["overall"] == 4


def test_repeated_answer_event_id_has_no_effect() -> None:
    survey = sent_survey()
    answer(survey, overall=3)
    state = survey.state()
    recorded = len(survey.pending_events)

    answer(survey, overall=3)
    answer(survey, overall=1)  # same event_id, other content: already judged

    assert len(survey.pending_events) == recorded
    assert survey.state() == state


def test_r_sat_01_an_answer_before_the_survey_was_sent_is_refused() -> None:
    survey = sent_survey()
    with pytest.raises(LateFact):
        answer(survey, at=SENT_AT - SECOND)
    assert survey.answered_at is None


# -- R-SAT-02: low score or dissatisfaction → supervisor within 1 h -------------------------


@pytest.mark.parametrize("field", ["attitude", "efficiency", "solution", "overall"])
@pytest.mark.parametrize(("score", "triggers"), [(1, True), (3, True), (4, False), (5, False)])
def test_r_sat_02_a_score_of_3_or_less_starts_the_supervisor_clock(
    field: str, score: int, triggers: bool
) -> None:
    """R-SAT-02: 3 (the policy's threshold) triggers, 4 does not; any of the four scores."""
    survey = sent_survey()
    answer(survey, given={field: score})

    starts = started(survey, "R-SAT-02")
    assert bool(starts) is triggers
    assert survey.follow_up_required is triggers
    if triggers:
        (start,) = starts
        assert POLICY.low_score_threshold == 3
        assert POLICY.low_score_contact == timedelta(hours=1)
        assert start.started_at == ANSWERED_AT
        assert start.due_at == ANSWERED_AT + POLICY.low_score_contact


def test_r_sat_02_explicit_dissatisfaction_triggers_with_high_scores() -> None:
    survey = sent_survey()
    answer(survey, dissatisfied=True)

    (start,) = started(survey, "R-SAT-02")
    assert start.due_at == ANSWERED_AT + POLICY.low_score_contact
    assert survey.follow_up_required


def test_r_sat_02_nps_alone_does_not_trigger() -> None:
    """R-SAT-02 concerns the 1-5 scores; a low NPS (0-10 scale) is not one of them."""
    survey = sent_survey()
    answer(survey, nps=0, overall=4)
    assert started(survey, "R-SAT-02") == []


@pytest.mark.parametrize(
    ("after", "met"),
    [
        pytest.param(BASELINE.low_score_contact, True, id="exactly-1h-met"),
        pytest.param(BASELINE.low_score_contact + SECOND, False, id="1h+1s-breached"),
    ],
)
def test_r_sat_02_follow_up_at_the_boundary(after: timedelta, met: bool) -> None:
    survey = sent_survey()
    answer(survey, solution=2)

    survey.follow_up(supervisor_id="sup-1", occurred_at=ANSWERED_AT + after, source=ref("s-fu"))

    outcome = survey.outcomes()["R-SAT-02"]
    assert (outcome.rule, outcome.met, outcome.actual) == ("R-SAT-02", met, after)
    assert survey.follow_ups == ["sup-1"]


def test_r_sat_02_watermark_breaches_a_missing_follow_up_and_a_late_fact_settles_it() -> None:
    survey = sent_survey()
    answer(survey, overall=1)
    due = ANSWERED_AT + POLICY.low_score_contact

    survey.advance_clock(due + POLICY.allowed_lateness)
    assert survey.outcomes() == {}

    survey.advance_clock(due + POLICY.allowed_lateness + SECOND)
    breached = survey.outcomes()["R-SAT-02"]
    assert (breached.met, breached.actual) == (False, None)
    (event,) = [e for e in survey.pending_events if isinstance(e, Survey.DeadlineBreached)]
    assert event.detected_by == "watermark"

    survey.follow_up(
        supervisor_id="sup-1", occurred_at=due - timedelta(minutes=10), source=ref("s-fu")
    )
    settled = survey.outcomes()["R-SAT-02"]
    assert settled.met is True
    assert settled.actual == POLICY.low_score_contact - timedelta(minutes=10)


def test_r_sat_02_follow_up_before_an_answer_is_refused() -> None:
    survey = sent_survey()
    with pytest.raises(SurveyRuleViolated) as caught:
        survey.follow_up(supervisor_id="sup-1", occurred_at=ANSWERED_AT, source=ref("s-fu"))
    assert caught.value.rule == "R-SAT-02"
    assert survey.follow_ups == []


def test_r_sat_02_threshold_comes_from_the_policy() -> None:
    """What-if: under a policy whose threshold is 4, a 4 would have called a supervisor."""
    survey = sent_survey()
    answer(survey, efficiency=4)
    events = survey.collect_events()
    assert survey.outcomes() == {}

    stricter = replace(BASELINE, version="what-if", low_score_threshold=4)
    outcomes = outcomes_under(events, stricter, as_of=ANSWERED_AT + timedelta(hours=2))

    assert outcomes["R-SAT-02"].met is False
    assert outcomes_under(events, BASELINE, as_of=ANSWERED_AT + timedelta(hours=2)) == {}


# -- R-SAT-03: a 5 triggers a thank-you -------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "dissatisfied", "thanked"),
    [
        pytest.param({"overall": 5}, False, True, id="overall-5"),
        pytest.param({"overall": 4}, False, False, id="overall-4"),
        pytest.param({"overall": 4, "attitude": 5}, False, False, id="other-5-only"),
        pytest.param({"overall": 5}, True, False, id="overall-5-but-dissatisfied"),
    ],
)
def test_r_sat_03_thank_you_only_on_an_overall_5(
    scores: dict[str, int], dissatisfied: bool, thanked: bool
) -> None:
    survey = sent_survey()
    survey.collect_events()
    answer(survey, dissatisfied=dissatisfied, given=scores)

    thanks = [e for e in survey.pending_events if isinstance(e, Survey.ThankYouTriggered)]
    assert len(thanks) == int(thanked)
    assert survey.state()["thanked"] is thanked
    if thanked:
        assert thanks[0].occurred_at == ANSWERED_AT
        assert thanks[0].source == ref("s-answer")


def test_replay_of_a_survey_equals_the_original() -> None:
    survey = sent_survey()
    answer(survey, overall=5, efficiency=2, nps=9)
    survey.follow_up(
        supervisor_id="sup-1", occurred_at=ANSWERED_AT + timedelta(minutes=30), source=ref("fu")
    )
    events = survey.collect_events()

    replayed = replay(events)

    assert isinstance(replayed, Survey)
    assert replayed.state() == survey.state()
    assert replayed.has_applied("fu")


# -- through the application ------------------------------------------------------------------


def case_events(case_id: str, resolve: bool = True) -> list[SourceEvent]:
    events = [
        source(
            "contact.opened",
            {"contact_id": case_id, "classification": "complaint", "topic": "order"},
            OPENED_AT,
            f"{case_id}-opened",
        ),
        source(
            "case.owner_assigned",
            {
                "case_id": case_id,
                "owner": "ag-1",
                "due_at": (OPENED_AT + timedelta(days=2)).isoformat(),
                "acceptance_criteria": "replacement delivered",
            },
            OPENED_AT + timedelta(minutes=10),
            f"{case_id}-owner",
        ),
        source(
            "case.options_offered",
            {"case_id": case_id, "options": ["replace", "refund"]},
            OPENED_AT + timedelta(minutes=20),
            f"{case_id}-options",
        ),
    ]
    if resolve:
        events.append(
            source(
                "case.resolved",
                {"case_id": case_id, "option": "replace"},
                RESOLVED_AT,
                f"{case_id}-resolved",
            )
        )
    return events


def survey_sent_event(
    survey_id: str = "sv-1",
    case_id: str = "case-1",
    at: datetime = SENT_AT,
    event_id: str = "sv-sent",
    customer_id: str = "cust-1",
) -> SourceEvent:
    return source(
        "survey.sent", {"survey_id": survey_id, "case_id": case_id}, at, event_id, customer_id
    )


def load_survey(app: JourneyApplication, survey_id: str = "sv-1") -> Survey:
    survey: object = app.repository.get(Survey.create_id(survey_id))
    assert isinstance(survey, Survey)
    return survey


def load_case(app: JourneyApplication, case_id: str = "case-1") -> Case:
    case: object = app.repository.get(Case.create_id(case_id))
    assert isinstance(case, Case)
    return case


@pytest.mark.parametrize(
    ("after", "met"),
    [
        pytest.param(BASELINE.survey_after_resolution, True, id="exactly-24h-met"),
        pytest.param(BASELINE.survey_after_resolution + SECOND, False, id="24h+1s-breached"),
    ],
)
def test_r_sat_01_survey_sent_through_the_handler_stops_the_case_clock(
    app: JourneyApplication, after: timedelta, met: bool
) -> None:
    feed = Feed(app)
    assert feed(*case_events("case-1")) == []

    assert feed(survey_sent_event(at=RESOLVED_AT + after)) == []

    survey = load_survey(app)
    assert (survey.customer_id, survey.case_ref) == ("cust-1", "case-1")
    case = load_case(app)
    assert case.surveys == ["sv-1"]
    (outcome,) = (o for o in case.outcomes().values() if o.rule == "R-SAT-01")
    assert (outcome.met, outcome.actual) == (met, after)


def test_survey_flow_through_the_handlers(app: JourneyApplication) -> None:
    """R-SAT-02/03 through the application: a low score starts the supervisor clock, the
    follow-up stops it; stored events carry their source records."""
    feed = Feed(app)
    feed(*case_events("case-1"))
    answered = source(
        "survey.answered",
        {"survey_id": "sv-1", "attitude": 5, "efficiency": 3, "solution": 5, "overall": 5},
        ANSWERED_AT,
        "sv-answered",
    )
    followed = source(
        "survey.followed_up",
        {"survey_id": "sv-1", "supervisor_id": "sup-3"},
        ANSWERED_AT + timedelta(minutes=40),
        "sv-followed",
        channel="phone",
    )

    assert feed(survey_sent_event(), answered, followed) == []

    survey = load_survey(app)
    assert survey.scores == {"attitude": 5, "efficiency": 3, "solution": 5, "overall": 5}
    assert survey.thanked_at == ANSWERED_AT  # R-SAT-03
    outcome = survey.outcomes()["R-SAT-02"]
    assert (outcome.met, outcome.actual) == (True, timedelta(minutes=40))
    history = list(app.events.get(Survey.create_id("sv-1")))
    facts: list[Any] = [e for e in history if hasattr(e, "source")]
    assert [e.source.event_id for e in facts] == [
        "sv-sent",
        "sv-answered",
        "sv-answered",
        "sv-followed",
    ]
    assert [type(e) for e in facts] == [
        Survey.Sent,
        Survey.Answered,
        Survey.ThankYouTriggered,
        Survey.FollowedUp,
    ]


def test_unknown_case_is_parked_not_refused(app: JourneyApplication) -> None:
    """A survey of a case not known yet waits for the case; nothing is applied."""
    pending = Feed(app).batch(survey_sent_event(case_id="case-nowhere"))

    ((parked, error),) = pending.parked
    assert pending.refusals == []
    assert parked.event_id == "sv-sent"
    assert isinstance(error, MissingPrerequisite)
    assert error.aggregate_id == Case.create_id("case-nowhere")
    assert "case-nowhere" in str(error)
    assert Survey.create_id("sv-1") not in app.repository
    assert journey_events(app) == 0
    assert waiting_for(app, Case.create_id("case-nowhere")) == ["sv-sent"]


def test_case_of_another_customer_is_refused(app: JourneyApplication) -> None:
    feed = Feed(app)
    feed(*case_events("case-1"))

    ((_, error),) = feed(survey_sent_event(customer_id="cust-2"))

    assert isinstance(error, NotFound)
    assert "case-1" in str(error)
    assert Survey.create_id("sv-1") not in app.repository


def test_r_sat_01_survey_for_an_unresolved_case_waits_for_the_resolution(
    app: JourneyApplication,
) -> None:
    """R-SAT-01: a survey follows a resolution. One for a case not resolved yet waits for
    it (surveys and cases come on different topics), with nothing stored of either, and
    is sent, stopping the survey clock, once the resolution comes."""
    feed = Feed(app)
    feed(*case_events("case-1", resolve=False))
    version = load_case(app).version

    pending = feed.batch(survey_sent_event())

    ((parked, error),) = pending.parked
    assert pending.refusals == []
    assert parked.event_id == "sv-sent"
    assert isinstance(error, MissingPrerequisite)
    assert error.aggregate_id == Case.create_id("case-1")
    assert str(error) == "case 'case-1' is not resolved yet"
    assert Survey.create_id("sv-1") not in app.repository
    assert load_case(app).version == version
    assert load_case(app).surveys == []

    (resolution,) = [e for e in case_events("case-1") if e.type == "case.resolved"]
    pending = feed.batch(resolution)

    assert [w.event_id for w in pending.released] == ["sv-sent"]
    assert load_case(app).surveys == ["sv-1"]
    (outcome,) = (o for o in load_case(app).outcomes().values() if o.rule == "R-SAT-01")
    assert (outcome.met, outcome.actual) == (True, SENT_AT - RESOLVED_AT)


def test_r_sat_01_a_survey_sent_before_the_resolution_is_refused_once_it_comes(
    app: JourneyApplication,
) -> None:
    feed = Feed(app)
    feed(*case_events("case-1", resolve=False))
    feed.batch(survey_sent_event(at=RESOLVED_AT - SECOND))
    (resolution,) = [e for e in case_events("case-1") if e.type == "case.resolved"]

    pending = feed.batch(resolution)

    (refusal,) = pending.released_refusals
    assert refusal.waiting.event_id == "sv-sent"
    assert refusal.reason.startswith("R-SAT-01: sent at")
    assert "before the case's first resolution" in refusal.reason
    assert Survey.create_id("sv-1") not in app.repository
    assert load_case(app).surveys == []


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("survey.answered", {"survey_id": "sv-x", **HIGH}),
        ("survey.followed_up", {"survey_id": "sv-x", "supervisor_id": "sup-1"}),
    ],
)
def test_unknown_survey_is_parked_until_it_is_sent(
    app: JourneyApplication, event_type: str, data: dict[str, Any]
) -> None:
    """An answer or follow-up of a survey not known yet waits for the survey's sending and
    is applied right after it, as if it had come after it."""
    feed = Feed(app)
    feed(*case_events("case-1"))
    pending = feed.batch(source(event_type, data, ANSWERED_AT, "e-unknown"))

    ((parked, error),) = pending.parked
    assert pending.refusals == []
    assert parked.event_id == "e-unknown"
    assert isinstance(error, MissingPrerequisite)
    assert error.aggregate_id == Survey.create_id("sv-x")
    assert "sv-x" in str(error)
    assert Survey.create_id("sv-x") not in app.repository

    pending = feed.batch(survey_sent_event(survey_id="sv-x"))

    released = [w.event_id for w in pending.released]
    refused = [(r.waiting.event_id, r.reason) for r in pending.released_refusals]
    if event_type == "survey.answered":
        assert (released, refused) == (["e-unknown"], [])
        assert load_survey(app, "sv-x").has_applied("e-unknown")
    else:  # a follow-up needs a low answer first (R-SAT-02): refused, as it would be after
        assert released == []
        assert [event_id for event_id, _ in refused] == ["e-unknown"]
        assert "R-SAT-02" in refused[0][1]
    assert waiting_for(app, Survey.create_id("sv-x")) == []


def test_repeated_survey_sent_has_no_effect_and_a_reused_id_is_refused(
    app: JourneyApplication,
) -> None:
    feed = Feed(app)
    feed(*case_events("case-1"), survey_sent_event())
    survey_version = load_survey(app).version
    case_version = load_case(app).version

    assert feed(survey_sent_event()) == []
    ((_, error),) = feed(survey_sent_event(event_id="sv-sent-again"))

    assert isinstance(error, SurveyExists)
    assert "sv-1" in str(error)
    assert load_survey(app).version == survey_version
    assert load_case(app).version == case_version
    assert load_case(app).surveys == ["sv-1"]


def test_repeated_answer_through_the_handler_has_no_effect(app: JourneyApplication) -> None:
    feed = Feed(app)
    answered = source(
        "survey.answered", {"survey_id": "sv-1", **HIGH, "overall": 2}, ANSWERED_AT, "sv-a"
    )
    feed(*case_events("case-1"), survey_sent_event(), answered)
    version = load_survey(app).version

    assert feed(answered) == []
    assert load_survey(app).version == version


# -- schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"overall": 0}, "data.overall", id="overall-0"),
        pytest.param({"attitude": 6}, "data.attitude", id="attitude-6"),
        pytest.param({"solution": "5"}, "data.solution", id="score-as-text"),
        pytest.param({"efficiency": ...}, "data.efficiency", id="score-missing"),
        pytest.param({"nps": 11}, "data.nps", id="nps-11"),
        pytest.param({"nps": -1}, "data.nps", id="nps-minus-1"),
        pytest.param({"dissatisfied": "yes"}, "data.dissatisfied", id="dissatisfied-text"),
        pytest.param({"mood": "fine"}, "data.mood", id="extra-field"),
    ],
)
def test_r_sat_01_schema_refuses_scores_out_of_range(changes: dict[str, Any], field: str) -> None:
    data = dict(engagement.SurveyAnswered.example)
    for name, value in changes.items():
        if value is ...:
            data.pop(name)
        else:
            data[name] = value

    with pytest.raises(InvalidEvent) as caught:
        source("survey.answered", data, ANSWERED_AT, "e-bad")

    assert field in {problem.field for problem in caught.value.problems}


@pytest.mark.parametrize("nps", [0, 10])
def test_r_sat_01_schema_accepts_nps_0_and_10(nps: int) -> None:
    data = {**engagement.SurveyAnswered.example, "nps": nps}
    event = source("survey.answered", data, ANSWERED_AT, "e-nps")
    assert isinstance(event.data, engagement.SurveyAnswered)
    assert event.data.nps == nps
    assert event.data.dissatisfied is False

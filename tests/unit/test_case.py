"""The Case aggregate: one customer problem followed across contacts and channels (R-CH-01),
its response targets (R-PRI-02/03), the complaint rules (R-CMP-01..05, R-CMP-07) and the
start of the survey clock (R-SAT-01); on the aggregate and through the handlers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import reduce
from pathlib import Path
from typing import Any

import pytest

from application.service import JourneyApplication
from domain.aggregate import LateFact, is_fact
from domain.case import Case, CaseMismatch, CaseRuleViolated
from domain.clocks import Outcome
from domain.errors import DomainError, NotFound
from domain.ids import aggregate_id
from domain.policy import BASELINE
from domain.provenance import SourceRef
from tests.builders.apps import make_app
from tests.unit.parking_checks import parked_naming, waiting_for
from tests.unit.through_handlers import Journey, opened

CHINA = timezone(timedelta(hours=8))
OPENED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=CHINA)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


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


def open_case(ref: Refs, at: datetime = OPENED_AT, **changes: Any) -> Case:
    fields: dict[str, Any] = {
        "case_ref": "case-1",
        "customer_id": "cust-1",
        "contact_id": "contact-1",
        "channel": "app",
        "classification": "complaint",
        "topic": "order",
        "store_id": "store-7",
        "agent_group": "after-sales-east",
    }
    fields.update(changes)
    return Case.open(**fields, occurred_at=at, source=ref())


def join(
    case: Case, ref: Refs, channel: str, customer_id: str = "cust-1", event_id: str | None = None
) -> None:
    source = ref(event_id)
    case.join(
        contact_id=f"contact-{source.event_id}",
        customer_id=customer_id,
        channel=channel,
        occurred_at=OPENED_AT + HOUR,
        source=source,
    )


def assign(case: Case, ref: Refs, at: datetime, due: timedelta = timedelta(days=3)) -> None:
    case.assign_owner(
        owner="ag-17",
        due_at=at + due,
        acceptance_criteria="replacement delivered and confirmed",
        occurred_at=at,
        source=ref(),
    )


def offer(case: Case, ref: Refs, at: datetime, options: Sequence[str] = ("replace",)) -> None:
    case.offer_options(options=list(options), occurred_at=at, source=ref())


def resolve(case: Case, ref: Refs, at: datetime, option: str = "replace") -> None:
    case.resolve(option=option, summary="done", occurred_at=at, source=ref())


def ready(case: Case, ref: Refs, at: datetime) -> None:
    """An owner and an offered option: what resolution needs (R-CMP-01, R-CMP-02)."""
    assign(case, ref, at)
    offer(case, ref, at)


def outcome(case: Case, key: str) -> Outcome:
    outcomes = case.outcomes()
    assert key in outcomes, f"no outcome for {key}; outcomes: {sorted(outcomes)}"
    return outcomes[key]


def started(events: Sequence[Any]) -> list[tuple[str, str, datetime, datetime]]:
    return [
        (e.rule, e.key, e.started_at, e.due_at)
        for e in events
        if isinstance(e, Case.DeadlineStarted)
    ]


def refused(rule: str | None, action: Any) -> DomainError:
    """``action`` raises a DomainError naming ``rule``."""
    with pytest.raises(DomainError) as caught:
        action()
    assert caught.value.rule == rule
    if rule is not None:
        assert rule in str(caught.value)
    return caught.value


def replay(events: Sequence[Any]) -> Case:
    case = reduce(lambda aggregate, event: event.mutate(aggregate), events, None)
    assert isinstance(case, Case)
    return case


# -- opening ----------------------------------------------------------------------------


def test_case_is_opened_from_a_contact(ref: Refs) -> None:
    """R-CH-01: a contact opens its own case; the opening starts R-PRI-02 and R-CMP-03."""
    case = open_case(ref)

    assert case.id == Case.create_id("case-1")
    assert case.state() == {
        "id": str(Case.create_id("case-1")),
        "case_ref": "case-1",
        "customer_id": "cust-1",
        "classification": "complaint",
        "topic": "order",
        "priority": "important",
        "store_id": "store-7",
        "agent_group": "after-sales-east",
        "opened_at": "2026-03-02T09:30:00+08:00",
        "channels": ["app"],
        "contact_ids": ["contact-1"],
        "status": "open",
        "owner": None,
        "escalation_level": 1,
        "options_offered": [],
        "option_chosen": None,
        "resolution_option": None,
        "reopen_count": 0,
        "policy_version": BASELINE.version,
        "outcomes": {},
    }
    events = case.collect_events()
    opening = events[0]
    assert isinstance(opening, Case.Opened)
    assert opening.source == SourceRef("evt-1", "journey.contacts", 0, 1)
    assert opening.channel == "app"
    # R-PRI-02 (complaint → important, 2 h) and R-CMP-03 (24 h), from the opening time.
    assert started(events) == [
        ("R-PRI-02", "R-PRI-02:0", OPENED_AT, OPENED_AT + 2 * HOUR),
        ("R-CMP-03", "R-CMP-03:1", OPENED_AT, OPENED_AT + 24 * HOUR),
    ]
    assert [type(e) for e in events] == [Case.Opened, Case.DeadlineStarted, Case.DeadlineStarted]
    assert {e.policy_version for e in events if isinstance(e, Case.DeadlineStarted)} == {
        BASELINE.version
    }
    assert case.version == len(events)
    assert case.has_applied("evt-1")
    assert not case.has_applied("evt-2")


@pytest.mark.parametrize(
    ("classification", "priority"),
    [
        ("urgent", "urgent"),
        ("complaint", "important"),
        ("inquiry", "general"),
        ("service", "general"),
    ],
)
def test_r_pri_02_default_priority_by_classification(
    ref: Refs, classification: str, priority: str
) -> None:
    assert open_case(ref, classification=classification).priority == priority


def test_r_pri_01_unknown_classification_or_topic_is_refused(ref: Refs) -> None:
    refused("R-PRI-01", lambda: open_case(ref, classification="rant"))
    refused("R-PRI-01", lambda: open_case(ref, topic="weather"))
    refused("R-PRI-02", lambda: open_case(ref, priority="whenever"))


def test_ids_are_deterministic(ref: Refs) -> None:
    """R-CH-01: the same case ref names the same case from every channel and replay."""
    assert Case.create_id("x") == Case.create_id("x") == aggregate_id("case", "x")
    assert Case.create_id("x") != Case.create_id("y")
    assert Case.create_id("x") != Case.create_id("X")
    assert aggregate_id("case", "x") != aggregate_id("contact", "x")
    assert open_case(ref, case_ref="x").id == open_case(ref, case_ref="x").id
    assert open_case(ref, case_ref="x").id != open_case(ref, case_ref="y").id


# -- R-CH-01: one case across channels --------------------------------------------------


def test_r_ch_01_contact_on_another_channel_joins_the_same_case(ref: Refs) -> None:
    """R-CH-01: a case opened on one channel continues on another with one history."""
    case = open_case(ref)
    version = case.version
    case.collect_events()

    join(case, ref, channel="phone")
    join(case, ref, channel="app")
    join(case, ref, channel="web")

    assert case.channels == ["app", "phone", "web"]
    assert case.contact_ids == ["contact-1", "contact-evt-2", "contact-evt-3", "contact-evt-4"]
    joined = case.collect_events()
    assert [type(event) for event in joined] == [Case.ContactJoined] * 3
    assert [event.originator_version for event in joined] == [version + 1, version + 2, version + 3]
    assert [event.channel for event in joined] == ["phone", "app", "web"]  # type: ignore[attr-defined]


def test_r_ch_01_contact_from_another_customer_is_refused(ref: Refs) -> None:
    """R-CH-01: one case, one customer; another customer cannot join it."""
    case = open_case(ref)
    case.collect_events()
    before = case.state()

    error = refused("R-CH-01", lambda: join(case, ref, "phone", customer_id="cust-2"))

    assert isinstance(error, CaseMismatch)
    assert "case-1" in str(error)
    assert case.collect_events() == []
    assert case.state() == before
    assert not case.has_applied("evt-2")


# -- R-PRI-02 / R-PRI-03: response targets ----------------------------------------------


@pytest.mark.parametrize(
    ("priority", "target"),
    [("urgent", timedelta(minutes=30)), ("important", 2 * HOUR), ("general", 24 * HOUR)],
)
@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_r_pri_02_response_target_by_priority_at_the_boundary(
    ref: Refs, priority: str, target: timedelta, late: timedelta
) -> None:
    case = open_case(ref, classification="inquiry", priority=priority)

    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + target + late, source=ref())

    result = outcome(case, "R-PRI-02:0")
    assert (result.rule, result.target, result.actual) == ("R-PRI-02", target, target + late)
    assert result.met is (late == timedelta(0))


@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_r_pri_02_priority_change_before_the_first_response_restarts_from_opening(
    ref: Refs, late: timedelta
) -> None:
    case = open_case(ref, classification="inquiry")  # general: 24 h
    case.set_priority(priority="urgent", occurred_at=OPENED_AT + 10 * MINUTE, source=ref())

    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + 30 * MINUTE + late, source=ref())

    events = case.collect_events()
    assert ("R-PRI-02", "R-PRI-02:1", OPENED_AT, OPENED_AT + 30 * MINUTE) in started(events)
    (cancelled,) = [e for e in events if isinstance(e, Case.DeadlineCancelled)]
    assert (cancelled.key, cancelled.at) == ("R-PRI-02:0", OPENED_AT + 10 * MINUTE)
    assert "R-PRI-02:0" not in case.outcomes()
    result = outcome(case, "R-PRI-02:1")
    assert (result.target, result.actual) == (30 * MINUTE, 30 * MINUTE + late)
    assert result.met is (late == timedelta(0))


def test_r_pri_02_priority_change_after_the_first_response_restarts_nothing(ref: Refs) -> None:
    case = open_case(ref, classification="inquiry")
    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + HOUR, source=ref())
    outcomes = case.outcomes()
    case.collect_events()

    case.set_priority(priority="urgent", occurred_at=OPENED_AT + 2 * HOUR, source=ref())

    assert [type(e) for e in case.collect_events()] == [Case.PrioritySet]
    assert case.outcomes() == outcomes
    assert case.priority == "urgent"


def test_r_pri_02_a_later_response_does_not_replace_the_first(ref: Refs) -> None:
    case = open_case(ref, classification="inquiry", priority="urgent")
    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + 20 * MINUTE, source=ref())
    case.collect_events()

    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + HOUR, source=ref())

    assert case.collect_events() == []
    assert case.first_response_at == OPENED_AT + 20 * MINUTE
    assert outcome(case, "R-PRI-02:0").met


def test_r_pri_02_an_earlier_first_response_arriving_late_decides_the_outcome(
    ref: Refs,
) -> None:
    case = open_case(ref)  # important: 2 h
    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + 3 * HOUR, source=ref())

    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + HOUR, source=ref())

    assert case.first_response_at == OPENED_AT + HOUR
    result = outcome(case, "R-PRI-02:0")
    assert (result.met, result.actual) == (True, HOUR)


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("quality", timedelta(minutes=15)),
        ("damaged", timedelta(minutes=15)),
        ("usage", HOUR),
        (None, HOUR),
    ],
)
@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_r_pri_03_after_sales_response_targets(
    ref: Refs, kind: str | None, target: timedelta, late: timedelta
) -> None:
    case = open_case(ref, topic="after_sales", after_sales_kind=kind)

    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + target + late, source=ref())

    result = outcome(case, "R-PRI-03")
    assert (result.rule, result.target, result.actual) == ("R-PRI-03", target, target + late)
    assert result.met is (late == timedelta(0))


def test_r_pri_03_applies_only_to_after_sales(ref: Refs) -> None:
    case = open_case(ref, topic="product", after_sales_kind="quality")

    assert "R-PRI-03" not in {key for _, key, _, _ in started(case.collect_events())}


# -- R-CMP-01: 1 to 3 options, a recorded choice, resolution on an offered option --------


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4])
def test_r_cmp_01_one_to_three_options(ref: Refs, count: int) -> None:
    case = open_case(ref)
    options = [f"option-{n}" for n in range(count)]

    if 1 <= count <= 3:
        offer(case, ref, OPENED_AT + HOUR, options)
        assert case.state()["options_offered"] == options
    else:
        case.collect_events()
        refused("R-CMP-01", lambda: offer(case, ref, OPENED_AT + HOUR, options))
        assert case.collect_events() == []
        assert case.state()["options_offered"] == []


@pytest.mark.parametrize("options", [["refund", "refund"], ["refund", " "], ["a", "b", "a"]])
def test_r_cmp_01_options_must_be_distinct_and_named(ref: Refs, options: list[str]) -> None:
    case = open_case(ref)

    refused("R-CMP-01", lambda: offer(case, ref, OPENED_AT + HOUR, options))

    assert case.state()["options_offered"] == []


def test_r_cmp_01_the_customer_chooses_only_an_offered_option(ref: Refs) -> None:
    case = open_case(ref)
    offer(case, ref, OPENED_AT + HOUR, ["replace", "refund"])

    refused(
        "R-CMP-01",
        lambda: case.choose_option(option="repair", occurred_at=OPENED_AT + 2 * HOUR, source=ref()),
    )
    case.choose_option(option="refund", occurred_at=OPENED_AT + 2 * HOUR, source=ref())

    assert case.state()["option_chosen"] == "refund"


def test_r_cmp_01_resolution_only_on_an_offered_option(ref: Refs) -> None:
    case = open_case(ref)
    assign(case, ref, OPENED_AT + HOUR)
    offer(case, ref, OPENED_AT + HOUR, ["replace", "refund"])

    refused("R-CMP-01", lambda: resolve(case, ref, OPENED_AT + 2 * HOUR, option="repair"))
    assert case.status == "open"
    resolve(case, ref, OPENED_AT + 2 * HOUR, option="refund")

    assert case.state()["resolution_option"] == "refund"
    assert case.status == "resolved"


def test_r_cmp_01_resolution_on_the_chosen_option_only(ref: Refs) -> None:
    case = open_case(ref)
    assign(case, ref, OPENED_AT + HOUR)
    offer(case, ref, OPENED_AT + HOUR, ["replace", "refund"])
    case.choose_option(option="replace", occurred_at=OPENED_AT + 2 * HOUR, source=ref())

    refused("R-CMP-01", lambda: resolve(case, ref, OPENED_AT + 3 * HOUR, option="refund"))
    resolve(case, ref, OPENED_AT + 3 * HOUR, option="replace")

    assert case.state()["resolution_option"] == "replace"


def test_r_cmp_01_no_resolution_before_any_option_was_offered(ref: Refs) -> None:
    case = open_case(ref)
    assign(case, ref, OPENED_AT + HOUR)

    refused("R-CMP-01", lambda: resolve(case, ref, OPENED_AT + 2 * HOUR))


# -- R-CMP-02: owner, due time and acceptance criteria ----------------------------------


def test_r_cmp_02_resolution_is_refused_without_an_owner(ref: Refs) -> None:
    case = open_case(ref)
    offer(case, ref, OPENED_AT + HOUR)
    case.collect_events()

    refused("R-CMP-02", lambda: resolve(case, ref, OPENED_AT + 2 * HOUR))

    assert case.collect_events() == []
    assert case.status == "open"


@pytest.mark.parametrize(
    "changes",
    [
        {"due": timedelta(0)},
        {"due": -SECOND},
        {"owner": " "},
        {"acceptance_criteria": ""},
    ],
)
def test_r_cmp_02_owner_due_time_and_criteria_are_required(
    ref: Refs, changes: dict[str, Any]
) -> None:
    case = open_case(ref)
    at = OPENED_AT + HOUR
    fields: dict[str, Any] = {
        "owner": "ag-17",
        "due_at": at + changes.pop("due", HOUR),
        "acceptance_criteria": "refund received",
    }
    fields.update(changes)

    refused("R-CMP-02", lambda: case.assign_owner(**fields, occurred_at=at, source=ref()))

    assert case.state()["owner"] is None


def test_r_cmp_02_a_due_time_one_second_after_assignment_is_accepted(ref: Refs) -> None:
    case = open_case(ref)

    assign(case, ref, OPENED_AT + HOUR, due=SECOND)

    assert case.state()["owner"] == "ag-17"
    assert case.due_at == OPENED_AT + HOUR + SECOND


@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_r_cmp_02_the_owner_resolves_by_the_due_time(ref: Refs, late: timedelta) -> None:
    case = open_case(ref)
    assigned = OPENED_AT + HOUR
    due = timedelta(hours=30)
    assign(case, ref, assigned, due=due)
    offer(case, ref, assigned)

    resolve(case, ref, assigned + due + late)

    result = outcome(case, "R-CMP-02:1")
    assert (result.rule, result.target, result.actual) == ("R-CMP-02", due, due + late)
    assert result.met is (late == timedelta(0))


def test_r_cmp_02_reassignment_replaces_the_due_time_clock(ref: Refs) -> None:
    case = open_case(ref)
    assign(case, ref, OPENED_AT + HOUR, due=10 * HOUR)
    assign(case, ref, OPENED_AT + 2 * HOUR, due=HOUR)
    offer(case, ref, OPENED_AT + 2 * HOUR)

    resolve(case, ref, OPENED_AT + 3 * HOUR)

    assert "R-CMP-02:1" not in case.outcomes()
    assert outcome(case, "R-CMP-02:2").met


def test_r_cmp_02_a_resolved_case_is_reassigned_without_reopening_or_a_new_clock(
    ref: Refs,
) -> None:
    """Help desks hand a resolved case to whoever follows up its confirmation: recorded and
    counted, the case stays resolved, and no R-CMP-02 clock starts for a resolution that
    happened; a reopening afterwards and a resolution time the case as before."""
    case = open_case(ref)
    ready(case, ref, OPENED_AT + HOUR)
    resolve(case, ref, OPENED_AT + 2 * HOUR)
    before = set(case.clocks.open)

    assign(case, ref, OPENED_AT + 3 * HOUR, due=HOUR)

    assert (case.status, case.owner, case.reassignments) == ("resolved", "ag-17", 1)
    assert set(case.clocks.open) == before
    assert "R-CMP-02:2" not in case.outcomes()
    case.reopen(reason="not fixed", occurred_at=OPENED_AT + 4 * HOUR, source=ref())
    resolve(case, ref, OPENED_AT + 5 * HOUR)
    assert outcome(case, "R-CMP-02:1").met
    assert "R-CMP-02:2" not in case.outcomes()


def test_r_cmp_02_a_closed_case_is_final_and_not_reassigned(ref: Refs) -> None:
    case = open_case(ref)
    ready(case, ref, OPENED_AT + HOUR)
    resolve(case, ref, OPENED_AT + 2 * HOUR)
    case.confirm_resolution(via="sms", occurred_at=OPENED_AT + 3 * HOUR, source=ref())
    assert case.status == "closed"

    with pytest.raises(CaseRuleViolated, match="closed case is not reassigned") as refused:
        assign(case, ref, OPENED_AT + 4 * HOUR)
    assert refused.value.rule == "R-CMP-04"
    assert case.reassignments == 0


# -- R-CMP-03: progress updates ---------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "period"),
    [
        ({"classification": "complaint"}, 24 * HOUR),
        ({"classification": "urgent"}, 4 * HOUR),
        ({"classification": "complaint", "priority": "urgent"}, 4 * HOUR),
        ({"classification": "inquiry", "major": True}, 24 * HOUR),
    ],
)
@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_r_cmp_03_progress_update_at_the_boundary(
    ref: Refs, changes: dict[str, Any], period: timedelta, late: timedelta
) -> None:
    case = open_case(ref, **changes)

    case.send_progress_update(occurred_at=OPENED_AT + period + late, source=ref())

    result = outcome(case, "R-CMP-03:1")
    assert (result.rule, result.target, result.actual) == ("R-CMP-03", period, period + late)
    assert result.met is (late == timedelta(0))
    assert case.clocks.open["R-CMP-03:2"].due_at == OPENED_AT + 2 * period + late


def test_r_cmp_03_a_chain_of_updates_stopped_by_resolution_restarted_by_reopening(
    ref: Refs,
) -> None:
    case = open_case(ref)
    ready(case, ref, OPENED_AT + HOUR)
    first = OPENED_AT + 24 * HOUR
    second = first + 24 * HOUR + SECOND
    case.send_progress_update(occurred_at=first, source=ref())
    case.send_progress_update(occurred_at=second, source=ref())
    resolved = second + 2 * HOUR

    resolve(case, ref, resolved)

    progress = {k: (o.met, o.actual) for k, o in case.outcomes().items() if o.rule == "R-CMP-03"}
    assert progress == {
        "R-CMP-03:1": (True, 24 * HOUR),
        "R-CMP-03:2": (False, 24 * HOUR + SECOND),
        "R-CMP-03:3": (True, 2 * HOUR),
    }
    assert not [key for key in case.clocks.open if key.startswith("R-CMP-03")]
    assert case.state()["outcomes"] == replay(case.collect_events()).state()["outcomes"]

    reopened = resolved + 10 * HOUR
    case.reopen(reason="still broken", occurred_at=reopened, source=ref())

    restarted = case.clocks.open["R-CMP-03:4"]
    assert (restarted.started_at, restarted.due_at) == (reopened, reopened + 24 * HOUR)
    case.advance_clock(reopened + 24 * HOUR + BASELINE.allowed_lateness + SECOND)
    assert outcome(case, "R-CMP-03:4").met is False


def test_r_cmp_03_no_progress_clock_for_an_inquiry(ref: Refs) -> None:
    case = open_case(ref, classification="inquiry")

    assert not [key for _, key, _, _ in started(case.collect_events()) if "R-CMP-03" in key]


def test_r_cmp_03_a_courtesy_update_on_an_inquiry_starts_no_clock(ref: Refs) -> None:
    case = open_case(ref, classification="inquiry")
    ready(case, ref, OPENED_AT + HOUR)
    case.send_progress_update(occurred_at=OPENED_AT + 2 * HOUR, source=ref())

    resolve(case, ref, OPENED_AT + 40 * HOUR)

    assert not [o for o in case.outcomes().values() if o.rule == "R-CMP-03"]


def test_r_cmp_03_no_updates_once_resolved(ref: Refs) -> None:
    case = open_case(ref)
    ready(case, ref, OPENED_AT + HOUR)
    resolve(case, ref, OPENED_AT + 2 * HOUR)

    with pytest.raises(CaseRuleViolated):
        case.send_progress_update(occurred_at=OPENED_AT + 3 * HOUR, source=ref())


# -- R-CMP-04: confirmation and closing -------------------------------------------------


def test_r_cmp_04_confirmation_only_after_resolution(ref: Refs) -> None:
    case = open_case(ref)
    ready(case, ref, OPENED_AT + HOUR)

    refused(
        "R-CMP-04",
        lambda: case.confirm_resolution(via="sms", occurred_at=OPENED_AT + 2 * HOUR, source=ref()),
    )
    resolve(case, ref, OPENED_AT + 3 * HOUR)
    with pytest.raises(LateFact):
        case.confirm_resolution(via="sms", occurred_at=OPENED_AT + 2 * HOUR, source=ref())
    case.confirm_resolution(via="online", occurred_at=OPENED_AT + 4 * HOUR, source=ref())

    assert case.status == "closed"
    assert case.confirmed_at == case.closed_at == OPENED_AT + 4 * HOUR
    assert case.confirmed_via == "online"


@pytest.mark.parametrize(("early", "allowed"), [(timedelta(0), True), (SECOND, False)])
def test_r_cmp_04_close_without_reply_only_after_the_no_reply_period(
    ref: Refs, early: timedelta, allowed: bool
) -> None:
    case = open_case(ref)
    ready(case, ref, OPENED_AT + HOUR)
    resolved = OPENED_AT + 2 * HOUR
    resolve(case, ref, resolved)
    at = resolved + BASELINE.no_reply_close_after - early

    if allowed:
        case.close_without_reply(occurred_at=at, source=ref())
        assert (case.status, case.closed_at, case.confirmed_at) == ("closed", at, None)
    else:
        refused("R-CMP-04", lambda: case.close_without_reply(occurred_at=at, source=ref()))
        assert case.status == "resolved"


def test_r_cmp_04_an_open_case_cannot_be_closed_without_reply(ref: Refs) -> None:
    case = open_case(ref)

    refused(
        "R-CMP-04",
        lambda: case.close_without_reply(occurred_at=OPENED_AT + 100 * HOUR, source=ref()),
    )


# -- R-CMP-05: major complaints ---------------------------------------------------------


def major(ref: Refs, **changes: Any) -> Case:
    return open_case(ref, major=True, product_batch="KT-2209", **changes)


def test_r_cmp_05_a_major_complaint_starts_supervisor_and_solution_clocks(ref: Refs) -> None:
    events = major(ref).collect_events()

    assert ("R-CMP-05", "R-CMP-05:supervisor", OPENED_AT, OPENED_AT + HOUR) in started(events)
    assert ("R-CMP-05", "R-CMP-05:solution", OPENED_AT, OPENED_AT + 24 * HOUR) in started(events)
    assert "R-CMP-05:supervisor" not in {
        k for _, k, _, _ in started(open_case(ref).collect_events())
    }


@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_r_cmp_05_a_supervisor_takes_over_within_1_h(ref: Refs, late: timedelta) -> None:
    case = major(ref)

    case.escalate(level=2, supervisor_id="sup-3", occurred_at=OPENED_AT + HOUR + late, source=ref())

    result = outcome(case, "R-CMP-05:supervisor")
    assert (result.rule, result.target, result.actual) == ("R-CMP-05", HOUR, HOUR + late)
    assert result.met is (late == timedelta(0))
    assert case.state()["escalation_level"] == 2
    assert case.supervisor_id == "sup-3"


@pytest.mark.parametrize("late", [timedelta(0), SECOND])
def test_r_cmp_05_options_within_24_h(ref: Refs, late: timedelta) -> None:
    case = major(ref)

    offer(case, ref, OPENED_AT + 24 * HOUR + late, ["recall-refund", "replace"])

    result = outcome(case, "R-CMP-05:solution")
    assert (result.target, result.actual) == (24 * HOUR, 24 * HOUR + late)
    assert result.met is (late == timedelta(0))


def test_r_cmp_05_resolution_refused_until_a_recall_is_linked(ref: Refs) -> None:
    case = major(ref)
    ready(case, ref, OPENED_AT + HOUR)

    refused("R-CMP-05", lambda: resolve(case, ref, OPENED_AT + 2 * HOUR))
    case.link_recall(
        recall_id="rc-2026-04",
        product_batch="KT-2209",
        occurred_at=OPENED_AT + 3 * HOUR,
        source=ref(),
    )
    resolve(case, ref, OPENED_AT + 4 * HOUR)

    assert case.status == "resolved"
    assert case.recall_id == "rc-2026-04"


def test_r_cmp_05_no_recall_needed_without_a_product_batch(ref: Refs) -> None:
    case = open_case(ref, major=True)
    ready(case, ref, OPENED_AT + HOUR)

    resolve(case, ref, OPENED_AT + 2 * HOUR)

    assert case.status == "resolved"


def test_r_cmp_05_escalation_only_goes_up(ref: Refs) -> None:
    case = major(ref)
    at = OPENED_AT + 10 * MINUTE

    def escalate(level: int, supervisor_id: str | None, minutes: int = 0) -> None:
        moment = at + minutes * MINUTE
        case.escalate(level=level, supervisor_id=supervisor_id, occurred_at=moment, source=ref())

    refused("R-CMP-05", lambda: escalate(1, None))  # already at level 1
    refused("R-CMP-05", lambda: escalate(4, "x"))  # no such level
    refused("R-CMP-05", lambda: escalate(2, None))  # a supervisor takes over
    escalate(2, "sup-3")
    refused("R-CMP-05", lambda: escalate(2, "sup-4", 1))
    escalate(3, "mgr-1", 2)
    refused("R-CMP-05", lambda: escalate(2, "sup-3", 3))

    assert case.state()["escalation_level"] == 3
    escalations = [e for e in case.collect_events() if isinstance(e, Case.Escalated)]
    assert [(e.level, e.supervisor_id) for e in escalations] == [(2, "sup-3"), (3, "mgr-1")]


# -- R-CMP-07: reopened cases are counted -----------------------------------------------


def test_r_cmp_07_reopening_counts(ref: Refs) -> None:
    case = open_case(ref)
    ready(case, ref, OPENED_AT + HOUR)
    resolve(case, ref, OPENED_AT + 2 * HOUR)
    case.reopen(reason="still broken", occurred_at=OPENED_AT + 3 * HOUR, source=ref())
    resolve(case, ref, OPENED_AT + 4 * HOUR)
    case.confirm_resolution(via="sms", occurred_at=OPENED_AT + 5 * HOUR, source=ref())

    case.reopen(reason="broke again", occurred_at=OPENED_AT + 6 * HOUR, source=ref())

    assert case.state()["reopen_count"] == 2
    assert case.status == "open"
    assert (case.resolved_at, case.closed_at, case.confirmed_at) == (None, None, None)


def test_r_cmp_07_an_open_case_cannot_be_reopened(ref: Refs) -> None:
    case = open_case(ref)

    with pytest.raises(CaseRuleViolated):
        case.reopen(reason="?", occurred_at=OPENED_AT + HOUR, source=ref())

    assert case.state()["reopen_count"] == 0


# -- R-SAT-01: resolution starts the survey clock ---------------------------------------


def test_r_sat_01_resolution_starts_the_survey_clock(ref: Refs) -> None:
    case = open_case(ref)
    ready(case, ref, OPENED_AT + HOUR)
    first = OPENED_AT + 2 * HOUR
    resolve(case, ref, first)
    case.reopen(reason="still broken", occurred_at=first + HOUR, source=ref())
    second = first + 2 * HOUR

    resolve(case, ref, second)

    surveys = [s for s in started(case.collect_events()) if s[0] == "R-SAT-01"]
    assert surveys == [
        ("R-SAT-01", "R-SAT-01:1", first, first + 24 * HOUR),
        ("R-SAT-01", "R-SAT-01:2", second, second + 24 * HOUR),
    ]


def test_r_sat_01_no_survey_before_a_resolution(ref: Refs) -> None:
    case = open_case(ref)

    refused(
        "R-SAT-01",
        lambda: case.survey_sent(survey_id="sv-1", occurred_at=OPENED_AT + HOUR, source=ref()),
    )


# -- late facts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        lambda case, at, source: case.join(
            contact_id="c-2", customer_id="cust-1", channel="web", occurred_at=at, source=source
        ),
        lambda case, at, source: case.respond(contact_id="c-1", occurred_at=at, source=source),
        lambda case, at, source: case.set_priority(
            priority="urgent", occurred_at=at, source=source
        ),
        lambda case, at, source: case.send_progress_update(occurred_at=at, source=source),
        lambda case, at, source: case.offer_options(options=["a"], occurred_at=at, source=source),
        lambda case, at, source: case.link_recall(
            recall_id="rc", product_batch=None, occurred_at=at, source=source
        ),
    ],
)
def test_a_fact_before_the_case_opened_is_refused_as_late(ref: Refs, command: Any) -> None:
    """Event time: R-PRI-02 and R-CMP-03 measure from the opening; nothing precedes it."""
    case = open_case(ref)
    case.collect_events()
    before = case.state()
    source = ref()

    with pytest.raises(LateFact) as caught:
        command(case, OPENED_AT - SECOND, source)

    assert OPENED_AT.isoformat() in str(caught.value)
    assert case.collect_events() == []
    assert case.state() == before
    assert not case.has_applied(source.event_id)


def test_r_cmp_03_an_earlier_update_arriving_after_a_later_fact_counts_by_event_time(
    ref: Refs,
) -> None:
    case = open_case(ref)
    assign(case, ref, OPENED_AT + 20 * HOUR)

    case.send_progress_update(occurred_at=OPENED_AT + 10 * HOUR, source=ref())

    result = outcome(case, "R-CMP-03:1")
    assert (result.met, result.actual) == (True, 10 * HOUR)
    assert case.clocks.open["R-CMP-03:2"].due_at == OPENED_AT + 34 * HOUR
    assert case.last_event_at == OPENED_AT + 20 * HOUR


# -- duplicates and replay --------------------------------------------------------------


def test_a_repeated_source_event_id_has_no_effect(ref: Refs) -> None:
    """R-CH-01: one history; a re-delivered record (even with other content) has no effect."""
    case = open_case(ref)
    join(case, ref, "phone", event_id="evt-join")
    ready(case, ref, OPENED_AT + HOUR)
    resolved = ref("evt-resolve")
    case.resolve(option="replace", summary=None, occurred_at=OPENED_AT + 2 * HOUR, source=resolved)
    case.collect_events()
    state, version = case.state(), case.version

    join(case, ref, "web", event_id="evt-join")
    join(case, ref, "web", customer_id="cust-2", event_id="evt-join")
    case.resolve(option="nothing", summary=None, occurred_at=OPENED_AT, source=resolved)
    case.reopen(reason="again", occurred_at=OPENED_AT + 3 * HOUR, source=resolved)
    case.join(
        contact_id="c-9",
        customer_id="cust-1",
        channel="email",
        occurred_at=OPENED_AT,
        source=ref("evt-1"),
    )

    assert case.collect_events() == []
    assert case.state() == state
    assert case.version == version


def test_replay_of_collected_events_equals_the_original(ref: Refs) -> None:
    """R-CMP-06: the case history rebuilds the same state and SLA outcomes."""
    case = open_case(ref, major=True, product_batch="KT-1", topic="after_sales")
    join(case, ref, "phone")
    case.escalate(level=2, supervisor_id="sup-1", occurred_at=OPENED_AT + HOUR, source=ref())
    ready(case, ref, OPENED_AT + HOUR)
    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + 2 * HOUR, source=ref())
    case.link_recall(
        recall_id="rc-1", product_batch="KT-1", occurred_at=OPENED_AT + 3 * HOUR, source=ref()
    )
    resolve(case, ref, OPENED_AT + 4 * HOUR)
    events = case.collect_events()

    replayed = replay(events)

    assert replayed.state() == case.state()
    assert replayed.version == case.version == len(events)
    assert replayed.applied == case.applied
    assert replayed.clocks == case.clocks


def test_replay_at_each_version_gives_the_state_at_that_point(ref: Refs) -> None:
    """R-CMP-06: the state of a case at any past version can be rebuilt."""
    case = open_case(ref)
    states = {case.version: case.state()}
    for channel in ("phone", "web"):
        join(case, ref, channel)
        states[case.version] = case.state()
    ready(case, ref, OPENED_AT + HOUR)
    states[case.version] = case.state()
    events = case.collect_events()

    assert {upto: replay(events[:upto]).state() for upto in states} == states


def test_replay_through_a_stored_history_equals_the_original(
    ref: Refs, app: JourneyApplication
) -> None:
    """R-CMP-06: events survive transcoding (source refs, +08:00 event times, durations)."""
    case = open_case(ref)
    join(case, ref, "phone")
    app.save(case)
    at_join = case.version
    ready(case, ref, OPENED_AT + HOUR)
    case.respond(contact_id="contact-1", occurred_at=OPENED_AT + 2 * HOUR + SECOND, source=ref())
    app.save(case)

    loaded: object = app.repository.get(Case.create_id("case-1"))

    assert isinstance(loaded, Case)
    assert loaded is not case
    assert loaded.state() == case.state()
    assert loaded.clocks == case.clocks
    assert loaded.state()["outcomes"]["R-PRI-02:0"] == ("R-PRI-02", False, 2 * HOUR + SECOND)
    assert loaded.opened_at == OPENED_AT
    assert loaded.opened_at.utcoffset() == timedelta(hours=8)
    assert loaded.applied == {f"evt-{n}" for n in range(1, ref.offset + 1)}
    history = list(app.events.get(Case.create_id("case-1")))
    assert [event.source for event in history if is_fact(event)] == [  # type: ignore[attr-defined]
        SourceRef(f"evt-{n}", "journey.contacts", 0, n) for n in range(1, ref.offset + 1)
    ]
    earlier: object = app.repository.get(Case.create_id("case-1"), version=at_join)
    assert isinstance(earlier, Case)
    assert earlier.channels == ["app", "phone"]
    assert earlier.owner is None
    assert earlier.opened_at.astimezone(UTC) == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def test_replayed_case_still_ignores_applied_event_ids(ref: Refs, app: JourneyApplication) -> None:
    """R-CH-01: one history; a stored case still knows which records it applied."""
    case = open_case(ref)
    join(case, ref, "phone", event_id="evt-join")
    app.save(case)
    loaded: object = app.repository.get(Case.create_id("case-1"))
    assert isinstance(loaded, Case)
    version = loaded.version

    join(loaded, ref, "phone", event_id="evt-join")
    join(loaded, ref, "web", event_id="evt-1")

    assert loaded.pending_events == []
    assert loaded.version == version


# -- through the handlers ---------------------------------------------------------------


@pytest.fixture
def journey(app: JourneyApplication) -> Journey:
    return Journey(app)


def test_a_major_complaint_through_the_handlers(journey: Journey) -> None:
    """R-CMP-01/02/03/04/05 and R-CMP-07 through ``case.*`` source events."""

    def case_event(type_: str, at: timedelta, **data: Any) -> Any:
        return journey.event(type_, {"case_id": "ct-1", **data}, OPENED_AT + at, channel="web")

    blocked = case_event("case.resolved", 5 * HOUR, option="replace")
    pending = journey.apply(
        journey.event(
            "contact.opened",
            opened(
                "ct-1",
                topic="after_sales",
                after_sales_kind="quality",
                major=True,
                product_batch="KT-2209",
                demand="the kettle cracked and scalded me",
            ),
            OPENED_AT,
        ),
        case_event("case.escalated", 50 * MINUTE, level=2, supervisor_id="sup-3"),
        case_event(
            "case.owner_assigned",
            HOUR,
            owner="sup-3",
            due_at=(OPENED_AT + 48 * HOUR).isoformat(),
            acceptance_criteria="replacement delivered",
        ),
        case_event("case.options_offered", 2 * HOUR, options=["replace", "refund"]),
        case_event("case.option_chosen", 3 * HOUR, option="replace"),
        case_event("case.progress_update_sent", 4 * HOUR),
        blocked,
        case_event("case.recall_linked", 6 * HOUR, recall_id="rc-1", product_batch="KT-2209"),
        case_event("case.resolved", 7 * HOUR, option="replace"),
        case_event("case.resolution_confirmed", 8 * HOUR, via="sms"),
        case_event("case.reopened", 9 * HOUR, reason="the new one leaks"),
        case_event("case.priority_set", 10 * HOUR, priority="urgent"),
    )

    ((refused_ref, error),) = pending.refusals
    assert refused_ref == blocked[0]
    assert isinstance(error, CaseRuleViolated)
    assert error.rule == "R-CMP-05"
    state = journey.case("ct-1").state()
    assert state["status"] == "open"
    assert state["reopen_count"] == 1
    assert state["escalation_level"] == 2
    assert state["owner"] == "sup-3"
    assert state["options_offered"] == ["replace", "refund"]
    assert state["option_chosen"] == "replace"
    assert state["resolution_option"] == "replace"
    assert state["priority"] == "urgent"
    outcomes = state["outcomes"]
    assert outcomes["R-CMP-05:supervisor"] == ("R-CMP-05", True, 50 * MINUTE)
    assert outcomes["R-CMP-05:solution"] == ("R-CMP-05", True, 2 * HOUR)
    assert outcomes["R-CMP-03:1"] == ("R-CMP-03", True, 4 * HOUR)
    assert outcomes["R-CMP-03:2"] == ("R-CMP-03", True, 3 * HOUR)
    assert outcomes["R-CMP-02:1"] == ("R-CMP-02", True, 6 * HOUR)
    assert "R-CMP-03:3" in journey.case("ct-1").clocks.open


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("case.priority_set", {"priority": "urgent"}),
        (
            "case.owner_assigned",
            {"owner": "a", "due_at": "2026-03-09T10:00:00+08:00", "acceptance_criteria": "x"},
        ),
        ("case.escalated", {"level": 2, "supervisor_id": "s"}),
        ("case.options_offered", {"options": ["a"]}),
        ("case.option_chosen", {"option": "a"}),
        ("case.progress_update_sent", {}),
        ("case.resolved", {"option": "a"}),
        ("case.resolution_confirmed", {"via": "sms"}),
        ("case.closed_no_reply", {}),
        ("case.reopened", {"reason": "r"}),
        ("case.recall_linked", {"recall_id": "rc"}),
    ],
)
def test_an_event_for_an_unknown_case_is_parked_until_it_opens(
    journey: Journey, tmp_path: Path, type_: str, data: dict[str, Any]
) -> None:
    """R-CMP-01..05, R-PRI-02: a case.* event for no known case is parked (nothing
    applied), then tried once the case opens: applied, or refused by the case's rules,
    exactly as if it had come after the opening."""
    item = journey.event(
        type_, {"case_id": "case-404", **data}, OPENED_AT + HOUR, event_id="ev-item"
    )

    pending = journey.apply(item, parks=True)

    parked_naming(pending, [item[0]], Case.create_id("case-404"), "case-404")
    assert journey.applied() == 0
    assert waiting_for(journey.app, Case.create_id("case-404")) == [item[1].event_id]

    opening = journey.event("contact.opened", opened("case-404"), OPENED_AT, event_id="ev-open")
    pending = journey.apply(opening)

    assert waiting_for(journey.app, Case.create_id("case-404")) == []
    case = journey.case("case-404")
    applied = [w.source for w in pending.released]
    refused = [r.waiting.source for r in pending.released_refusals]
    assert sorted([*applied, *refused], key=str) == [item[0]]
    (tmp_path / "causal").mkdir()
    again = make_app(tmp_path / "causal")
    try:
        causal = Journey(again)
        causal.apply(causal.at_next_offset(opening[1]))
        after = causal.apply(causal.at_next_offset(item[1]))
        assert [str(e) for _, e in after.refusals] == [r.reason for r in pending.released_refusals]
        assert case.has_applied("ev-item") == (after.refusals == [])
        assert case.state() == causal.case("case-404").state()
    finally:
        again.close()


def test_an_event_naming_another_customers_case_is_refused(journey: Journey) -> None:
    """R-CH-01: one case, one customer."""
    journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT))
    stored = journey.stored()

    pending = journey.apply(
        journey.event(
            "case.priority_set",
            {"case_id": "ct-1", "priority": "urgent"},
            OPENED_AT + HOUR,
            customer_id="cust-2",
        )
    )

    ((_, error),) = pending.refusals
    assert isinstance(error, NotFound)
    assert journey.stored() == stored
    assert journey.case("ct-1").priority == "important"


def test_the_same_case_event_in_two_batches_has_the_effect_of_once(journey: Journey) -> None:
    """R-CMP-03: a re-delivered progress update counts once."""
    journey.apply(journey.event("contact.opened", opened("ct-1"), OPENED_AT))
    update = journey.event("case.progress_update_sent", {"case_id": "ct-1"}, OPENED_AT + HOUR)
    journey.apply(update)
    state, stored = journey.case("ct-1").state(), journey.stored()

    again = journey.apply(journey.at_next_offset(update[1]), journey.at_next_offset(update[1]))

    assert again.refusals == []
    assert journey.case("ct-1").state() == state
    assert journey.case("ct-1").progress_updates == 1
    assert journey.stored() == stored

"""The importers publish only journeys the domain accepts (tools/importers/cases.py):
whatever sequence of case steps a source suggests — replies, priorities, owners, options,
progress updates, resolutions on offered or unknown options, closings, reopenings, with
times that may go backwards — every step the importer emits is applied by the real
application without a refusal (R-CMP-01, R-CMP-02, R-CMP-04, R-CMP-07), and the steps it
drops are counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from application.service import JourneyApplication
from contracts.envelope import validate
from domain.case import Case
from domain.contact import Contact
from tests.unit.feeding import NOW, Feed
from tools.importers.cases import CaseTrack
from tools.importers.pipeline import envelope
from tools.importers.steps import Journey, Step
from tools.importers.summary import ImportSummary

START = datetime(2017, 3, 1, 9, 0, tzinfo=UTC)
OPTIONS = ["refund", "explanation", "code-6", "repair"]

operation = st.one_of(
    st.tuples(st.just("reply"), st.none()),
    st.tuples(st.just("priority"), st.sampled_from(["urgent", "important", "general"])),
    st.tuples(st.just("assign"), st.sampled_from(["ag-1", "ag-2", "Group 56"])),
    st.tuples(
        st.just("offer"), st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=3, unique=True)
    ),
    st.tuples(st.just("progress"), st.none()),
    st.tuples(st.just("resolve"), st.sampled_from(OPTIONS)),
    st.tuples(st.just("close"), st.none()),
    st.tuples(st.just("reopen"), st.none()),
)
# Minutes after the previous step: mostly forward, sometimes backwards (bad source times),
# sometimes days (past the no-reply period).
gap = st.one_of(
    st.integers(min_value=-90, max_value=240), st.sampled_from([3 * 24 * 60, 5 * 24 * 60])
)


def apply(app: JourneyApplication, steps: list[Step]) -> list[Any]:
    events = [
        validate(envelope(step, "test-import"), now=NOW, max_future=timedelta(minutes=5))
        for step in steps
    ]
    return Feed(app)(*events)


@settings(max_examples=150, deadline=None)
@given(
    classification=st.sampled_from(["complaint", "service", "urgent", "inquiry"]),
    operations=st.lists(st.tuples(operation, gap), max_size=25),
)
def test_every_step_the_importer_emits_is_accepted(
    classification: str, operations: list[tuple[tuple[str, Any], int]]
) -> None:
    summary = ImportSummary("test")
    journey = Journey(summary, "test:case-1", "cust-1", "phone")
    case = CaseTrack(journey, "case-1")
    at = START
    case.open(at, classification=classification, topic="other")
    for index, ((name, value), minutes) in enumerate(operations):
        at += timedelta(minutes=minutes)
        step = f"s{index}"
        if name == "reply":
            case.reply(at, step, "ag-1")
        elif name == "priority":
            case.set_priority(at, step, value)
        elif name == "assign":
            case.assign(at, step, value, timedelta(hours=2), "fixed")
        elif name == "offer":
            case.offer(at, step, value)
        elif name == "progress":
            case.progress(at, step)
        elif name == "resolve":
            case.resolve(at, step, value, "done")
        elif name == "close":
            case.close(at, step)
        else:
            case.reopen(at, step, "again")

    app = JourneyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert apply(app, journey.steps) == []
    stored: Case = app.repository.get(Case.create_id("case-1"))
    # The importer's view of the case is the domain's.
    assert stored.status == case.status
    assert stored.owner == case.owner
    assert stored.priority == case.priority
    contact: Contact = app.repository.get(Contact.create_id("case-1"))
    assert stored.applied | contact.applied == {step.event_id for step in journey.steps}
    assert sum(summary.steps_dropped.values()) == len(operations) - (len(journey.steps) - 1) - (
        # a priority equal to the current one is no step and no drop
        sum(1 for (name, _), _ in operations if name == "priority")
        - sum(1 for s in journey.steps if s.type == "case.priority_set")
    )


def test_closing_after_the_no_reply_period_is_without_reply_before_it_confirmed() -> None:
    """R-CMP-04: the stated no-reply period (72 h) decides how an importer closes."""
    summary = ImportSummary("test")
    types = []
    for hours in (71, 72):
        journey = Journey(summary, f"test:{hours}", "cust-1", "web")
        case = CaseTrack(journey, f"case-{hours}")
        case.open(START, classification="service", topic="other")
        case.assign(START, "owner", "ag-1", timedelta(hours=1), "fixed")
        case.offer(START, "offer", ["code-6"])
        case.resolve(START, "resolve", "code-6", None)
        case.close(START + timedelta(hours=hours), "close")
        types.append(journey.steps[-1].type)
        assert (
            apply(
                JourneyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), journey.steps
            )
            == []
        )
    assert types == ["case.resolution_confirmed", "case.closed_no_reply"]

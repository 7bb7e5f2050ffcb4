"""Late facts: applied by event time where the rule allows it, refused otherwise. The
final SLA outcomes must be those of the facts in event-time order, whatever order they
arrived in."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.aggregate import LateFact
from domain.case import Case
from domain.clocks import Cancel, Clocks, Deadline, Start, Stop
from domain.contact import Contact
from domain.provenance import SourceRef

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
S = timedelta(seconds=1)
_ids = itertools.count()


def ref() -> SourceRef:
    n = next(_ids)
    return SourceRef(f"ev-{n}", "t", 0, n)


def im_contact() -> Contact:
    """A chat the customer opens by writing: R-RESP-01 runs from the opening."""
    return Contact.open(
        contact_id="k",
        customer_id="c",
        case_ref="k",
        channel="app",
        verified_by=None,
        occurred_at=T0,
        source=ref(),
        first_message_id="m-0",
    )


def reply(contact: Contact, responder: str, at: timedelta) -> None:
    contact.reply(
        responder=responder,  # type: ignore[arg-type]
        agent_id=None,
        account_specific=False,
        occurred_at=T0 + at,
        source=ref(),
    )


@pytest.mark.parametrize(
    ("arrivals", "expected"),
    [
        # (responder, seconds after opening) in arrival order → R-RESP-01 outcome or None
        ([("agent", 20), ("bot", 10)], None),  # the bot was first by event time: no clock
        ([("bot", 10), ("agent", 20)], None),
        ([("agent", 20), ("bot", 25)], (True, 20)),  # a person was first
        ([("bot", 25), ("agent", 20)], (True, 20)),
        ([("agent", 40), ("agent", 20)], (True, 20)),  # the earliest answer decides
        ([("agent", 20), ("agent", 40)], (True, 20)),
    ],
)
def test_r_resp_01_is_decided_by_event_time_not_arrival_order(
    arrivals: list[tuple[str, int]], expected: tuple[bool, int] | None
) -> None:
    """R-RESP-01 / R-RESP-02: whichever order replies arrive in, the first answer by event
    time decides: a bot first calls R-RESP-01 off, a person first meets or breaches it."""
    contact = im_contact()
    for responder, seconds in arrivals:
        reply(contact, responder, seconds * S)
    outcome = contact.outcomes().get("R-RESP-01")
    if expected is None:
        assert outcome is None
    else:
        assert outcome is not None
        assert (outcome.met, outcome.actual) == (expected[0], expected[1] * S)


def test_r_cmp_03_a_progress_update_older_than_the_latest_one_is_refused() -> None:
    """R-CMP-03: progress updates form a chain of clocks; an update older than the latest
    one would re-key the chain, so it is refused with a reason (LateFact), not applied."""
    case = Case.open(
        case_ref="k",
        customer_id="c",
        contact_id="k",
        channel="app",
        classification="complaint",
        topic="order",
        occurred_at=T0,
        source=ref(),
    )
    case.send_progress_update(occurred_at=T0 + timedelta(hours=10), source=ref())
    before = (case.version, case.outcomes())
    with pytest.raises(LateFact, match="latest progress update"):
        case.send_progress_update(occurred_at=T0 + timedelta(hours=5), source=ref())
    assert (case.version, case.outcomes()) == before


def test_a_stop_from_before_a_deadline_started_does_not_touch_it() -> None:
    clocks = Clocks()
    [started] = clocks.decide(Start("R-X", "k", T0, 30 * S))
    clocks.apply(started)
    assert clocks.decide(Stop("k", T0 - S)) == []
    assert clocks.open == {"k": Deadline("R-X", "k", T0, T0 + 30 * S)}


COMMAND = st.tuples(st.sampled_from(["stop", "cancel", "watermark"]), st.integers(0, 90))


def final_outcome(arrivals: list[tuple[str, int]]) -> object:
    clocks = Clocks()
    for decision in clocks.decide(Start("R-X", "k", T0 + 5 * S, 30 * S)):
        clocks.apply(decision)
    for kind, seconds in arrivals:
        at = T0 + seconds * S
        if kind == "watermark":
            decisions = clocks.on_watermark(at, timedelta(0))
        elif kind == "stop":
            decisions = clocks.decide(Stop("k", at))
        else:
            decisions = clocks.decide(Cancel("k", at, "test"))
        for decision in decisions:
            clocks.apply(decision)
    return clocks.outcomes.get("k"), "k" in clocks.called_off


@given(st.lists(COMMAND, max_size=6, unique_by=lambda c: c[1]), st.randoms())
@settings(max_examples=500, deadline=None)
def test_clock_outcomes_depend_on_event_times_not_arrival_order(
    commands: list[tuple[str, int]], shuffler: random.Random
) -> None:
    """R-RESP-01 and every clocked rule: stops and cancels applied in any arrival order,
    with the watermark passing anywhere, end in the outcome of the event-time order (the
    watermark only ever breaches what no fact had stopped by then)."""
    facts = [c for c in commands if c[0] != "watermark"]
    in_event_time = sorted(facts, key=lambda c: c[1])
    arrived = list(commands)
    shuffler.shuffle(arrived)
    end = [("watermark", 10_000)]
    assert final_outcome(arrived + end) == final_outcome(in_event_time + end)

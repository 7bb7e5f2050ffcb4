"""Issue 14, item 2: the allowed lateness is a value of each policy version (R-CH-02: one
configuration), 0 allowed; the clock timer on event time breaches a deadline nothing
stopped once the watermark is past its due time plus that lateness, and on the wall clock
at the deadline. In between, the deadline is overdue. Boundaries one second either side,
with no lateness and with the baseline's 5 min, on the R-RESP-01 clock of a chat."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType

import pytest

import consumers.timer
import domain.policy
from adapters.readstore import SQLiteReadStore
from application.service import JourneyApplication
from consumers.timer import ClockTimer
from domain.aggregate import outcomes_under
from domain.clocks import Breached, Clocks, Outcome, Start, is_overdue
from domain.contact import Contact
from domain.policy import BASELINE, POLICIES, Policy
from domain.provenance import SourceRef
from projections.deadlines import DeadlineIndex
from projections.runner import NotificationReader
from tests.unit.feeding import Feed, source

CHINA = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA)
S = timedelta(seconds=1)
TARGET = BASELINE.im_first_reply  # R-RESP-01: 30 s
DUE = T0 + TARGET
FIVE_MINUTES = timedelta(minutes=5)
NONE = timedelta(0)
ZERO = replace(
    BASELINE,
    version="2026.2-no-lateness",
    effective_from=datetime(2026, 2, 1, tzinfo=UTC),
    allowed_lateness=NONE,
)
"""A version that breaches at once, in force from February 2026 (the baseline before)."""


@pytest.fixture
def no_lateness(monkeypatch: pytest.MonkeyPatch) -> Policy:
    """``ZERO`` published beside the baseline: contacts opened from February record it."""
    published = MappingProxyType({BASELINE.version: BASELINE, ZERO.version: ZERO})
    monkeypatch.setattr(domain.policy, "POLICIES", published)
    monkeypatch.setattr(consumers.timer, "MIN_LATENESS", NONE)
    return ZERO


def ref(n: int) -> SourceRef:
    return SourceRef(f"e-{n}", "journey.contacts", 0, n)


def chat(at: datetime = T0) -> Contact:
    """R-RESP-01 runs from ``at``: the chat opens with the customer's message."""
    return Contact.open(
        contact_id="k",
        customer_id="c",
        case_ref="k",
        channel="app",
        verified_by=None,
        occurred_at=at,
        source=ref(0),
        first_message_id="m-0",
    )


def breached(contact: Contact) -> bool:
    outcome = contact.outcomes().get("R-RESP-01")
    return outcome is not None and not outcome.met


# -- the policy value --------------------------------------------------------------------


def test_every_policy_version_states_its_allowed_lateness() -> None:
    """R-CH-02: no default hides it; the published versions keep the 5 min the timer
    always waited, so what was stored under them replays the same."""
    [field] = [f for f in dataclasses.fields(Policy) if f.name == "allowed_lateness"]
    assert field.default is dataclasses.MISSING
    assert field.default_factory is dataclasses.MISSING
    assert {version: p.allowed_lateness for version, p in POLICIES.items()} == {
        "2026.1": FIVE_MINUTES,
        "2027.1-draft": FIVE_MINUTES,
    }


def test_allowed_lateness_may_be_zero_never_negative() -> None:
    assert replace(BASELINE, allowed_lateness=NONE).allowed_lateness == NONE
    with pytest.raises(ValueError, match="allowed_lateness must be 0 or more"):
        replace(BASELINE, allowed_lateness=-S)


# -- the clocks ----------------------------------------------------------------------------


@pytest.mark.parametrize("lateness", [NONE, FIVE_MINUTES], ids=["none", "5 min"])
def test_the_watermark_breaches_one_second_past_due_time_plus_lateness(
    lateness: timedelta,
) -> None:
    """R-RESP-01 and every clock: at due time + lateness nothing, a second later the
    breach, with the event-time values of the deadline."""
    clocks = Clocks()
    for decision in clocks.decide(Start("R-RESP-01", "R-RESP-01", T0, TARGET)):
        clocks.apply(decision)

    assert clocks.on_watermark(DUE + lateness - S, lateness) == []
    assert clocks.on_watermark(DUE + lateness, lateness) == []
    assert clocks.on_watermark(DUE + lateness + S, lateness) == [
        Breached("R-RESP-01", "R-RESP-01", DUE, TARGET, None, "watermark")
    ]


def test_a_deadline_is_overdue_once_the_watermark_is_past_its_due_time() -> None:
    """R-RESP-01: an answer exactly at the due time still meets it, so it is not overdue
    then; one second later it is."""
    assert [is_overdue(DUE, DUE + d * S) for d in (-1, 0, 1)] == [False, False, True]
    assert is_overdue(DUE, None) is False


def test_the_aggregate_waits_the_lateness_of_the_version_it_recorded(
    no_lateness: Policy,
) -> None:
    """R-RESP-01: a chat opened in January keeps the baseline's 5 min; one opened in
    March, under the version without lateness, is breached a second after its due time."""
    january = chat(datetime(2026, 1, 20, 10, 0, tzinfo=CHINA))
    march = chat()
    assert (january.policy_version, march.policy_version) == (BASELINE.version, ZERO.version)

    march.advance_clock(DUE)
    assert not breached(march)
    march.advance_clock(DUE + S)
    assert breached(march)

    january_due = january.first_event_at + TARGET
    january.advance_clock(january_due + FIVE_MINUTES)
    assert not breached(january)
    january.advance_clock(january_due + FIVE_MINUTES + S)
    assert breached(january)


def test_a_lateness_given_overrides_the_versions() -> None:
    """R-RESP-01: the wall-clock timer gives none: breached a second after the due time
    although the baseline allows 5 min."""
    contact = chat()
    contact.advance_clock(DUE, NONE)
    assert not breached(contact)
    contact.advance_clock(DUE + S, NONE)
    assert breached(contact)


@pytest.mark.parametrize("policy", [BASELINE, ZERO], ids=["5 min", "none"])
def test_a_what_if_as_of_a_time_uses_the_versions_lateness(policy: Policy) -> None:
    """R-CH-02, R-RESP-01: as of due time + lateness the silent deadline is not breached
    yet, a second later it is."""
    events = chat().collect_events()
    lateness = policy.allowed_lateness

    assert outcomes_under(events, policy, as_of=DUE + lateness) == {}
    assert outcomes_under(events, policy, as_of=DUE + lateness + S) == {
        "R-RESP-01": Outcome("R-RESP-01", "R-RESP-01", TARGET, False, None)
    }


# -- the clock timer -----------------------------------------------------------------------


class Timed:
    """A chat whose customer wrote at ``T0``, nobody answering; the deadline index fed
    from the store; other customers' events move the event-time watermark."""

    def __init__(self, app: JourneyApplication, folder: Path) -> None:
        self.app = app
        self.feed = Feed(app)
        self.index = DeadlineIndex(SQLiteReadStore(folder / "deadlines.sqlite"))
        self.index.create_tables()
        self.others = 0
        opening = {"contact_id": "k", "classification": "inquiry", "topic": "product"}
        assert self.feed(source("contact.opened", opening, T0, "opened")) == []
        message = {"contact_id": "k", "message_id": "m-1"}
        assert self.feed(source("contact.message", message, T0, "wrote")) == []
        self.project()

    def project(self) -> None:
        reader = NotificationReader(self.app.process_recorder, self.app.mapper)
        self.index.process(reader.read(self.index.position(), 10_000))

    def event_time_reaches(self, at: datetime) -> None:
        self.others += 1
        other = {"contact_id": f"o{self.others}", "classification": "inquiry", "topic": "other"}
        event = source("contact.opened", other, at, f"o{self.others}", f"c{self.others}", "email")
        assert self.feed(event) == []
        self.project()
        assert self.index.watermark() == at

    def contact(self) -> Contact:
        found: Contact = self.app.repository.get(Contact.create_id("k"))
        return found


@pytest.fixture
def timed(app: JourneyApplication, tmp_path: Path) -> Iterator[Timed]:
    made = Timed(app, tmp_path)
    yield made
    made.index.store.close()


def test_the_event_time_timer_waits_the_baseline_lateness(timed: Timed) -> None:
    """R-RESP-01 under 2026.1: the watermark 5 min past the due time breaches nothing,
    a second more breaches it."""
    timer = ClockTimer(timed.app, timed.index)
    timed.event_time_reaches(DUE + FIVE_MINUTES)
    assert timer.run_once() == 0
    assert not breached(timed.contact())

    timed.event_time_reaches(DUE + FIVE_MINUTES + S)
    assert timer.run_once() == 1
    assert breached(timed.contact())


def test_the_event_time_timer_without_lateness_breaches_past_the_due_time(
    no_lateness: Policy, timed: Timed
) -> None:
    """R-RESP-01 under a version without lateness: at the due time nothing, a second
    later the breach."""
    assert timed.contact().policy_version == ZERO.version
    timer = ClockTimer(timed.app, timed.index)
    timed.event_time_reaches(DUE)
    assert timer.run_once() == 0

    timed.event_time_reaches(DUE + S)
    assert timer.run_once() == 1
    assert breached(timed.contact())


def test_the_wall_clock_timer_breaches_at_the_deadline(timed: Timed) -> None:
    """R-RESP-01, JOURNEY_CLOCK=wall_clock: no lateness, whatever the version allows —
    now at the due time breaches nothing, a second later it breaches; event time has not
    moved at all."""
    assert timed.contact().policy_version == BASELINE.version
    assert timed.index.watermark() == T0
    assert ClockTimer(timed.app, timed.index, lambda: DUE).run_once() == 0

    assert ClockTimer(timed.app, timed.index, lambda: DUE + S).run_once() == 1
    outcome = timed.contact().outcomes()["R-RESP-01"]
    assert outcome == Outcome("R-RESP-01", "R-RESP-01", TARGET, False, None)


def test_the_deadline_index_lists_what_is_overdue_at_the_timers_watermark(timed: Timed) -> None:
    """R-RESP-01: the index shows the open deadline overdue from a second past its due
    time, for as long as it is not breached, whatever the lateness."""
    assert timed.index.overdue(None) == []
    timed.event_time_reaches(DUE)
    assert (timed.index.overdue(DUE), timed.index.overdue_count(DUE)) == ([], 0)

    [overdue] = timed.index.overdue(DUE + S)
    assert (overdue["rule"], overdue["key"]) == ("R-RESP-01", "R-RESP-01")
    assert datetime.fromisoformat(overdue["due_at"]) == DUE
    assert timed.index.overdue_count(DUE + FIVE_MINUTES + S) == 1

    timed.event_time_reaches(DUE + FIVE_MINUTES + S)
    assert ClockTimer(timed.app, timed.index).run_once() == 1
    timed.project()
    assert timed.index.overdue_count(DUE + FIVE_MINUTES + S) == 0

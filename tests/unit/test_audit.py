"""The auditor's side on a real application (SQLite): a case's history in version order
with each fact's source record, its state at any version or recorded time (replay equals
live), the hash chain over its stored events, and what-if under another policy version
(R-CH-02)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import SQLiteReadStore
from application.audit import (
    AsOf,
    AsOfOutOfRange,
    Auditor,
    WhatIfScope,
    parse_as_of,
    parse_recorded_as_of,
)
from application.json_ready import plain
from application.service import JourneyApplication
from domain.case import Case
from domain.contact import Contact
from domain.errors import NotFound
from domain.policy import BASELINE, UnknownPolicy
from projections.audit_chain import GENESIS, AuditChain, Link, VerifyReport, compare, link
from tests.builders.what_if import DRAFT, HOUR, T0, complaint
from tests.unit.feeding import PARTITION, Feed, source


@pytest.fixture
def chain(app: JourneyApplication, tmp_path: Path) -> Iterator[AuditChain]:
    store = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    made = AuditChain(store, app.process_recorder, app.mapper, batch_size=7)
    made.create_tables()
    yield made
    store.close()


@pytest.fixture
def auditor(app: JourneyApplication, chain: AuditChain) -> Auditor:
    return Auditor(app, chain)


def catch_up(chain: AuditChain, app: JourneyApplication) -> None:
    head = app.process_recorder.max_notification_id() or 0
    while chain.position() < head:
        assert chain.run_once() > 0


# -- history ------------------------------------------------------------------------------


def test_history_lists_every_stored_event_in_version_order_with_its_source(
    app: JourneyApplication, auditor: Auditor
) -> None:
    feed = Feed(app)
    complaint(feed, "k1", update_after=6 * HOUR)
    stored: list[Any] = list(app.events.get(Case.create_id("k1")))

    history = auditor.history("k1")

    assert [h["version"] for h in history] == [e.originator_version for e in stored]
    assert [h["version"] for h in history] == list(range(1, len(stored) + 1))
    assert [h["type"] for h in history] == [type(e).__name__ for e in stored]
    assert [h["recorded_at"] for h in history] == [e.timestamp.isoformat() for e in stored]
    facts = [h for h in history if h["kind"] == "fact"]
    assert [f["type"] for f in facts] == [
        "Opened",
        "OwnerAssigned",
        "OptionsOffered",
        "ProgressUpdateSent",
    ]
    # Feed puts the events at consecutive offsets of one partition, in the order given.
    for offset, (fact, suffix) in enumerate(
        zip(facts, ["opened", "owner", "options", "p1"], strict=True)
    ):
        assert fact["source"] == {
            "event_id": f"k1-{suffix}",
            "topic": PARTITION.topic,
            "partition": PARTITION.partition,
            "offset": offset,
        }
        assert fact["caused_by"] is None
    assert facts[0]["occurred_at"] == T0.isoformat()
    assert facts[0]["data"]["case_ref"] == "k1"
    assert facts[1]["data"]["owner"] == "ag-17"


def test_each_clock_decision_names_the_fact_before_it(
    app: JourneyApplication, auditor: Auditor
) -> None:
    complaint(Feed(app), "k1", update_after=6 * HOUR)
    history = auditor.history("k1")
    latest_fact: dict[str, Any] | None = None
    decisions = 0
    for entry in history:
        if entry["kind"] == "fact":
            latest_fact = entry
            continue
        assert latest_fact is not None
        assert entry["source"] is None
        assert entry["occurred_at"] is None
        assert entry["caused_by"] == {
            "kind": "fact",
            "version": latest_fact["version"],
            "type": latest_fact["type"],
            "event_id": latest_fact["source"]["event_id"],
        }
        decisions += 1
    assert decisions > 0


def test_a_breach_by_the_watermark_names_the_watermark(
    app: JourneyApplication, auditor: Auditor
) -> None:
    complaint(Feed(app), "k1", update_after=6 * HOUR)
    assert app.advance_clock(Case.create_id("k1"), T0 + 100 * HOUR) > 0
    history = auditor.history("k1")
    breaches = [h for h in history if h["data"].get("detected_by") == "watermark"]
    assert breaches
    assert all(b["caused_by"] == {"kind": "watermark"} for b in breaches)
    assert history[-1] in breaches


def test_history_of_an_unknown_case_is_not_found(auditor: Auditor) -> None:
    with pytest.raises(NotFound):
        auditor.history("nobody")


# -- state at a point ---------------------------------------------------------------------


def test_state_at_every_version_equals_the_repository_at_that_version(
    app: JourneyApplication, auditor: Auditor
) -> None:
    """Replay equals live: the auditor's rebuild and the application's agree at every
    version."""
    complaint(Feed(app), "k1", update_after=30 * HOUR)
    case_id = Case.create_id("k1")
    last: int = app.repository.get(case_id).version
    for version in range(1, last + 1):
        live: Case = app.repository.get(case_id, version=version)
        rebuilt = auditor.state("k1", AsOf("version", version))
        assert rebuilt["version"] == version
        assert rebuilt["as_of"] == {"basis": "version", "value": version}
        assert rebuilt["status"] == live.status
        assert rebuilt["owner"] == live.owner
        assert rebuilt["options_offered"] == live.options_offered
        assert rebuilt["clocks"]["open"] == [
            plain(d) for d in sorted(live.clocks.open.values(), key=lambda d: d.due_at)
        ]
        assert rebuilt["clocks"]["outcomes"] == [
            plain(o) for _, o in sorted(live.outcomes().items())
        ]
    now = auditor.state("k1")
    assert now == auditor.state("k1", AsOf("version", last)) | {"as_of": None}


def test_state_as_of_a_time_is_what_was_recorded_by_then(
    app: JourneyApplication, auditor: Auditor
) -> None:
    complaint(Feed(app), "k1", update_after=6 * HOUR)
    history = auditor.history("k1")
    for entry in history:
        at = datetime.fromisoformat(entry["recorded_at"])
        recorded_by_then = max(h["version"] for h in history if h["recorded_at"] <= at.isoformat())
        state = auditor.state("k1", AsOf("recorded_time", at))
        assert state["version"] == recorded_by_then
        assert state == auditor.state("k1", AsOf("version", recorded_by_then)) | {
            "as_of": {"basis": "recorded_time", "value": at.isoformat()}
        }
    first = datetime.fromisoformat(history[0]["recorded_at"])
    with pytest.raises(NotFound):
        auditor.state("k1", AsOf("recorded_time", first - timedelta(microseconds=1)))


@pytest.mark.parametrize(
    "as_of",
    [
        AsOf("version", 0),
        AsOf("version", -1),
        AsOf("version", 10_000),
        AsOf("event_time", datetime(2026, 3, 2, 9, 30)),
        AsOf("recorded_time", datetime(2026, 3, 2, 9, 30)),
    ],
)
def test_state_refuses_a_version_it_does_not_have_and_a_time_without_a_zone(
    app: JourneyApplication, auditor: Auditor, as_of: AsOf
) -> None:
    complaint(Feed(app), "k1", update_after=6 * HOUR)
    with pytest.raises(AsOfOutOfRange):
        auditor.state("k1", as_of)


def test_as_of_is_a_version_an_event_time_or_a_day_of_the_report_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_as_of("7") == AsOf("version", 7)
    assert parse_as_of("2026-03-02T09:30:00+08:00") == AsOf("event_time", T0)
    end_of_day = datetime(2026, 3, 5, 23, 59, 59, 999_999, tzinfo=shanghai)
    assert parse_as_of("2026-03-05", shanghai) == AsOf("event_time", end_of_day)
    assert parse_recorded_as_of("2026-03-02T09:30:00+08:00") == AsOf("recorded_time", T0)
    for bad in ("2026-03-02T09:30:00", "yesterday", "-3", "2026-02-30", "9999-12-31"):
        with pytest.raises(AsOfOutOfRange):
            parse_as_of(bad, shanghai)
    with pytest.raises(AsOfOutOfRange):
        parse_recorded_as_of("7")


def test_state_as_of_an_event_time_is_what_had_happened_by_then(
    app: JourneyApplication, auditor: Auditor
) -> None:
    """Item 4 of issue 14: by event time, a case exists from its opening's occurred_at,
    whenever it was recorded; a fact counts from when it happened, one second either
    side; the clocks are judged at that time (an R-CMP-03 update 30 h after opening had
    not come by 24 h + lateness: breached then)."""
    complaint(Feed(app), "k1", update_after=30 * HOUR)
    second = timedelta(seconds=1)

    with pytest.raises(NotFound):
        auditor.state("k1", AsOf("event_time", T0 - second))
    opened = auditor.state("k1", AsOf("event_time", T0))
    assert (opened["version"], opened["owner"]) == (1, None)
    assert opened["as_of"] == {"basis": "event_time", "value": T0.isoformat()}
    owner_at = T0 + timedelta(minutes=5)
    assert auditor.state("k1", AsOf("event_time", owner_at - second))["owner"] is None
    assert auditor.state("k1", AsOf("event_time", owner_at))["owner"] == "ag-17"

    def outcome(at: datetime) -> list[Any]:
        state = auditor.state("k1", AsOf("event_time", at))
        return [o for o in state["clocks"]["outcomes"] if o["rule"] == "R-CMP-03"]

    due = T0 + 24 * HOUR + BASELINE.allowed_lateness
    assert outcome(due) == []
    assert [o["met"] for o in outcome(due + second)] == [False]
    # Recorded now, all of it: as of now by event time equals the stored case's facts.
    latest = auditor.state("k1", AsOf("event_time", T0 + 31 * HOUR))
    stored = auditor.state("k1")
    assert (latest["status"], latest["owner"], latest["version"]) == (
        stored["status"],
        stored["owner"],
        max(h["version"] for h in auditor.history("k1") if h["kind"] == "fact"),
    )


# -- what-if (R-CH-02) --------------------------------------------------------------------


def test_r_ch_02_what_if_a_progress_update_met_under_the_baseline_is_breached_under_the_draft(
    app: JourneyApplication, auditor: Auditor
) -> None:
    """R-CMP-03 under the baseline gives 24 h for a progress update, the draft 12 h: an
    update after 18 h is met under one and breached under the other."""
    after = 18 * HOUR
    assert DRAFT.progress_update < after <= BASELINE.progress_update
    complaint(Feed(app), "late", update_after=after)

    report = auditor.what_if(DRAFT.version, case_ref="late")

    assert report.replayed == 1
    (case,) = report.differences
    assert (case.kind, case.ref, case.recorded_policy_version) == (
        "Case",
        "late",
        BASELINE.version,
    )
    (difference,) = case.outcomes
    assert (difference.key, difference.rule, difference.change) == (
        "R-CMP-03:1",
        "R-CMP-03",
        "met -> breached",
    )
    assert difference.recorded is not None
    assert difference.alternative is not None
    assert difference.recorded.actual == difference.alternative.actual == after
    assert difference.alternative.target == DRAFT.progress_update
    rendered = report.as_json()
    assert rendered["newly_breached"] == 1
    assert rendered["aggregates"][0]["differences"][0]["alternative"]["target"] == (
        DRAFT.progress_update.total_seconds()
    )
    # The stored events are only read.
    assert auditor.state("late")["clocks"]["outcomes"][-1]["met"] is True


def test_what_if_under_the_recorded_version_changes_nothing(
    app: JourneyApplication, auditor: Auditor
) -> None:
    complaint(Feed(app), "late", update_after=18 * HOUR)
    report = auditor.what_if(BASELINE.version, case_ref="late")
    assert report.replayed == 1
    assert report.differences == []


def test_what_if_over_a_period_replays_every_aggregate_opened_in_it(
    app: JourneyApplication, chain: AuditChain, auditor: Auditor
) -> None:
    """A case updated in time under both versions shows no difference; the late one and
    a chat answered after 25 s (R-RESP-01: 30 s, draft 20 s) do; a case opened after the
    period is not replayed."""
    feed = Feed(app)
    complaint(feed, "prompt", update_after=6 * HOUR)
    complaint(feed, "late", update_after=18 * HOUR, at=T0 + HOUR)
    complaint(feed, "outside", update_after=18 * HOUR, at=T0 + 48 * HOUR)
    reply_after = timedelta(seconds=25)
    assert DRAFT.im_first_reply < reply_after <= BASELINE.im_first_reply
    assert (
        feed(
            # The customer writes as the chat opens: R-RESP-01 counts from this message.
            source("contact.message", {"contact_id": "prompt", "message_id": "m-0"}, T0, "m"),
            source(
                "contact.replied",
                {"contact_id": "prompt", "responder": "agent", "agent_id": "ag-17"},
                T0 + reply_after,
                "prompt-reply",
            ),
        )
        == []
    )
    catch_up(chain, app)

    report = auditor.what_if(DRAFT.version, period=(T0, T0 + 24 * HOUR))

    assert report.replayed == 4  # two cases, two contacts
    changed = {(d.kind, d.ref): [o.change for o in d.outcomes] for d in report.differences}
    assert changed == {
        ("Case", "late"): ["met -> breached"],
        ("Contact", "prompt"): ["met -> breached"],
    }
    cases_only = auditor.what_if(DRAFT.version, period=(T0, T0 + 24 * HOUR), kinds={"Case"})
    assert cases_only.replayed == 2
    assert [d.ref for d in cases_only.differences] == ["late"]
    assert [d.aggregate_id for d in cases_only.differences] == [Case.create_id("late")]
    assert Contact.create_id("prompt") in {d.aggregate_id for d in report.differences}


OPENINGS = (0, 0, 0, 1, 1, 2, 3, 3, 3)
"""Hours after T0 the complaints of ``opened`` open: several at once (an order of the
pages that rests on the opening time alone would split or repeat them)."""


@pytest.fixture
def opened(app: JourneyApplication, chain: AuditChain, auditor: Auditor) -> Auditor:
    """Nine complaints (a contact and a case each), late ones (met -> breached under the
    draft) between prompt ones."""
    feed = Feed(app)
    for n, hours in enumerate(OPENINGS):
        late = 18 * HOUR if n % 3 else 6 * HOUR
        complaint(feed, f"p{n}", update_after=late, at=T0 + hours * HOUR)
    catch_up(chain, app)
    return auditor


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limit=st.integers(1, 2 * len(OPENINGS) + 1),
    start=st.integers(0, 4),
    length=st.integers(0, 5),
)
def test_what_if_pages_of_a_period_are_one_run_cut_anywhere(
    opened: Auditor, limit: int, start: int, length: int
) -> None:
    """R-CH-02 over a period, a page at a time: walking the pages of any size replays each
    aggregate opened in the period once, in the same order and with the same result as one
    run over the whole period."""
    period = (T0 + start * HOUR, T0 + (start + length) * HOUR)
    whole = opened.what_if(DRAFT.version, period=period, limit=10_000)
    assert whole.next_after is None
    pages = []
    after = None
    while True:
        page = opened.what_if(DRAFT.version, period=period, limit=limit, after=after)
        pages.append(page)
        assert page.replayed == limit or page.next_after is None
        after = page.next_after
        if after is None:
            break
        assert len(pages) <= whole.replayed
    assert sum(p.replayed for p in pages) == whole.replayed
    assert [d.as_json() for p in pages for d in p.differences] == [
        d.as_json() for d in whole.differences
    ]
    assert whole.replayed == 2 * sum(start <= h < start + length for h in OPENINGS)


def test_what_if_needs_a_known_version_and_one_scope(
    app: JourneyApplication, auditor: Auditor
) -> None:
    complaint(Feed(app), "k1", update_after=6 * HOUR)
    with pytest.raises(UnknownPolicy):
        auditor.what_if("1999.1", case_ref="k1")
    with pytest.raises(WhatIfScope):
        auditor.what_if(DRAFT.version)
    with pytest.raises(WhatIfScope):
        auditor.what_if(DRAFT.version, case_ref="k1", period=(T0, T0 + HOUR))
    with pytest.raises(WhatIfScope):  # a cursor pages a period
        auditor.what_if(DRAFT.version, case_ref="k1", after=(T0, Case.create_id("k1")))
    with pytest.raises(NotFound):
        auditor.what_if(DRAFT.version, case_ref="nobody")


# -- the hash chain -----------------------------------------------------------------------


def test_verify_is_ok_once_chained_and_reports_what_is_not_chained_yet_as_pending(
    app: JourneyApplication, chain: AuditChain, auditor: Auditor
) -> None:
    complaint(Feed(app), "k1", update_after=6 * HOUR)
    stored = len(app.recorder.select_events(Case.create_id("k1")))

    before = auditor.verify("k1")
    assert (before.ok, before.pending, before.events_checked, before.problem) == (
        True,
        stored,
        0,
        None,
    )
    catch_up(chain, app)
    after = auditor.verify("k1")
    assert (after.ok, after.pending, after.events_checked, after.chained) == (
        True,
        0,
        stored,
        stored,
    )
    assert after.as_json()["problem"] is None
    with pytest.raises(NotFound):
        auditor.verify("nobody")


def test_the_chain_in_small_batches_equals_one_pass_and_twice_changes_nothing(
    app: JourneyApplication, chain: AuditChain, tmp_path: Path
) -> None:
    feed = Feed(app)
    complaint(feed, "k1", update_after=6 * HOUR)
    complaint(feed, "k2", update_after=30 * HOUR)
    catch_up(chain, app)  # batches of 7
    one_pass = AuditChain(
        SQLiteReadStore(tmp_path / "other.sqlite"), app.process_recorder, app.mapper
    )
    one_pass.create_tables()
    assert one_pass.run_once() == app.process_recorder.max_notification_id()
    assert one_pass.run_once() == 0
    for ref in ("k1", "k2"):
        case_id = Case.create_id(ref)
        assert chain.links(case_id) == one_pass.links(case_id)
        position, links = chain.links(case_id)
        assert [k.version for k in links] == list(range(1, len(links) + 1))
        assert position == app.process_recorder.max_notification_id()


# The comparison itself, on any sequence of stored records and any single tampering.

records = st.lists(
    st.tuples(
        st.sampled_from(["domain.case:Case.Opened", "domain.case:Case.Resolved"]), st.binary()
    ),
    min_size=1,
    max_size=25,
)
AGGREGATE = UUID("00000000-0000-4000-8000-000000000001")


def chained(stored: list[StoredEvent]) -> list[Link]:
    previous, links = GENESIS, []
    for n, event in enumerate(stored, start=1):
        previous = link(previous, AGGREGATE, event.originator_version, event.topic, event.state)
        links.append(Link(event.originator_version, n, previous.hex()))
    return links


def as_stored(drawn: list[tuple[str, bytes]]) -> list[StoredEvent]:
    return [StoredEvent(AGGREGATE, v, topic, state) for v, (topic, state) in enumerate(drawn, 1)]


def first_problem(report: VerifyReport) -> tuple[int, str] | None:
    problem = report.problem
    return None if problem is None else (problem.version, problem.kind)


def check(stored: list[StoredEvent], links: list[Link], head: int, position: int) -> VerifyReport:
    return compare(AGGREGATE, stored, links, position=position, head=head)


@given(records, st.data())
def test_compare_names_the_first_altered_missing_or_unexpected_version(
    drawn: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    stored = as_stored(drawn)
    links = chained(stored)
    n = len(stored)
    assert check(stored, links, n, n).ok
    k = data.draw(st.integers(1, n), label="version")
    changed = stored[k - 1]

    altered_state = [
        *stored[: k - 1],
        StoredEvent(AGGREGATE, k, changed.topic, changed.state + b"x"),
        *stored[k:],
    ]
    report = check(altered_state, links, n, n)
    assert (report.ok, first_problem(report)) == (False, (k, "altered"))
    assert report.events_checked == k - 1

    other_topic = "domain.case:Case.Reopened"
    altered_topic = [
        *stored[: k - 1],
        StoredEvent(AGGREGATE, k, other_topic, changed.state),
        *stored[k:],
    ]
    assert first_problem(check(altered_topic, links, n, n)) == (k, "altered")

    deleted = [e for e in stored if e.originator_version != k]
    assert first_problem(check(deleted, links, n, n)) == (k, "missing")

    unlinked = [x for x in links if x.version != k]
    assert first_problem(check(stored, unlinked, n, n)) == (k, "unexpected")


@given(records, st.data())
def test_compare_counts_events_after_the_followers_position_as_pending(
    drawn: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    stored = as_stored(drawn)
    n = len(stored)
    m = data.draw(st.integers(0, n), label="chained")
    links = chained(stored)[:m]
    report = check(stored, links, head=n, position=m)
    assert (report.ok, report.events_checked, report.pending) == (True, m, n - m)
    # The same once the follower has passed the head: those events should have links.
    if m < n:
        assert first_problem(check(stored, links, head=n, position=n)) == (m + 1, "unexpected")

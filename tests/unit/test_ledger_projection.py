"""The complaint ledger (R-CMP-06) follows the notification log: rows and position move in
one transaction, so re-delivered notifications change nothing and a rebuild equals live."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.readstore import Row, SQLiteReadStore
from application.service import JourneyApplication
from domain.case import Case
from domain.policy import BASELINE
from projections import ledger as ledger_module
from projections.base import Notified
from projections.kpis import metrics as kpi_metrics
from projections.ledger import ComplaintLedger
from projections.runner import NotificationReader, ProjectionRunner
from tests.builders.apps import make_app
from tests.unit.complaint_specs import SPECS, ContactSpec, ingest
from tests.unit.feeding import Feed, source


def notifications(app: JourneyApplication) -> list[Notified]:
    """Every notification in the store, in order, with its domain event."""
    found = app.process_recorder.select_notifications(start=None, limit=10_000)
    return [(n.id, app.mapper.to_domain_event(n)) for n in found]


def case_facts(log: Sequence[Notified]) -> list[Any]:
    """The notifications the ledger builds its rows from: case openings and joins."""
    return [event for _, event in log if isinstance(event, Case.Opened | Case.ContactJoined)]


def new_ledger(path: Path) -> ComplaintLedger:
    ledger = ComplaintLedger(SQLiteReadStore(path))
    ledger.create_tables()
    return ledger


def rows(ledger: ComplaintLedger) -> list[Row]:
    ids = ledger.store.query("SELECT case_id FROM complaint_ledger ORDER BY case_id")
    return [row for r in ids if (row := ledger.row(r["case_id"])) is not None]


def by_case_ref(ledger: ComplaintLedger) -> dict[str, Row]:
    return {row["case_ref"]: row for row in rows(ledger)}


def snapshot(ledger: ComplaintLedger) -> tuple[list[Row], int]:
    return rows(ledger), ledger.position()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[ComplaintLedger]:
    projection = new_ledger(tmp_path / "rm.sqlite")
    yield projection
    projection.store.close()


def test_processing_notifications_creates_rows_and_moves_the_position(
    app: JourneyApplication, ledger: ComplaintLedger
) -> None:
    ingest(app, SPECS)
    log = notifications(app)
    opened_or_joined = case_facts(log)
    assert [type(event) for event in opened_or_joined] == [
        Case.Opened,
        Case.Opened,
        Case.ContactJoined,
        Case.ContactJoined,
    ]  # two openings, two joins (e4, another customer's contact, refused: R-CH-01)
    assert ledger.position() == 0

    assert ledger.process(log) == len(log)

    assert ledger.position() == log[-1][0]
    by_ref = by_case_ref(ledger)
    assert sorted(by_ref) == ["k1", "k2"]
    k1, k2 = by_ref["k1"], by_ref["k2"]
    assert k1["case_ref"] == "k1"
    assert k1["customer_id"] == "cust-1"
    assert k1["channel"] == "app"
    assert k1["channels"] == ["app", "phone"]
    assert k1["contacts"] == 3
    last_join = opened_or_joined[-1]
    assert last_join.originator_id == Case.create_id("k1")
    assert k1["version"] == last_join.originator_version
    assert k1["version"] == app.repository.get(Case.create_id("k1")).version
    assert k1["status"] == "open"
    assert k1["store_id"] == "store-7"
    assert k1["classification"] == "complaint"
    assert k1["topic"] == "after_sales"
    assert k1["opened_at"] == "2024-05-01T10:00:00+00:00"
    assert k1["opened_by_event_id"] == "e1"
    ((last_join_id, _),) = [(nid, event) for nid, event in log if event is last_join]
    assert last_join_id in k1["notifications"]
    assert k1["last_notification_id"] == max(k1["notifications"])
    assert k2["case_ref"] == "k2"
    assert k2["customer_id"] == "cust-2"
    assert k2["channels"] == ["web"]
    assert k2["contacts"] == 1
    assert k2["opened_by_event_id"] == "e2"
    assert [row["case_ref"] for row in ledger.page(10)] == ["k1", "k2"]
    assert ledger.page(10)[0]["channels"] == ["app", "phone"]


def test_same_batch_again_changes_nothing(app: JourneyApplication, ledger: ComplaintLedger) -> None:
    ingest(app, SPECS)
    log = notifications(app)
    ledger.process(log)
    before = snapshot(ledger)

    assert ledger.process(log) == 0
    assert ledger.process(log[:2]) == 0

    assert snapshot(ledger) == before


def test_overlapping_batch_applies_only_what_is_new(
    app: JourneyApplication, ledger: ComplaintLedger, tmp_path: Path
) -> None:
    ingest(app, SPECS)
    log = notifications(app)

    assert ledger.process(log[:3]) == 3
    assert ledger.position() == log[2][0]
    assert ledger.process(log[1:]) == len(log) - 3

    once = new_ledger(tmp_path / "once.sqlite")
    try:
        once.process(log)
        assert snapshot(ledger) == snapshot(once)
    finally:
        once.store.close()


def test_position_survives_reopening_the_read_store(
    app: JourneyApplication, tmp_path: Path
) -> None:
    ingest(app, SPECS)
    log = notifications(app)
    first = new_ledger(tmp_path / "reopen.sqlite")
    first.process(log[:2])
    first.store.close()

    second = new_ledger(tmp_path / "reopen.sqlite")
    try:
        assert second.position() == log[1][0]
        assert second.process(log) == len(log) - 2
        assert {ref: row["contacts"] for ref, row in by_case_ref(second).items()} == {
            "k1": 3,
            "k2": 1,
        }
    finally:
        second.store.close()


def test_runner_catches_up_in_small_batches(
    app: JourneyApplication, ledger: ComplaintLedger, tmp_path: Path
) -> None:
    ingest(app, SPECS)
    runner = ProjectionRunner(
        NotificationReader(app.process_recorder, app.mapper), [ledger], batch_size=1
    )
    count = len(notifications(app))

    applied = [runner.run_once() for _ in range(count + 2)]

    assert applied == [1] * count + [0, 0]
    once = new_ledger(tmp_path / "once.sqlite")
    try:
        once.process(notifications(app))
        assert snapshot(ledger) == snapshot(once)
    finally:
        once.store.close()

    ingest(app, [("e6", "cust-2", "k6", "k2", "store")])
    added = len(notifications(app)) - count
    assert added > 0
    assert [runner.run_once() for _ in range(added + 1)] == [1] * added + [0]
    assert ledger.page(10)[1]["channels"] == ["web", "store"]


# -- rebuild equals live ------------------------------------------------------------------

CONTACT_SPECS = st.tuples(
    st.sampled_from(["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"]),
    st.sampled_from(["c1", "c2"]),
    st.sampled_from(["k1", "k2", "k3"]),
    st.sampled_from([None, "k1", "k2"]),
    st.sampled_from(["app", "phone", "web"]),
)


def deliveries(data: st.DataObject, count: int) -> list[tuple[int, int]]:
    """Slices ``[start, end)`` of a log of ``count`` notifications, as a follower would
    see them: each starts at or before the first not yet delivered; some go back over
    earlier ones (re-deliveries), and together they reach the end."""
    slices: list[tuple[int, int]] = []
    delivered = 0
    while delivered < count:
        start = data.draw(st.integers(min_value=0, max_value=delivered), label="start")
        end = data.draw(st.integers(min_value=start + 1, max_value=count), label="end")
        slices.append((start, end))
        delivered = max(delivered, end)
        if len(slices) > 3 * count:
            slices.append((delivered, count))
            break
    return slices


@settings(max_examples=30, deadline=None)
@given(specs=st.lists(CONTACT_SPECS, min_size=1, max_size=12), data=st.data())
def test_rebuild_in_any_batches_with_redeliveries_equals_one_pass(
    specs: list[ContactSpec], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        app = make_app(root)
        try:
            ingest(app, specs, per_batch=data.draw(st.integers(1, 4), label="per_batch"))
            log = notifications(app)
        finally:
            app.close()

        one_pass = new_ledger(root / "one.sqlite")
        live = new_ledger(root / "live.sqlite")
        try:
            one_pass.process(log)
            for start, end in deliveries(data, len(log)):
                live.process(log[start:end])
            expected, actual = snapshot(one_pass), snapshot(live)
        finally:
            one_pass.store.close()
            live.store.close()

    assert actual == expected
    assert expected[1] == (log[-1][0] if log else 0)
    assert sum(row["contacts"] for row in expected[0]) == len(case_facts(log))
    assert {row["case_id"] for row in expected[0]} == {
        str(event.originator_id) for event in case_facts(log)
    }


# -- R-CMP-07: repeat complaints ----------------------------------------------------------


def _complaint(event_id: str, customer: str, contact: str, topic: str, at: datetime) -> Any:
    return source(
        "contact.opened",
        {"contact_id": contact, "classification": "complaint", "topic": topic},
        at=at,
        event_id=event_id,
        customer_id=customer,
    )


def test_r_cmp_07_the_window_is_the_policy_s() -> None:
    """One definition of the 30 days: the policy's; the ledger and the KPI counters use it."""
    assert ledger_module.REPEAT_WINDOW is BASELINE.repeat_complaint_window
    assert kpi_metrics.REPEAT_WINDOW is BASELINE.repeat_complaint_window
    assert BASELINE.repeat_complaint_window == timedelta(days=30)


REPEAT_BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
REPEATS = [  # (contact, customer, topic, days after the base) → repeat?
    ("first", "c-a", "order", 0.0, False),
    ("within", "c-a", "order", 30.0, True),  # exactly 30 days after "first"
    ("other-topic", "c-a", "product", 1.0, False),
    ("other-customer", "c-b", "order", 1.0, False),
    ("too-late", "c-a", "order", 60.0 + 1 / 86400, False),  # 30 days + 1 s after "within"
]


@pytest.mark.parametrize("arrival", ["event-time order", "reversed"])
@pytest.mark.parametrize("per_batch", [1, 100])
def test_r_cmp_07_a_complaint_on_the_same_topic_within_30_days_is_a_repeat(
    tmp_path: Path, arrival: str, per_batch: int
) -> None:
    app = make_app(tmp_path)
    feed = Feed(app)
    specs = REPEATS if arrival == "event-time order" else REPEATS[::-1]
    for contact, customer, topic, days, _ in specs:
        feed(_complaint(f"e-{contact}", customer, contact, topic, REPEAT_BASE + timedelta(days)))
    ledger = new_ledger(tmp_path / "rm.sqlite")
    log = notifications(app)
    for first in range(0, len(log), per_batch):
        ledger.process(log[first : first + per_batch])
    flags = {row["case_ref"]: (row["repeat_complaint"], row["repeat_of"]) for row in rows(ledger)}
    first_case = str(Case.create_id("first"))
    assert flags == {
        "first": (False, None),
        "within": (True, first_case),
        "other-topic": (False, None),
        "other-customer": (False, None),
        "too-late": (False, None),
    }
    app.close()
    ledger.store.close()


@settings(max_examples=25, deadline=None)
@given(
    days=st.lists(
        st.sampled_from([0.0, 0.0, 1.0, 10.0, 29.5, 30.0, 31.0, 45.0]), min_size=2, max_size=6
    ),
    order=st.randoms(use_true_random=False),
    per_batch=st.integers(1, 7),
)
def test_r_cmp_07_what_a_case_repeats_does_not_depend_on_arrival_or_batches(
    days: list[float], order: Any, per_batch: int
) -> None:
    """Of several earlier complaints within the window, a case names the latest (ties in
    time: by case id), whatever order the cases arrive in and however they are batched.
    (It named the first one found, so a rebuild and the live ledger could disagree.)"""
    cases = [(f"k{i}", REPEAT_BASE + timedelta(d)) for i, d in enumerate(days)]
    key = {ref: (at, str(Case.create_id(ref))) for ref, at in cases}
    expected = {}
    for ref, (at, case_id) in key.items():
        earlier = [k for k in key.values() if k < (at, case_id) and at - k[0] <= timedelta(days=30)]
        expected[ref] = (bool(earlier), max(earlier)[1] if earlier else None)
    arrival = list(cases)
    order.shuffle(arrival)
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        feed = Feed(app)
        for ref, at in arrival:
            feed(_complaint(f"e-{ref}", "c-a", ref, "order", at))
        ledger = new_ledger(Path(folder) / "rm.sqlite")
        log = notifications(app)
        for first in range(0, len(log), per_batch):
            ledger.process(log[first : first + per_batch])
        found = {
            row["case_ref"]: (bool(row["repeat_complaint"]), row["repeat_of"])
            for row in rows(ledger)
        }
        app.close()
        ledger.store.close()
    assert found == expected


@pytest.mark.parametrize("sort", ["opened_at", "priority", "breaches", "reopen_count"])
def test_paging_one_row_at_a_time_reaches_every_row_once_whatever_the_sort(
    app: JourneyApplication, ledger: ComplaintLedger, sort: Any
) -> None:
    """A page's cursor is made from an answered row; sorted by priority it raised a KeyError
    (the answered row carries the priority, not its stored rank): a 500 past page one."""
    ingest(app, SPECS)
    ledger.process(notifications(app))
    whole = [row["case_id"] for row in ledger.page(500, sort=sort)]
    paged: list[str] = []
    after = None
    while page := ledger.page(1, after, sort=sort):
        paged.append(page[0]["case_id"])
        after = ledger.cursor_of(page[0], sort)
    assert len(whole) == 2
    assert paged == whole


@pytest.mark.parametrize(
    ("status", "awaiting"), [("open", False), ("resolved", True), ("closed", False)]
)
def test_r_cmp_04_a_resolved_case_reads_as_awaiting_confirmation(
    status: str, awaiting: bool
) -> None:
    """Resolved and neither confirmed nor closed without a reply: the ledger says so."""
    from projections.ledger.queries import judged_at

    row = judged_at({"status": status, "sla": {}}, None)
    assert row["awaiting_confirmation"] is awaiting

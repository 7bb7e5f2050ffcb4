"""Tampering with the event store directly in SQL, on SQLite and on PostgreSQL: verify
names the altered event, reports a deleted one (in the middle or the last) as missing, and
an event whose link the chain has passed but lacks as unexpected."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.audit import AsOf, Auditor, HistoryDamaged
from domain.case import Case
from journey.bootstrap import Runtime
from projections.audit_chain import AuditChain, VerifyReport
from tests.integration.drive import make_runtime, until
from tests.integration.event_table import EventTable
from tests.unit.feeding import Feed, source

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
CASE = "case-tamper"
CASE_ID = Case.create_id(CASE)


@pytest.fixture(
    params=[
        pytest.param(("embedded", "sqlite"), id="sqlite"),
        pytest.param(("embedded", "postgres"), id="postgres", marks=pytest.mark.postgres),
    ]
)
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    yield from make_runtime(request, tmp_path, settings_env)


@pytest.fixture
def chain(runtime: Runtime) -> AuditChain:
    made = AuditChain(runtime.read_store, runtime.app.process_recorder, runtime.app.mapper)
    made.create_tables()
    return made


@pytest.fixture
def auditor(runtime: Runtime, chain: AuditChain) -> Auditor:
    """A complaint case with an owner, options and a progress update, fully chained."""
    at = [T0 + timedelta(minutes=m) for m in range(5)]
    refused = Feed(runtime.app)(
        source(
            "contact.opened",
            {"contact_id": CASE, "classification": "complaint", "topic": "order"},
            at[0],
            "t-opened",
        ),
        source(
            "case.owner_assigned",
            {
                "case_id": CASE,
                "owner": "ag-17",
                "due_at": (T0 + timedelta(days=3)).isoformat(),
                "acceptance_criteria": "replacement delivered",
            },
            at[1],
            "t-owner",
        ),
        source("case.options_offered", {"case_id": CASE, "options": ["replace"]}, at[2], "t-opt"),
        source("case.progress_update_sent", {"case_id": CASE}, at[3], "t-progress"),
    )
    assert refused == []
    head = runtime.app.process_recorder.max_notification_id() or 0
    until(lambda: chain.run_once() >= 0 and chain.position() >= head, "the chain caught up")
    made = Auditor(runtime.app, chain)
    assert made.verify(CASE).ok
    return made


def version_of(auditor: Auditor, event_type: str) -> int:
    return next(int(h["version"]) for h in auditor.history(CASE) if h["type"] == event_type)


def problem(report: VerifyReport) -> tuple[int, str] | None:
    return None if report.problem is None else (report.problem.version, report.problem.kind)


def test_an_untouched_case_verifies(auditor: Auditor) -> None:
    report = auditor.verify(CASE)
    assert report.ok
    assert report.events_checked == report.stored == report.chained == len(auditor.history(CASE))


def test_changing_one_stored_event_is_reported_at_its_version(
    runtime: Runtime, auditor: Auditor
) -> None:
    version = version_of(auditor, "OwnerAssigned")
    table = EventTable(runtime)
    original = table.state(CASE_ID, version)
    assert b'"ag-17"' in original
    table.set_state(CASE_ID, version, original.replace(b'"ag-17"', b'"ag-66"'))

    report = auditor.verify(CASE)

    assert problem(report) == (version, "altered")
    assert report.events_checked == version - 1
    # The history shows what is stored now; only verify tells it was changed.
    assert auditor.history(CASE)[version - 1]["data"]["owner"] == "ag-66"


def test_bytes_that_no_longer_decode_are_listed_and_reported(
    runtime: Runtime, auditor: Auditor
) -> None:
    version = version_of(auditor, "OptionsOffered")
    EventTable(runtime).set_state(CASE_ID, version, b"{not json")

    assert problem(auditor.verify(CASE)) == (version, "altered")
    entry = auditor.history(CASE)[version - 1]
    assert (entry["version"], entry["kind"]) == (version, "undecodable")
    with pytest.raises(HistoryDamaged):
        auditor.state(CASE)
    assert auditor.state(CASE, AsOf("version", version - 1))["version"] == version - 1
    with pytest.raises(HistoryDamaged):  # by event time every fact is needed
        auditor.state(CASE, AsOf("event_time", datetime.now(UTC)))


def test_deleting_an_event_is_reported_as_the_gap(runtime: Runtime, auditor: Auditor) -> None:
    version = version_of(auditor, "OptionsOffered")
    EventTable(runtime).delete(CASE_ID, version)

    report = auditor.verify(CASE)

    assert problem(report) == (version, "missing")
    assert report.stored == report.chained - 1
    with pytest.raises(HistoryDamaged):
        auditor.state(CASE)


def test_deleting_the_last_event_is_detected(runtime: Runtime, auditor: Auditor) -> None:
    last = len(auditor.history(CASE))
    EventTable(runtime).delete(CASE_ID, last)

    assert problem(auditor.verify(CASE)) == (last, "missing")
    assert len(auditor.history(CASE)) == last - 1


def test_deleting_every_event_still_reports_the_first_as_missing(
    runtime: Runtime, auditor: Auditor
) -> None:
    table = EventTable(runtime)
    for version in range(1, len(auditor.history(CASE)) + 1):
        table.delete(CASE_ID, version)

    assert problem(auditor.verify(CASE)) == (1, "missing")


def test_an_event_put_back_under_a_deleted_version_is_still_altered(
    runtime: Runtime, auditor: Auditor
) -> None:
    """Delete and re-insert with other bytes (a new notification id): still altered."""
    version = version_of(auditor, "OwnerAssigned")
    table = EventTable(runtime)
    topic, original = table.row(CASE_ID, version)
    table.delete(CASE_ID, version)
    table.insert(CASE_ID, version, topic, original.replace(b'"ag-17"', b'"ag-99"'))

    assert problem(auditor.verify(CASE)) == (version, "altered")


def test_an_event_whose_link_was_removed_is_unexpected(runtime: Runtime, auditor: Auditor) -> None:
    """The chain has passed the event but holds no link for it: the chain itself was
    changed (or the event was slipped in under a notification id already passed)."""
    version = version_of(auditor, "OptionsOffered")
    with runtime.read_store.transaction() as cursor:
        cursor.execute(
            "DELETE FROM audit_chain WHERE aggregate_id = :id AND version = :v",
            {"id": str(CASE_ID), "v": version},
        )

    assert problem(auditor.verify(CASE)) == (version, "unexpected")

"""Verification of any aggregate by the id its channel sent, and of the whole store
(issue 13, item 11), on a real application (SQLite): every kind verifies by its reference;
an unknown kind or reference is refused; the whole store is every aggregate the chain
knows and every one the store holds (one stored but never chained is reported), a page at
a time; each verification is counted beside the chain and each failure kept and logged."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.readstore import SQLiteReadStore
from application.existing_ids import originator_pages_of
from application.service import JourneyApplication
from application.verification import LISTED, Verifier
from contracts.envelope import validate
from domain.errors import NotFound
from domain.order import Order
from domain.registry import KINDS, UnknownKind, kind_label, kind_named, kind_of_class
from projections.audit_chain import GENESIS, AuditChain, Link, VerificationCount, compare, link
from tests.e2e.journey_script import Journey, script
from tests.unit.feeding import NOW, Feed

AT = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture
def chain(app: JourneyApplication, tmp_path: Path) -> Iterator[AuditChain]:
    store = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    made = AuditChain(store, app.process_recorder, app.mapper, batch_size=7)
    made.create_tables()
    yield made
    store.close()


@pytest.fixture
def verifier(app: JourneyApplication, chain: AuditChain) -> Verifier:
    return Verifier(app, chain, batch=3, clock=lambda: AT)


def catch_up(chain: AuditChain, app: JourneyApplication) -> None:
    head = app.process_recorder.max_notification_id() or 0
    while chain.position() < head:
        assert chain.run_once() > 0


def feed_journey(app: JourneyApplication) -> Journey:
    """The scripted journey (customer, order, case, contacts, return, survey, callback)."""
    journey = script()
    events = [validate(e, now=NOW, max_future=timedelta(minutes=5)) for e in journey.events]
    assert Feed(app)(*events) == []
    return journey


def references(j: Journey) -> list[tuple[str, str]]:
    return [
        ("cases", j.case),
        ("contacts", j.case),
        ("contacts", j.phone_contact),
        ("customers", j.customer),
        ("orders", j.order),
        ("returns", j.return_id),
        ("surveys", j.survey),
        ("callbacks", j.callback),
    ]


# -- the kinds ---------------------------------------------------------------------------------


def test_each_kind_names_its_aggregate_and_finds_it_by_the_channels_id() -> None:
    assert [k.name for k in KINDS] == [
        "cases", "contacts", "customers", "orders", "returns", "callbacks", "surveys",
    ]  # fmt: skip
    for kind in KINDS:
        assert kind_named(kind.name) is kind
        assert kind.id_of("x-1") == kind.aggregate.create_id("x-1")
        assert kind_of_class(kind.aggregate.__name__) is kind
        assert kind_label(kind.aggregate.__name__) == kind.name
    assert kind_label("ParkingLot") == "ParkingLot"
    with pytest.raises(UnknownKind) as refused:
        kind_named("parkinglots")
    assert isinstance(refused.value, NotFound)
    assert "cases, contacts" in str(refused.value)


# -- one aggregate -----------------------------------------------------------------------------


def test_every_kind_verifies_by_the_id_its_channel_sent(
    app: JourneyApplication, chain: AuditChain, verifier: Verifier
) -> None:
    journey = feed_journey(app)
    catch_up(chain, app)
    for kind, ref in references(journey):
        report = verifier.verify(kind, ref)
        assert report.aggregate_id == kind_named(kind).id_of(ref)
        assert (report.ok, report.pending) == (True, 0), (kind, ref)
        assert report.events_checked == report.stored == report.chained > 0
    counted = {c.kind: c for c in chain.verification_counts()}
    assert counted["contacts"] == VerificationCount("contacts", 2, 0)
    assert set(counted) == {k.name for k in KINDS}
    assert chain.recorded_failures() == []


def test_an_unknown_kind_or_reference_is_refused(
    app: JourneyApplication, chain: AuditChain, verifier: Verifier
) -> None:
    journey = feed_journey(app)
    catch_up(chain, app)
    with pytest.raises(UnknownKind):
        verifier.verify("order", journey.order)
    with pytest.raises(NotFound):
        verifier.verify("orders", "no-such-order")
    with pytest.raises(NotFound):
        verifier.verify("orders", journey.case)  # a case's id is no order's
    assert chain.verification_counts() == []


def test_a_failure_is_counted_kept_once_and_logged(
    app: JourneyApplication,
    chain: AuditChain,
    verifier: Verifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    journey = feed_journey(app)
    catch_up(chain, app)
    order_id = Order.create_id(journey.order)
    with chain.store.transaction() as cursor:  # a link changed: the chain and store differ
        cursor.execute(
            "UPDATE audit_chain SET hash = :h WHERE aggregate_id = :id AND version = 2",
            {"h": "00" * 32, "id": str(order_id)},
        )

    with caplog.at_level(logging.WARNING, logger="application.verification"):
        first = verifier.verify("orders", journey.order)
        verifier.verify("orders", journey.order)

    assert first.problem is not None
    assert (first.problem.version, first.problem.kind) == (2, "altered")
    assert chain.verification_counts() == [VerificationCount("orders", 2, 2)]
    (kept,) = chain.recorded_failures()
    assert (kept.aggregate_id, kept.version, kept.problem) == (order_id, 2, "altered")
    assert (kept.kind, kept.ref, kept.times) == ("orders", journey.order, 2)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    line = warnings[0]
    assert (line.kind, line.ref, line.version, line.problem) == (  # type: ignore[attr-defined]
        "orders",
        journey.order,
        2,
        "altered",
    )
    assert str(order_id) in line.getMessage()


def test_a_state_stored_as_text_is_an_alteration_not_a_crash() -> None:
    aggregate = UUID("00000000-0000-4000-8000-000000000002")
    topic = "domain.order:Order.Placed"
    chained = link(GENESIS, aggregate, 1, topic, b"{}")
    as_text: Any = "{}"
    report = compare(
        aggregate,
        [StoredEvent(aggregate, 1, topic, as_text)],
        [Link(1, 1, chained.hex())],
        position=1,
        head=1,
    )
    assert report.problem is not None
    assert (report.problem.version, report.problem.kind) == (1, "altered")


# -- the whole store ---------------------------------------------------------------------------


def test_an_intact_store_verifies_every_aggregate_of_every_kind(
    app: JourneyApplication, chain: AuditChain, verifier: Verifier
) -> None:
    feed_journey(app)
    catch_up(chain, app)
    seen: list[tuple[int, int]] = []

    report = verifier.verify_store(progress=lambda done, total: seen.append((done, total)))

    expected = verifier.expected()
    assert report.ok
    assert seen[-1] == (expected, expected)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    # The case and the first contact share the channel's id; each is its own aggregate.
    assert {name: t.aggregates for name, t in report.kinds.items()} == {
        "cases": 1, "contacts": 2, "customers": 1, "orders": 1, "returns": 1, "surveys": 1,
        "callbacks": 1,
    }  # fmt: skip
    total = report.total
    assert total.aggregates == expected == 8
    assert total.events_checked == app.process_recorder.max_notification_id()
    assert (total.failed, total.pending, report.failures) == (0, 0, [])
    as_json = report.as_json()
    assert (as_json["ok"], as_json["failures_not_listed"]) == (True, 0)
    assert as_json["total"] == {
        "aggregates": 8, "events_checked": total.events_checked, "ok": 8, "failed": 0, "pending": 0,
    }  # fmt: skip
    assert as_json["kinds"]["contacts"]["aggregates"] == 2
    assert sum(c.verified for c in chain.verification_counts()) == 8


def test_the_store_reports_a_tampered_aggregate_and_one_it_never_chained(
    app: JourneyApplication, chain: AuditChain, verifier: Verifier
) -> None:
    journey = feed_journey(app)
    catch_up(chain, app)
    order_id = Order.create_id(journey.order)
    callback_id = kind_named("callbacks").id_of(journey.callback)
    with chain.store.transaction() as cursor:
        cursor.execute(
            "UPDATE audit_chain SET hash = :h WHERE aggregate_id = :id AND version = 1",
            {"h": "00" * 32, "id": str(order_id)},
        )
        # The chain forgets the callback entirely: only the store still holds it.
        for table in ("audit_chain", "audit_subjects"):
            cursor.execute(
                f"DELETE FROM {table} WHERE aggregate_id = :id", {"id": str(callback_id)}
            )

    report = verifier.verify_store()

    assert not report.ok
    found = {(f.kind, f.ref, f.aggregate_id, f.version, f.problem) for f in report.failures}
    assert found == {
        ("orders", journey.order, order_id, 1, "altered"),
        ("callbacks", journey.callback, callback_id, 1, "unexpected"),
    }
    assert (report.kinds["orders"].failed, report.kinds["callbacks"].failed) == (1, 1)
    assert report.total.aggregates == 8
    assert {(c.kind, c.failed) for c in chain.verification_counts() if c.failed} == {
        ("orders", 1),
        ("callbacks", 1),
    }

    only_orders = verifier.verify_store(kinds=["orders"])
    assert set(only_orders.kinds) == {"orders"}
    assert [f.aggregate_id for f in only_orders.failures] == [order_id]
    only_callbacks = verifier.verify_store(kinds=["callbacks"])
    assert [f.problem for f in only_callbacks.failures] == ["unexpected"]


def test_events_not_chained_yet_are_pending_not_failures(
    app: JourneyApplication, chain: AuditChain, verifier: Verifier
) -> None:
    feed_journey(app)
    stored = app.process_recorder.max_notification_id()

    report = verifier.verify_store()

    assert report.ok
    assert (report.total.pending, report.total.events_checked) == (stored, 0)
    assert report.total.aggregates == 8  # found through the store: the chain knows none


def test_a_store_report_lists_a_bounded_number_of_failures_and_counts_the_rest(
    app: JourneyApplication, chain: AuditChain
) -> None:
    journey = feed_journey(app)
    catch_up(chain, app)
    with chain.store.transaction() as cursor:
        cursor.execute("UPDATE audit_chain SET hash = :h WHERE version = 1", {"h": "00" * 32})

    report = Verifier(app, chain, listed=2).verify_store()

    assert LISTED >= 100
    assert (report.total.failed, len(report.failures)) == (8, 2)
    assert report.as_json()["failures_not_listed"] == 6
    assert len(chain.recorded_failures()) == 8
    assert kind_named("orders").id_of(journey.order) in {
        f.aggregate_id for f in chain.recorded_failures()
    }


def test_originator_pages_cover_every_aggregate_once(
    app: JourneyApplication, tmp_path: Path
) -> None:
    feed_journey(app)
    stored = {
        UUID(row[0])
        for row in sqlite3.connect(tmp_path / "events.sqlite").execute(
            "SELECT DISTINCT originator_id FROM stored_events"
        )
    }
    pages = list(originator_pages_of(app.process_recorder)(3))
    assert [len(p) for p in pages[:-1]] == [3] * (len(pages) - 1)
    flat = [i for page in pages for i in page]
    assert flat == sorted(flat, key=lambda i: i.hex)
    assert set(flat) == stored
    assert len(flat) == len(stored) == 8

    in_memory = JourneyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    feed_journey(in_memory)
    pages = list(originator_pages_of(in_memory.process_recorder)(3))
    flat = [i for page in pages for i in page]
    assert len(flat) == len(set(flat)) == 8

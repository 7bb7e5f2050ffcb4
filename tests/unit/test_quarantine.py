"""One read model stops none of the others (issue 13, item 5): a read model that raises on a
stored event holds that event in quarantine for itself, with the reason, and moves on; the
other read models apply it; trouble with the store is raised and skips nothing; a rebuild
after the fix applies what was held and empties the quarantine (``projections.quarantine``,
``projections.runner.apply_guarded``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from types import MethodType

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import Cursor, Row, SQLiteReadStore
from application.service import JourneyApplication
from projections.audit_chain import AuditChain, as_uuid
from projections.base import Notified, Projection
from projections.customer360 import Customer360
from projections.ledger import ComplaintLedger
from projections.quarantine import Quarantine, printable
from projections.rebuild import rebuild
from projections.runner import NotificationReader, ProjectionRunner
from tests.builders.apps import make_app
from tests.unit.complaint_specs import SPECS, ingest


class Poisoned:
    """Makes a read model raise ``error`` on every batch holding one of ``ids``
    (notification ids), as a read model with a bug, or a store refusing a value, would:
    ``projection`` alone, or every instance of its class (``every_copy``: a rebuild's
    fresh copy too)."""

    def __init__(
        self,
        projection: Projection,
        ids: Collection[int],
        error: Callable[[], Exception],
        monkeypatch: pytest.MonkeyPatch | None = None,
    ) -> None:
        self.ids = set(ids)
        self._error = error
        original = type(projection).apply_batch
        poisoned = self

        def apply_batch(self: Projection, cursor: Cursor, batch: Sequence[Notified]) -> None:
            if any(nid in poisoned.ids for nid, _ in batch):
                raise poisoned._error()
            original(self, cursor, batch)

        if monkeypatch is None:
            projection.apply_batch = MethodType(apply_batch, projection)  # type: ignore[method-assign]
        else:
            monkeypatch.setattr(type(projection), "apply_batch", apply_batch)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[JourneyApplication]:
    made = make_app(tmp_path)
    ingest(made, SPECS)
    yield made
    made.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteReadStore]:
    made = SQLiteReadStore(tmp_path / "read.sqlite")
    yield made
    made.close()


def built(store: SQLiteReadStore, *kinds: type[Projection]) -> tuple[list[Projection], Quarantine]:
    quarantine = Quarantine(store)
    quarantine.create_tables()
    projections = [kind(store) for kind in kinds]
    for projection in projections:
        projection.create_tables()
    return projections, quarantine


def head(app: JourneyApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


def run_to_head(runner: ProjectionRunner, projections: Sequence[Projection], last: int) -> None:
    for _ in range(last + 2):
        if min(p.position() for p in projections) >= last:
            return
        runner.run_once()
    raise AssertionError("the read models did not reach the head")


def table(projection: Projection) -> list[Row]:
    name = projection.t(projection.tables[0])
    return projection.store.query(f"SELECT * FROM {name} ORDER BY 1")


def test_a_read_model_that_raises_on_one_event_holds_it_and_the_others_apply_it(
    app: JourneyApplication, store: SQLiteReadStore, tmp_path: Path
) -> None:
    (ledger, customers), quarantine = built(store, ComplaintLedger, Customer360)
    reader = NotificationReader(app.process_recorder, app.mapper)
    poisoned_id = 3
    Poisoned(customers, {poisoned_id}, lambda: RuntimeError("no such customer\x00 row"))
    runner = ProjectionRunner(reader, [ledger, customers], batch_size=4, quarantine=quarantine)

    run_to_head(runner, [ledger, customers], head(app))

    held = quarantine.page()
    assert [(q.read_model, q.notification_id) for q in held] == [(Customer360.name, poisoned_id)]
    assert held[0].reason == "RuntimeError: no such customer\\x00 row"
    event = reader.read(poisoned_id - 1, 1)[0][1]
    assert (held[0].originator_id, held[0].originator_version) == (
        str(event.originator_id),
        event.originator_version,
    )
    assert held[0].topic.endswith(type(event).__qualname__)
    assert quarantine.counts() == {Customer360.name: 1}
    # The ledger applied everything, as it does alone.
    alone, _ = built(SQLiteReadStore(tmp_path / "alone.sqlite"), ComplaintLedger)
    alone[0].process(reader.read(0, 10_000))
    assert table(ledger) == table(alone[0])


def test_trouble_with_the_store_is_raised_and_skips_nothing(
    app: JourneyApplication, store: SQLiteReadStore
) -> None:
    (ledger,), quarantine = built(store, ComplaintLedger)
    poison = Poisoned(ledger, {2}, lambda: sqlite3.OperationalError("database is locked"))
    runner = ProjectionRunner(
        NotificationReader(app.process_recorder, app.mapper), [ledger], quarantine=quarantine
    )

    with pytest.raises(sqlite3.OperationalError):
        runner.run_once()
    assert (ledger.position(), quarantine.counts()) == (0, {})

    poison.ids.clear()  # the store answers again
    run_to_head(runner, [ledger], head(app))
    assert quarantine.counts() == {}


@pytest.mark.parametrize(
    "error",
    [
        lambda: psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        lambda: OverflowError("Python int too large to convert to SQLite INTEGER"),
        lambda: KeyError("customer_id"),
    ],
    ids=["a value the store refuses", "a number the store cannot hold", "a bug"],
)
def test_what_says_something_about_the_event_is_held_not_retried(
    app: JourneyApplication, store: SQLiteReadStore, error: Callable[[], Exception]
) -> None:
    (ledger,), quarantine = built(store, ComplaintLedger)
    Poisoned(ledger, {1}, error)
    runner = ProjectionRunner(
        NotificationReader(app.process_recorder, app.mapper), [ledger], quarantine=quarantine
    )
    run_to_head(runner, [ledger], head(app))
    assert [q.reason.partition(":")[0] for q in quarantine.page()] == [type(error()).__name__]


def test_a_rebuild_after_the_fix_applies_what_was_held_and_empties_the_quarantine(
    app: JourneyApplication,
    store: SQLiteReadStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (ledger,), quarantine = built(store, ComplaintLedger)
    reader = NotificationReader(app.process_recorder, app.mapper)
    poison = Poisoned(ledger, {2, 5}, lambda: ValueError("bug"), monkeypatch)
    runner = ProjectionRunner(reader, [ledger], quarantine=quarantine)
    run_to_head(runner, [ledger], head(app))
    assert quarantine.counts() == {ComplaintLedger.name: 2}

    # A rebuild while the bug is still there holds the same events again (in the copy's
    # quarantine, which replaces the live one at the swap).
    rebuild(ledger, reader, quarantine=quarantine)
    assert [q.notification_id for q in quarantine.page()] == [2, 5]

    poison.ids.clear()  # the fix is deployed
    done = rebuild(ledger, reader, quarantine=quarantine)
    assert done.swapped
    assert quarantine.counts() == {}
    alone, _ = built(SQLiteReadStore(tmp_path / "alone.sqlite"), ComplaintLedger)
    alone[0].process(reader.read(0, 10_000))
    assert table(ledger) == table(alone[0])


def test_the_audit_chain_holds_what_it_cannot_chain_and_verify_says_so(
    app: JourneyApplication, store: SQLiteReadStore
) -> None:
    quarantine = Quarantine(store)
    quarantine.create_tables()
    chain = AuditChain(store, app.recorder, app.mapper)
    chain.create_tables()
    poisoned = app.process_recorder.select_notifications(start=2, limit=1)[0]
    original = chain._chain

    def faulty(cursor: Cursor, notifications: Sequence[object]) -> None:
        if any(getattr(n, "id", None) == poisoned.id for n in notifications):
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        original(cursor, notifications)  # type: ignore[arg-type]

    chain._chain = faulty  # type: ignore[method-assign]
    runner = ProjectionRunner(
        NotificationReader(app.process_recorder, app.mapper),
        [],
        followers=[chain],
        quarantine=quarantine,
    )
    for _ in range(head(app) + 2):
        runner.run_once()

    assert chain.position() == head(app)
    [held] = quarantine.page("audit_chain")
    assert (held.notification_id, held.originator_version) == (poisoned.id, 2)
    assert held.reason.startswith("UnicodeEncodeError:")
    assert not chain.verify(as_uuid(poisoned.originator_id)).ok
    others = {
        n.originator_id
        for n in app.process_recorder.select_notifications(start=1, limit=10_000)
        if n.originator_id != poisoned.originator_id
    }
    assert others
    assert all(chain.verify(as_uuid(other)).ok for other in others)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_quarantine_equals_skipping_exactly_the_held_events(
    app: JourneyApplication, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Property: whatever events fail and however the log is cut into batches, the read
    model ends as one that never saw the failing events, each of which is held once."""
    last = head(app)
    poisoned = data.draw(st.sets(st.integers(1, last), max_size=4), label="poisoned")
    batch_size = data.draw(st.integers(1, last + 1), label="batch size")
    folder = tmp_path_factory.mktemp("q")
    store = SQLiteReadStore(folder / "read.sqlite")
    try:
        (ledger,), quarantine = built(store, ComplaintLedger)
        reader = NotificationReader(app.process_recorder, app.mapper)
        Poisoned(ledger, poisoned, lambda: ValueError("bug"))
        runner = ProjectionRunner(reader, [ledger], batch_size=batch_size, quarantine=quarantine)
        run_to_head(runner, [ledger], last)

        assert sorted(q.notification_id for q in quarantine.page()) == sorted(poisoned)
        clean, _ = built(SQLiteReadStore(folder / "clean.sqlite"), ComplaintLedger)
        clean[0].process([n for n in reader.read(0, 10_000) if n[0] not in poisoned])
        assert table(ledger) == table(clean[0])
    finally:
        store.close()


def test_a_reason_is_printable_and_bounded() -> None:
    assert printable("a\x00b\nc") == "a\\x00b\\nc"
    assert len(printable("x" * 5000)) == 1000

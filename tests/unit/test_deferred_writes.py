"""On SQLite a read model computes each batch in a read snapshot and takes the write lock
only to write it (``projections.deferred_writes``), so read models in several processes
apply the log side by side (``JOURNEY_PROJECTION_PROCESSES``, ``ReadModels.share``).

What must hold: the tables end exactly as a serial apply leaves them, whatever the batch
sizes; a batch whose snapshot went stale (another runner moved the position, a rebuild
swapped the tables) is applied again under the lock, never twice; a batch that would read
its own writes is applied under the lock; and read models shared among runners running at
once end as one runner leaves them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import Cursor, Row, SQLiteReadStore
from application.service import JourneyApplication
from projections.audit_chain import AuditChain
from projections.base import Notified, Projection
from projections.deferred_writes import DeferredWrites, NeedsWriteLock
from projections.dispatch import Handles
from projections.rebuild import rebuild
from projections.registry import READ_MODELS, ReadModels, build_read_models
from projections.runner import NotificationReader, ProjectionRunner
from tests.builders.threads import caught_up_at_once

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "events-d0a78b9.sqlite"
"""Journeys of 40 simulated customers over 30 days: every kind of event the read models
handle (tests/unit/test_stored_before_the_layers.py)."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JourneyApplication]:
    copy = tmp_path_factory.mktemp("golden") / "events.sqlite"
    shutil.copyfile(GOLDEN, copy)
    made = JourneyApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(copy)}
    )
    yield made
    made.close()


def read_models(app: JourneyApplication, store: SQLiteReadStore) -> ReadModels:
    models = build_read_models(store, app.recorder, app.mapper)
    models.create_tables()
    return models


def runner(app: JourneyApplication, models: ReadModels, batch_size: int) -> ProjectionRunner:
    reader = NotificationReader(app.process_recorder, app.mapper)
    return ProjectionRunner(
        reader, models.projections, batch_size=batch_size, followers=models.followers
    )


def head(app: JourneyApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


def caught_up(app: JourneyApplication, run: ProjectionRunner) -> None:
    while run.run_once():
        pass


def tables(models: ReadModels, store: SQLiteReadStore) -> dict[str, list[Row]]:
    """Every read model table's rows (the audit chain's too), in a stable order."""
    return {
        table: sorted(store.query(f"SELECT * FROM {table}"), key=repr)
        for _, model in models.built
        for table in model.tables
    }


def serial(app: JourneyApplication, folder: Path) -> dict[str, list[Row]]:
    """The tables as the read models applying every batch under the write lock leave them
    (the store told it is not one-writer, as PostgreSQL is not)."""
    store = SQLiteReadStore(folder / "serial.sqlite")
    store.one_writer = False
    try:
        models = read_models(app, store)
        caught_up(app, runner(app, models, 5000))
        return tables(models, store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def expected(app: JourneyApplication, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return serial(app, tmp_path_factory.mktemp("serial"))


# -- the cursor ---------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteReadStore]:
    made = SQLiteReadStore(tmp_path / "read.sqlite")
    with made.transaction() as cursor:
        cursor.execute("CREATE TABLE mine (k TEXT PRIMARY KEY, v INTEGER)")
        cursor.execute("CREATE TABLE other (k TEXT PRIMARY KEY, v INTEGER)")
        cursor.execute("INSERT INTO mine VALUES ('a', 1)")
        cursor.execute("INSERT INTO other VALUES ('a', 1)")
    yield made
    made.close()


def test_reads_run_writes_wait_for_the_replay(store: SQLiteReadStore) -> None:
    with store.reading() as reader:
        deferred = DeferredWrites(reader)
        deferred.execute("SELECT v FROM mine WHERE k = :k", {"k": "a"})
        assert deferred.fetchall() == [{"v": 1}]
        row = {"k": "b", "v": 2}
        deferred.execute("INSERT INTO mine VALUES (:k, :v)", row)
        deferred.executemany("UPDATE mine SET v = v + 10 WHERE k = :k", [{"k": "a"}])
        row["v"] = 99  # changed after it was written: the write keeps what it was given
        deferred.execute("SELECT v FROM other WHERE k = 'a'")  # not written: may be read
        assert deferred.fetchall() == [{"v": 1}]
    assert store.query("SELECT * FROM mine ORDER BY k") == [{"k": "a", "v": 1}]  # nothing yet
    with store.transaction() as cursor:
        deferred.replay(cursor)
    assert store.query("SELECT * FROM mine ORDER BY k") == [
        {"k": "a", "v": 11},
        {"k": "b", "v": 2},
    ]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("INSERT INTO mine VALUES ('c', 3)", "SELECT * FROM mine"),
        ("DELETE FROM mine WHERE k = 'a'", "SELECT m.v FROM other o JOIN Mine m ON m.k = o.k"),
        ("insert or replace into mine values ('c', 3)", "SELECT count(*) FROM mine"),
        ("UPDATE mine SET v = 2", "rowcount"),
        ("UPDATE mine SET v = 2", "fetchall"),
        ("SELECT 1", "CREATE TABLE x (k TEXT)"),
        ("SELECT 1", "PRAGMA schema_version"),
        ("SELECT 1", "executemany SELECT * FROM mine"),
    ],
)
def test_what_a_snapshot_cannot_answer_asks_for_the_lock(
    store: SQLiteReadStore, first: str, then: str
) -> None:
    with store.reading() as reader:
        deferred = DeferredWrites(reader)
        deferred.execute(first)
        with pytest.raises(NeedsWriteLock):
            ask(deferred, then)


def ask(deferred: DeferredWrites, what: str) -> object:
    if what == "rowcount":
        return deferred.rowcount
    if what == "fetchall":
        return deferred.fetchall()
    if what.startswith("executemany "):
        return deferred.executemany(what.removeprefix("executemany "), [{}])
    return deferred.execute(what)


class Tally(Projection):
    """Counts events in a row it reads back after writing (a batch that reads its own
    writes): it can only be applied under the lock."""

    name = "tally"
    tables = ("tally",)
    handles = Handles[Any]("tally")

    def ddl(self) -> Sequence[str]:
        return [f"CREATE TABLE IF NOT EXISTS {self.t('tally')} (k TEXT PRIMARY KEY, n INTEGER)"]

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        for _ in batch:
            cursor.execute(
                f"INSERT INTO {self.t('tally')} VALUES ('n', 1)"
                " ON CONFLICT (k) DO UPDATE SET n = n + 1"
            )
            cursor.execute(f"SELECT n FROM {self.t('tally')}")
            assert cursor.fetchall()


def test_a_batch_that_reads_its_own_writes_is_applied_under_the_lock(tmp_path: Path) -> None:
    store = SQLiteReadStore(tmp_path / "read.sqlite")
    tally = Tally(store)
    tally.create_tables()
    assert tally.process([(1, object()), (2, object()), (3, object())]) == 3
    assert tally.process([(2, object()), (3, object()), (4, object())]) == 1  # 2, 3 seen
    assert store.query("SELECT n FROM tally") == [{"n": 4}]
    store.close()


# -- whole read models ----------------------------------------------------------------------------


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch_size=st.integers(1, 400))
def test_computed_in_snapshots_the_tables_end_as_a_serial_apply_leaves_them(
    app: JourneyApplication,
    expected: Any,
    tmp_path_factory: pytest.TempPathFactory,
    batch_size: int,
) -> None:
    store = SQLiteReadStore(tmp_path_factory.mktemp("deferred") / "read.sqlite")
    try:
        models = read_models(app, store)
        caught_up(app, runner(app, models, batch_size))
        assert tables(models, store) == expected
    finally:
        store.close()


def interfering(store: SQLiteReadStore, between: Callable[[], object]) -> None:
    """Run ``between()`` once, when a read model next asks ``store`` for its write
    transaction: after it computed its batch in a snapshot, before it takes the lock."""
    transaction = store.transaction

    def then_interfere() -> Any:
        store.transaction = transaction  # type: ignore[method-assign]
        between()
        return transaction()

    store.transaction = then_interfere  # type: ignore[method-assign]


def test_a_batch_another_runner_applied_meanwhile_is_not_applied_twice(
    app: JourneyApplication, expected: Any, tmp_path: Path
) -> None:
    store = SQLiteReadStore(tmp_path / "read.sqlite")
    models = read_models(app, store)
    other = read_models(app, store)  # the same tables: a second runner of the same models
    events = NotificationReader(app.process_recorder, app.mapper).read(0, head(app))
    for mine, theirs in zip(models.projections, other.projections, strict=True):
        interfering(store, partial(theirs.process, events[:300]))
        assert mine.process(events[:200]) == 0  # position moved past it: nothing applied
        assert mine.position() == events[299][0]
        assert mine.process(events) == len(events) - 300
    caught_up(app, runner(app, models, 5000))
    assert tables(models, store) == expected
    store.close()


def test_links_another_chain_follower_made_meanwhile_are_not_made_twice(
    app: JourneyApplication, expected: Any, tmp_path: Path
) -> None:
    """The audit chain computes its links in a snapshot too; a second follower that moved
    the chain's position between the snapshot and the write wins, and the first chains
    what follows, under the lock."""
    store = SQLiteReadStore(tmp_path / "read.sqlite")
    models = read_models(app, store)
    chain = models.get(AuditChain)
    other = AuditChain(store, app.recorder, app.mapper, batch_size=300)

    def other_first() -> None:
        assert other.run_once() == 300

    interfering(store, other_first)
    assert chain.run_once(limit=200) == 200  # the 200 after the other's 300
    ids = [n.id for n in app.process_recorder.select_notifications(start=0, limit=500)]
    assert chain.position() == ids[499]
    caught_up(app, runner(app, models, 5000))
    assert tables(models, store) == expected
    store.close()


class Capped:
    """The notification log as if its head were ``cap``."""

    def __init__(self, reader: NotificationReader, cap: int) -> None:
        self._reader = reader
        self._cap = cap

    def head(self) -> int:
        return self._cap

    def read(self, after: int, limit: int, strict: bool = False) -> list[Notified]:
        return [n for n in self._reader.read(after, limit, strict) if n[0] <= self._cap]


def test_tables_swapped_by_a_rebuild_meanwhile_are_written_only_as_they_now_are(
    app: JourneyApplication, expected: Any, tmp_path: Path
) -> None:
    """The rebuild swaps its copy in at the very position of the snapshot, so only the
    schema tells that the tables under the snapshot are no longer the live ones."""
    store = SQLiteReadStore(tmp_path / "read.sqlite")
    models = read_models(app, store)
    reader = NotificationReader(app.process_recorder, app.mapper)
    events = reader.read(0, head(app))
    at = events[249][0]
    for projection in models.projections:
        projection.process(events[:250])
        with store.transaction() as cursor:  # stale rows, which the rebuild puts right
            for table in projection.tables:
                cursor.execute(f"DELETE FROM {table}")
        swap = Capped(reader, at)
        interfering(store, partial(rebuild, projection, swap, batch_size=50))  # type: ignore[arg-type]
        projection.process(events)
    caught_up(app, runner(app, models, 5000))
    assert tables(models, store) == expected
    store.close()


# -- shares ---------------------------------------------------------------------------------------


@given(count=st.integers(1, 9))
def test_every_read_model_is_in_exactly_one_share(count: int) -> None:
    models = ReadModels(tuple((declared, declared.name) for declared in READ_MODELS), None)  # type: ignore[arg-type]
    shares = [models.share(i, count) for i in range(1, count + 1)]
    names = [declared.name for share in shares for declared, _ in share.built]
    assert sorted(names) == sorted(declared.name for declared in READ_MODELS)
    costs = [sum(declared.cost for declared, _ in share.built) for share in shares]
    heaviest = max(declared.cost for declared in READ_MODELS)
    assert max(costs) - min(costs) <= heaviest  # greedy: no share outweighs another by more
    assert [models.share(i, count) for i in range(1, count + 1)] == shares  # the same split
    with pytest.raises(ValueError, match="no such share"):
        models.share(count + 1, count)


@pytest.mark.parametrize("count", [2, 3])
def test_shares_applied_at_once_end_as_one_runner_leaves_them(
    app: JourneyApplication, expected: Any, tmp_path: Path, count: int
) -> None:
    """Each share in a thread of its own with its own connection, all at once: SQLite's
    write lock is taken by each in turn, the snapshots computed side by side."""
    store = SQLiteReadStore(tmp_path / "read.sqlite")
    models = read_models(app, store)
    runners = [runner(app, models.share(i, count), 37) for i in range(1, count + 1)]
    caught_up_at_once(runners)
    assert {p.position() for p in models.projections} == {head(app)}
    assert tables(models, store) == expected
    store.close()

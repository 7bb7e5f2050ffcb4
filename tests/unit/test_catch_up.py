"""A read model far behind the head catches up without its query indexes and builds them
once it has caught up (``projections.catch_up``): the tables end the same as a read model
that kept them all along, every index is there again, and the record of the deferral
survives a restart and a process that creates the tables meanwhile."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.readstore import Row, SQLiteReadStore
from application.service import JourneyApplication
from projections import catch_up
from projections.base import Projection
from projections.catch_up import CatchUp
from projections.rebuild import rebuild
from projections.registry import ReadModels, build_read_models
from projections.runner import NotificationReader, ProjectionRunner
from tests.unit.complaint_specs import mixed_history


@pytest.fixture(scope="module")
def app() -> Iterator[JourneyApplication]:
    with mixed_history() as made:
        yield made


def read_models(app: JourneyApplication, store: SQLiteReadStore) -> ReadModels:
    models = build_read_models(store, app.recorder, app.mapper)
    models.create_tables()
    return models


def runner(
    app: JourneyApplication, models: ReadModels, batch_size: int, catch_up: CatchUp | None
) -> ProjectionRunner:
    reader = NotificationReader(app.process_recorder, app.mapper)
    return ProjectionRunner(reader, models.projections, batch_size=batch_size, catch_up=catch_up)


def head(app: JourneyApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


def until_caught_up(app: JourneyApplication, run: ProjectionRunner, models: ReadModels) -> None:
    while min(p.position() for p in models.projections) < head(app):
        run.run_once()
    run.run_once()  # caught up: nothing more to apply


def index_names(store: SQLiteReadStore) -> set[str]:
    rows = store.query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    return {str(row["name"]) for row in rows}


def deferrable(projection: Projection) -> set[str]:
    return {i.name for i in projection.indexes() if i.deferrable}


def tables(models: ReadModels, store: SQLiteReadStore) -> dict[str, list[Row]]:
    """Every read model table's rows, in a stable order."""
    return {
        table: sorted(store.query(f"SELECT * FROM {table}"), key=repr)
        for projection in models.projections
        for table in projection.tables
    }


@contextmanager
def fresh(
    app: JourneyApplication, folder: Path
) -> Iterator[tuple[SQLiteReadStore, ReadModels, set[str]]]:
    """A new read store in ``folder`` with every read model's tables, and the names of all
    its indexes; closed at the end."""
    store = SQLiteReadStore(folder / "read.sqlite")
    models = read_models(app, store)
    try:
        yield store, models, index_names(store)
    finally:
        store.close()


def kept_all_along(app: JourneyApplication, folder: Path) -> dict[str, list[Row]]:
    with fresh(app, folder / "plain") as (store, models, _):
        until_caught_up(app, runner(app, models, 5000, None), models)
        return tables(models, store)


def test_far_behind_the_query_indexes_wait_and_are_built_once_caught_up(
    app: JourneyApplication, tmp_path: Path
) -> None:
    with fresh(app, tmp_path) as (store, models, every_index):
        deferred = set().union(*(deferrable(p) for p in models.projections))
        kept = {i.name for p in models.projections for i in p.indexes() if not i.deferrable}
        assert deferred
        assert {"open_deadlines_due", "kpi_owners_customer", "complaint_ledger_customer"} <= kept
        assert head(app) > 12
        run = runner(app, models, batch_size=3, catch_up=CatchUp(min_behind=10))

        run.run_once()

        assert index_names(store) == every_index - deferred
        assert all(p.query_indexes_deferred() for p in models.projections if deferrable(p))
        # A process that starts meanwhile (``journey status`` builds the runtime) leaves
        # them out too.
        read_models(app, store)
        assert index_names(store) == every_index - deferred

        until_caught_up(app, run, models)

        assert index_names(store) == every_index
        assert not any(p.query_indexes_deferred() for p in models.projections)
        assert tables(models, store) == kept_all_along(app, tmp_path)


def test_a_worker_restarted_half_way_still_builds_them(
    app: JourneyApplication, tmp_path: Path
) -> None:
    with fresh(app, tmp_path) as (store, models, every_index):
        first = runner(app, models, batch_size=3, catch_up=CatchUp(min_behind=10))
        first.run_once()
        first.run_once()
        assert index_names(store) != every_index

        restarted = read_models(app, store)  # a new process: nothing known but the store
        until_caught_up(app, runner(app, restarted, 3, CatchUp(min_behind=10)), restarted)

        assert index_names(store) == every_index
        assert tables(restarted, store) == kept_all_along(app, tmp_path)


def test_close_behind_or_with_much_applied_the_indexes_are_kept(
    app: JourneyApplication, tmp_path: Path
) -> None:
    with fresh(app, tmp_path) as (store, models, every_index):
        run = runner(app, models, batch_size=3, catch_up=CatchUp(min_behind=head(app) + 1))
        until_caught_up(app, run, models)
        assert index_names(store) == every_index
        assert not any(p.query_indexes_deferred() for p in models.projections)


@pytest.mark.parametrize(
    ("min_behind", "share", "position", "behind", "defers"),
    [
        (50_000, 4, 0, 49_999, False),  # shorter than the least backlog
        (50_000, 4, 0, 50_000, True),
        (50_000, 4, 200_000, 50_000, True),  # a quarter of what was applied
        (50_000, 4, 200_004, 50_000, False),  # less than a quarter
        (0, 4, 0, 10**9, False),  # 0: never
    ],
)
def test_when_a_backlog_is_long_enough_to_defer(
    min_behind: int, share: int, position: int, behind: int, defers: bool
) -> None:
    assert CatchUp(min_behind=min_behind, share=share).defers(position, behind) is defers


@settings(max_examples=12, deadline=None)
@given(
    batch_size=st.integers(1, 9),
    min_behind=st.integers(0, 40),
    share=st.integers(1, 5),
)
def test_whatever_the_policy_the_tables_end_the_same(
    app: JourneyApplication, batch_size: int, min_behind: int, share: int
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with fresh(app, folder) as (store, models, every_index):
            until_caught_up(
                app, runner(app, models, batch_size, CatchUp(min_behind, share)), models
            )
            assert index_names(store) == every_index
            assert tables(models, store) == kept_all_along(app, folder)


def test_a_rebuild_swapped_in_meanwhile_ends_the_deferral(
    app: JourneyApplication, tmp_path: Path
) -> None:
    with fresh(app, tmp_path) as (store, models, every_index):
        runner(app, models, batch_size=3, catch_up=CatchUp(min_behind=10)).run_once()
        ledger = next(p for p in models.projections if p.name == "complaint_ledger")
        assert ledger.query_indexes_deferred()

        rebuild(ledger, NotificationReader(app.process_recorder, app.mapper), batch_size=4)

        assert not ledger.query_indexes_deferred()
        assert deferrable(ledger) <= index_names(store)
        assert index_names(store) < every_index  # the others still catch up without theirs


def test_a_deferral_by_another_runner_that_stopped_is_built_by_a_caught_up_one(
    app: JourneyApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh(app, tmp_path) as (store, models, every_index):
        run = runner(app, models, batch_size=5000, catch_up=CatchUp(min_behind=10**9))
        until_caught_up(app, run, models)
        ledger = next(p for p in models.projections if p.name == "complaint_ledger")
        ledger.defer_query_indexes(behind=10**6)  # another runner of it, which then stopped

        run.run_once()  # looked at the record a moment ago: not again yet
        assert index_names(store) == every_index - deferrable(ledger)

        monkeypatch.setattr(catch_up, "RECHECK_S", 0.0)
        run.run_once()
        assert index_names(store) == every_index
        assert not ledger.query_indexes_deferred()

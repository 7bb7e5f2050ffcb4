"""The audit chain takes the notifications the projection runner has read already
(``projections.read_ahead``) instead of reading the log a second time: what it takes is
always exactly what follows its position in the log, and the chain it builds is the one
it builds reading the log itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from eventsourcing.persistence import ApplicationRecorder, Notification
from hypothesis import given
from hypothesis import strategies as st

from adapters.readstore import Row, SQLiteReadStore
from application.service import JourneyApplication
from projections.audit_chain import AuditChain
from projections.read_ahead import ReadAhead
from projections.registry import build_read_models
from projections.runner import NotificationReader, ProjectionRunner
from tests.unit.complaint_specs import mixed_history


def notification(nid: int) -> Notification:
    return Notification(id=nid, originator_id="x", originator_version=nid, topic="t", state=b"")


@given(
    log=st.lists(st.integers(1, 200), unique=True).map(sorted),
    after=st.integers(0, 200),
    read_limit=st.integers(1, 30),
    position=st.integers(0, 210),
    limit=st.integers(1, 30),
)
def test_what_a_follower_takes_is_what_follows_its_position(
    log: list[int], after: int, read_limit: int, position: int, limit: int
) -> None:
    """Over a log with gaps in its ids: either the read-ahead declines (the follower reads
    the log) or it gives the next notifications after the position, in order, without a
    gap — a prefix of what reading the log would give."""
    read = ReadAhead(after, [notification(n) for n in log if n > after][:read_limit])
    taken = read.following(position, limit)
    following = [n for n in log if n > position][:limit]
    within = bool(read.notifications) and after <= position < read.notifications[-1].id
    assert (taken is not None) == within  # declines only what it did not read
    if taken is not None:
        ids = [n.id for n in taken]
        assert ids
        assert ids == following[: len(ids)]


def test_it_declines_what_it_did_not_read() -> None:
    read = ReadAhead(10, [notification(n) for n in (12, 15, 16)])
    assert read.following(9, 5) is None  # 10 was not read
    assert read.following(16, 5) is None  # there may be more after 16
    assert read.following(20, 5) is None
    assert ReadAhead(0, []).following(0, 5) is None
    assert [n.id for n in read.following(10, 5) or []] == [12, 15, 16]
    assert [n.id for n in read.following(13, 1) or []] == [15]


class CountingRecorder:
    """The event store's recorder, counting the chain's reads of the log."""

    def __init__(self, recorder: Any) -> None:
        self._recorder = recorder
        self.reads = 0

    def select_notifications(self, *args: Any, **kwargs: Any) -> list[Notification]:
        self.reads += 1
        return list(self._recorder.select_notifications(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)


@pytest.fixture(scope="module")
def app() -> Iterator[JourneyApplication]:
    with mixed_history() as made:
        yield made


def chain_rows(store: SQLiteReadStore) -> dict[str, list[Row]]:
    return {
        table: sorted(store.query(f"SELECT * FROM {table}"), key=repr)
        for table in (*AuditChain.tables, "projection_positions")
        if table != "audit_verifications"
    }


@pytest.mark.parametrize("batch_size", [1, 7, 5000])
def test_the_chain_reads_the_log_no_more_and_ends_the_same(
    app: JourneyApplication, tmp_path: Path, batch_size: int
) -> None:
    head = app.process_recorder.max_notification_id() or 0
    assert head > 20
    stores = {}
    reads = {}
    for way in ("shared", "alone"):
        store = stores[way] = SQLiteReadStore(tmp_path / f"{way}.sqlite")
        counting = CountingRecorder(app.recorder)  # only the chain reads raw records
        models = build_read_models(store, cast(ApplicationRecorder, counting), app.mapper)
        models.create_tables()
        chain = next(f for f in models.followers if isinstance(f, AuditChain))
        if way == "shared":
            reader = NotificationReader(app.process_recorder, app.mapper)
            runner = ProjectionRunner(
                reader, models.projections, batch_size=batch_size, followers=[chain]
            )
            while runner.run_once():
                pass
        else:
            while chain.run_once(limit=batch_size):
                pass
            # The projections get there too (the tables compared include their positions).
            reader = NotificationReader(app.process_recorder, app.mapper)
            while ProjectionRunner(reader, models.projections, batch_size=batch_size).run_once():
                pass
        assert chain.position() == head
        reads[way] = counting.reads
    # Reading alone it asks the log for every batch and once more to find nothing; in
    # step with the runner only when it has nothing left to take from the runner's batch.
    assert reads["alone"] >= head // batch_size
    assert reads["shared"] <= 1
    assert chain_rows(stores["shared"]) == chain_rows(stores["alone"])
    for store in stores.values():
        store.close()


def test_a_chain_behind_the_read_models_reads_the_log_itself(
    app: JourneyApplication, tmp_path: Path
) -> None:
    """A chain far behind the projections (added later, say) is not held back by them,
    nor they by it: it reads what it needs."""
    store = SQLiteReadStore(tmp_path / "rm.sqlite")
    counting = CountingRecorder(app.recorder)
    models = build_read_models(store, cast(ApplicationRecorder, counting), app.mapper)
    models.create_tables()
    reader = NotificationReader(app.process_recorder, app.mapper)
    while ProjectionRunner(reader, models.projections, batch_size=50).run_once():
        pass
    chain = next(f for f in models.followers if isinstance(f, AuditChain))
    runner = ProjectionRunner(reader, models.projections, batch_size=50, followers=[chain])
    while runner.run_once():
        pass
    assert chain.position() == app.process_recorder.max_notification_id()
    assert counting.reads > 0
    store.close()

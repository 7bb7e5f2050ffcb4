"""``journey rebuild``: a fresh copy of a read model is built from zero while the live one
keeps serving and following new events, then swapped in; afterwards the live copy equals
one built from scratch. On SQLite and PostgreSQL read stores. Strict on unknown events
during a rebuild, lenient live."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from journey.bootstrap import Runtime
from projections.base import Projection
from projections.rebuild import REBUILD_SUFFIX, Progress, rebuild
from projections.runner import UnknownEvent
from tests.integration.drive import ingest_everything, make_runtime, project_everything
from tests.integration.processes import StreamBuilder, publish_stream

STORES = [
    pytest.param(("embedded", "sqlite"), id="sqlite"),
    pytest.param(("embedded", "postgres"), id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORES)
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    yield from make_runtime(request, tmp_path, settings_env)


def contents(projection: Projection) -> dict[str, list[dict[str, Any]]]:
    """Every table of the projection, rows in a stable order."""
    tables = {}
    for table in projection.tables:
        rows = projection.store.query(f"SELECT * FROM {projection.t(table)}")
        tables[table] = sorted(rows, key=lambda row: sorted((k, str(v)) for k, v in row.items()))
    return tables


def from_scratch(runtime: Runtime, live: Projection) -> Projection:
    copy = live.fresh_copy("__check")
    copy.drop_tables()
    copy.create_tables()
    reader = runtime.projection_runner.reader
    while batch := reader.read(copy.position(), 2000, strict=True):
        copy.process(batch)
    return copy


def test_a_rebuild_while_the_live_copy_serves_and_follows_equals_a_copy_from_scratch(
    runtime: Runtime,
) -> None:
    builder = StreamBuilder(seed=11)
    plans, cases = builder.build(800)
    half = len(plans) // 2
    publish_stream(runtime, plans[:half], cases)
    ingest_everything(runtime)
    project_everything(runtime)

    # The live runner keeps following while more events arrive and the rebuild runs.
    stop = threading.Event()
    follower = threading.Thread(target=runtime.projection_runner.run, args=(stop,))
    follower.start()
    try:
        publish_stream(runtime, plans[half:], cases)
        ingest_everything(runtime)
        seen: list[Progress] = []
        for projection in runtime.projections:
            done = rebuild(projection, runtime.projection_runner.reader, 200, seen.append)
            assert done.swapped
            assert done.position >= done.applied > 0
        assert any(not p.swapped for p in seen), "no progress was shown while building"
    finally:
        stop.set()
        follower.join()
    project_everything(runtime)

    for projection in runtime.projections:
        expected = from_scratch(runtime, projection)
        assert contents(projection) == contents(expected), projection.name
        assert projection.position() == expected.position()
        expected.drop_tables()
        left = runtime.read_store.query(
            "SELECT name FROM projection_positions WHERE name LIKE :n", {"n": f"%{REBUILD_SUFFIX}"}
        )
        assert left == []
    # The ledger serves from the swapped tables, and a second rebuild reuses the names.
    rows = runtime.ledger.page(1000)
    assert {r["case_ref"]: (r["customer_id"], r["contacts"]) for r in rows} == cases
    rebuild(runtime.ledger, runtime.projection_runner.reader)
    assert runtime.ledger.page(1000) == rows


def test_an_unknown_event_stops_a_rebuild_and_is_skipped_live(runtime: Runtime) -> None:
    plans, cases = StreamBuilder(seed=12).build(60)
    publish_stream(runtime, plans, cases)
    ingest_everything(runtime)
    project_everything(runtime)
    before = runtime.ledger.page(1000)
    # An event written by a newer build: its class does not exist here.
    runtime.app.recorder.insert_events(
        [StoredEvent(uuid4(), 1, "domain.future:Thing.Happened", b"{}")]
    )
    with pytest.raises(UnknownEvent, match=r"domain\.future:Thing\.Happened"):
        rebuild(runtime.ledger, runtime.projection_runner.reader)
    assert runtime.ledger.page(1000) == before  # the live copy stayed as it was

    reader = runtime.projection_runner.reader
    skipped = reader.unknown
    project_everything(runtime)  # live: counted, logged, skipped
    assert reader.unknown == skipped + 1
    assert runtime.ledger.position() == runtime.app.process_recorder.max_notification_id()
    assert runtime.ledger.page(1000) == before

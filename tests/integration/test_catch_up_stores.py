"""A read model far behind the head catches up without its query indexes, on every store
(``projections.catch_up``; tests/unit/test_catch_up.py has the whole story): here that the
indexes are dropped and built again on PostgreSQL as on SQLite, and the deferral recorded."""

from __future__ import annotations

import orjson

from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime
from projections.catch_up import CatchUp
from projections.runner import ProjectionRunner
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything


def index_names(runtime: Runtime) -> set[str]:
    if runtime.read_store.dialect == "postgres":
        sql = "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    return {str(row["name"]) for row in runtime.read_store.query(sql)}


def test_query_indexes_are_dropped_far_behind_and_built_once_caught_up(
    runtime: Runtime,
) -> None:
    records = []
    for _ in range(8):
        customer = unique("cust-")
        body = contact_opened(customer_id=customer, contact_id=unique("k-"))
        topic = runtime.topics.for_type("contact.opened")
        records.append(OutgoingRecord(topic, customer.encode(), orjson.dumps(body)))
    runtime.publisher.publish_many(records)
    ingest_everything(runtime)
    head = runtime.app.process_recorder.max_notification_id() or 0
    assert head >= 8
    every_index = index_names(runtime)
    deferred = {i.name for p in runtime.projections for i in p.indexes() if i.deferrable}
    assert deferred <= every_index
    runner = ProjectionRunner(
        runtime.projection_runner.reader,
        runtime.projections,
        batch_size=2,
        catch_up=CatchUp(min_behind=4),
    )

    runner.run_once()

    assert index_names(runtime) == every_index - deferred
    assert runtime.ledger.query_indexes_deferred()
    while min(p.position() for p in runtime.projections) < head:
        runner.run_once()
    assert index_names(runtime) == every_index
    assert not any(p.query_indexes_deferred() for p in runtime.projections)

"""Read models shared among runners that apply the log at once (``ReadModels.share``,
``JOURNEY_PROJECTION_PROCESSES``) on every store: on SQLite each computes in a snapshot
and takes the one write lock to write (``projections.deferred_writes``), on PostgreSQL each
locks its own position row. Either way every read model ends as a rebuild from the log
leaves it, and the audit chain links every stored event once."""

from __future__ import annotations

import orjson
import pytest

from adapters.readstore import Row
from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime
from projections.base import Projection
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner
from tests.builders.threads import caught_up_at_once
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything


def rows(projection: Projection) -> dict[str, list[Row]]:
    return {
        table: sorted(projection.store.query(f"SELECT * FROM {table}"), key=repr)
        for table in projection.tables
    }


@pytest.mark.parametrize("count", [2, 3])
def test_shares_applied_at_once_end_as_a_rebuild_from_the_log(runtime: Runtime, count: int) -> None:
    records = []
    for _ in range(12):
        customer = unique("cust-")
        for contact in range(3):
            body = contact_opened(
                customer_id=customer,
                contact_id=unique("k-"),
                channel=("app", "web", "phone")[contact],
            )
            topic = runtime.topics.for_type("contact.opened")
            records.append(OutgoingRecord(topic, customer.encode(), orjson.dumps(body)))
    runtime.publisher.publish_many(records)
    ingest_everything(runtime)
    reader = runtime.projection_runner.reader
    head = reader.head()
    assert head >= len(records)
    runners = [
        ProjectionRunner(
            reader,
            share.projections,
            batch_size=7,
            followers=share.followers,
            quarantine=runtime.read_models.quarantine,
        )
        for share in (runtime.read_models.share(i, count) for i in range(1, count + 1))
    ]
    caught_up_at_once(runners)
    assert {p.position() for p in runtime.projections} == {head}
    assert runtime.audit_chain.position() == head
    [linked] = runtime.read_store.query("SELECT count(*) AS n FROM audit_chain")
    assert linked["n"] == head
    for projection in runtime.projections:
        live = rows(projection)
        rebuild(projection, reader)
        assert rows(projection) == live, projection.name

"""A read model whose store holds an older layout is refilled from the log at start, on
every store (tests/unit/test_read_model_layout.py has the whole story): here the
PostgreSQL side — its advisory lock, its catalogue check for the quarantine table."""

from __future__ import annotations

import orjson

from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime
from projections.kpis import KpiCounters
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything, project_everything


def test_an_older_layout_is_renewed_and_refilled(runtime: Runtime) -> None:
    customer = unique("cust-")
    runtime.publisher.publish_many(
        [
            OutgoingRecord(
                runtime.topics.for_type("contact.opened"),
                customer.encode(),
                orjson.dumps(contact_opened(customer_id=customer, contact_id=unique("k-"))),
            )
        ]
    )
    ingest_everything(runtime)
    project_everything(runtime)
    head = runtime.kpis.position()
    assert head > 0
    with runtime.read_store.transaction() as cursor:
        cursor.execute(
            "UPDATE read_model_layouts SET version = 1 WHERE name = :n", {"n": KpiCounters.name}
        )

    runtime.kpis.create_tables()

    assert runtime.kpis.position() == 0
    rows = runtime.read_store.query("SELECT version FROM read_model_layouts WHERE name = :n",
                                    {"n": KpiCounters.name})  # fmt: skip
    assert [r["version"] for r in rows] == [KpiCounters.schema_version]
    project_everything(runtime)
    assert runtime.kpis.position() >= head

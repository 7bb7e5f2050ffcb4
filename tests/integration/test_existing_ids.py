"""The one-query existence check behind the ingest's prefetch, on the real stores
(SQLite, PostgreSQL): exactly the ids with stored events, across its chunks of ids."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

from adapters.sourcelog.base import TopicPartition
from application.existing_ids import existing_ids_of
from domain.case import Case
from domain.contact import Contact as ContactAggregate
from journey.bootstrap import Runtime
from tests.builders.ingest import Contact, batch
from tests.factories import unique


def stored_journeys(runtime: Runtime) -> list[UUID]:
    """Three chats stored through the ingest: the ids of their contacts and cases."""
    app = runtime.app
    customer = unique("cust-")
    refs = [unique("k-") for _ in range(3)]
    partition = TopicPartition(unique("stored-"), 0)
    events = [
        (replace(source, topic=partition.topic), event)
        for source, event in batch([Contact(f"{ref}-e", customer, ref) for ref in refs])
    ]
    pending = app.prepare_batch(partition, events, len(events))
    assert pending.refusals == []
    pending.commit()
    return sorted(
        {Case.create_id(ref) for ref in refs} | {ContactAggregate.create_id(ref) for ref in refs}
    )


def test_existing_ids_are_exactly_those_with_stored_events(runtime: Runtime) -> None:
    app = runtime.app
    stored = set(stored_journeys(runtime))
    absent = [uuid4() for _ in range(1200)]  # more than two chunks
    existing = existing_ids_of(app.recorder)
    assert existing is not None
    asked = absent[:600] + sorted(stored) + absent[600:] + sorted(stored)
    assert existing(asked) == stored
    assert existing(absent) == set()
    assert existing([]) == set()


def test_many_aggregates_load_as_the_repository_loads_each(runtime: Runtime) -> None:
    """The clock timer's loads (``application.aggregate_loading``): every aggregate with
    stored events, in the state the repository replays, whatever the chunks of ids; ids
    without events are absent."""
    app = runtime.app
    stored = stored_journeys(runtime)
    load = app.load_many
    assert load is not None
    absent = [uuid4() for _ in range(1200)]  # more than two chunks
    loaded = load(absent[:600] + stored + absent[600:] + stored)
    assert sorted(loaded) == stored
    for aggregate_id in stored:
        expected: object = app.repository.get(aggregate_id)
        assert type(loaded[aggregate_id]) is type(expected)
        assert loaded[aggregate_id].__dict__ == expected.__dict__
    assert load([]) == {}

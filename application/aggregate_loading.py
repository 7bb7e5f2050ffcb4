"""Many aggregates loaded from the store at once: their stored events read with one query
per few hundred ids, decoded, and replayed into each aggregate as the repository does.

eventsourcing's repository reads one aggregate at a time: one query, then the mapper for
each event. The clock timer advances a hundred aggregates per transaction, so in a catch-up
of history those reads were a quarter of its work (docs/BENCHMARKS.md, "CFPB import"). The
query reads the recorder's own events table (SQLite or PostgreSQL) in the order of its
primary key (aggregate, version); each event is decoded by ``FastDecoder`` where it can,
else by the mapper, so what is loaded is what ``repository.get`` would load. For any other
recorder there is no such query, and callers load one at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, Recorder, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder

from adapters.fast_decoding import decoder_of
from application.existing_ids import events_query
from application.projector import mutate_in_order

LoadMany = Callable[[Sequence[UUID]], dict[UUID, Any]]
"""The aggregates of those ids that have stored events, by id (the others are absent)."""

Rows = Callable[[Sequence[UUID]], Iterable[StoredEvent]]
"""The stored events of those ids, each aggregate's in version order."""

_CHUNK = 500


def loader_of(recorder: Recorder, mapper: Mapper[UUID]) -> LoadMany | None:
    """The loader for this recorder's store, or None if it has none."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        rows = _sqlite(recorder)
    elif isinstance(recorder, PostgresAggregateRecorder):
        rows = _postgres(recorder)
    else:
        return None
    decode = decoder_of(mapper)

    def load(ids: Sequence[UUID]) -> dict[UUID, Any]:
        events: dict[UUID, list[Any]] = {}
        for stored in rows(list(dict.fromkeys(ids))):
            event = decode(stored)
            events.setdefault(event.originator_id, []).append(event)
        return {i: mutate_in_order(None, replayed) for i, replayed in events.items()}

    return load


def _sqlite(recorder: SQLiteAggregateRecorder) -> Rows:
    def rows(ids: Sequence[UUID]) -> Iterable[StoredEvent]:
        found: list[StoredEvent] = []
        # Each row's id is one of those asked for, as its hex text: mapped back to the
        # caller's UUID instead of parsed for every row (an aggregate has many rows).
        by_hex = {i.hex: i for i in ids}
        with recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), _CHUNK):
                chunk = [i.hex for i in ids[start : start + _CHUNK]]
                cursor.execute(
                    "SELECT originator_id, originator_version, topic, state"
                    f" FROM {recorder.events_table_name}"
                    f" WHERE originator_id IN ({','.join('?' * len(chunk))})"
                    " ORDER BY originator_id, originator_version",
                    chunk,
                )
                found.extend(
                    StoredEvent(by_hex.get(row[0]) or UUID(row[0]), row[1], row[2], row[3])
                    for row in cursor.fetchall()
                )
        return found

    return rows


def _postgres(recorder: PostgresAggregateRecorder) -> Rows:
    query = events_query(
        recorder,
        "SELECT originator_id, originator_version, topic, state FROM {table}"
        " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version",
    )

    def rows(ids: Sequence[UUID]) -> Iterable[StoredEvent]:
        found: list[StoredEvent] = []
        with recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), _CHUNK):
                cursor.execute(query, (list(ids[start : start + _CHUNK]),))
                found.extend(
                    StoredEvent(
                        UUID(str(row["originator_id"])),
                        row["originator_version"],
                        row["topic"],
                        bytes(row["state"]),
                    )
                    for row in cursor.fetchall()
                )
        return found

    return rows

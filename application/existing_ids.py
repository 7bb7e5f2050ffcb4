"""Which of many aggregate ids have stored events, in one query per few hundred ids.

eventsourcing reads one aggregate at a time; an ingest batch that opens contacts asks the
store about ids that mostly do not exist yet, one round trip each. This asks about all of
a batch's ids at once, against the recorder's own events table (SQLite or PostgreSQL).
For any other recorder there is no such query, and callers load one at a time as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.persistence import Recorder
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg import sql

ExistingIds = Callable[[Sequence[UUID]], set[UUID]]

_CHUNK = 500


def existing_ids_of(recorder: Recorder) -> ExistingIds | None:
    """The query for this recorder's store, or None if it has none."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        return _sqlite(recorder)
    if isinstance(recorder, PostgresAggregateRecorder):
        return _postgres(recorder)
    return None


def _sqlite(recorder: SQLiteAggregateRecorder) -> ExistingIds:
    def existing(ids: Sequence[UUID]) -> set[UUID]:
        found: set[UUID] = set()
        with recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), _CHUNK):
                chunk = [i.hex for i in ids[start : start + _CHUNK]]
                cursor.execute(
                    f"SELECT DISTINCT originator_id FROM {recorder.events_table_name}"
                    f" WHERE originator_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update(UUID(row[0]) for row in cursor.fetchall())
        return found

    return existing


def _postgres(recorder: PostgresAggregateRecorder) -> ExistingIds:
    query = sql.SQL(
        "SELECT DISTINCT originator_id FROM {schema}.{table} WHERE originator_id = ANY(%s)"
    ).format(
        schema=sql.Identifier(recorder.datastore.schema),
        table=sql.Identifier(recorder.events_table_name),
    )

    def existing(ids: Sequence[UUID]) -> set[UUID]:
        found: set[UUID] = set()
        with recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), _CHUNK):
                cursor.execute(query, (list(ids[start : start + _CHUNK]),))
                found.update(UUID(str(row["originator_id"])) for row in cursor.fetchall())
        return found

    return existing

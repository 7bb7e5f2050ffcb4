"""Which of many aggregate ids have stored events, in one query per few hundred ids; and
every stored aggregate id, a page at a time (for ``journey verify``).

eventsourcing reads one aggregate at a time; an ingest batch that opens contacts asks the
store about ids that mostly do not exist yet, one round trip each. This asks about all of
a batch's ids at once, against the recorder's own events table (SQLite or PostgreSQL).
For any other recorder there is no such query, and callers load one at a time as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Recorder
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg import sql

ExistingIds = Callable[[Sequence[UUID]], set[UUID]]

_CHUNK = 500


def events_query(recorder: PostgresAggregateRecorder, template: str) -> sql.Composed:
    """A query of the recorder's events table, named ``{table}`` in ``template``."""
    return sql.SQL(template).format(
        table=sql.Identifier(recorder.datastore.schema, recorder.events_table_name)
    )


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
    query = events_query(
        recorder, "SELECT DISTINCT originator_id FROM {table} WHERE originator_id = ANY(%s)"
    )

    def existing(ids: Sequence[UUID]) -> set[UUID]:
        found: set[UUID] = set()
        with recorder.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), _CHUNK):
                cursor.execute(query, (list(ids[start : start + _CHUNK]),))
                found.update(UUID(str(row["originator_id"])) for row in cursor.fetchall())
        return found

    return existing


# -- every stored aggregate, a page at a time -------------------------------------------------

OriginatorPages = Callable[[int], Iterator[list[UUID]]]
"""Every originator id the store holds, in pages of at most the given size."""


def originator_pages_of(recorder: ApplicationRecorder) -> OriginatorPages:
    """Pages of the store's aggregate ids in id order, by keyset over the events table's
    primary key on SQLite and PostgreSQL, so no page costs more than the next; for any
    other recorder (in memory) from the notification log."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        return _sqlite_pages(recorder)
    if isinstance(recorder, PostgresAggregateRecorder):
        return _postgres_pages(recorder)
    return _notification_pages(recorder)


def _sqlite_pages(recorder: SQLiteAggregateRecorder) -> OriginatorPages:
    query = (
        f"SELECT DISTINCT originator_id FROM {recorder.events_table_name}"
        " WHERE originator_id > ? ORDER BY originator_id LIMIT ?"
    )

    def pages(size: int) -> Iterator[list[UUID]]:
        after = ""
        while True:
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(query, (after, size))
                found = [str(row[0]) for row in cursor.fetchall()]
            if not found:
                return
            after = found[-1]
            yield [UUID(hex=text) for text in found]

    return pages


def _postgres_pages(recorder: PostgresAggregateRecorder) -> OriginatorPages:
    first = events_query(
        recorder, "SELECT DISTINCT originator_id FROM {table} ORDER BY originator_id LIMIT %s"
    )
    later = events_query(
        recorder,
        "SELECT DISTINCT originator_id FROM {table} WHERE originator_id > %s"
        " ORDER BY originator_id LIMIT %s",
    )

    def pages(size: int) -> Iterator[list[UUID]]:
        after: UUID | None = None
        while True:
            with recorder.datastore.transaction(commit=False) as cursor:
                if after is None:
                    cursor.execute(first, (size,))
                else:
                    cursor.execute(later, (after, size))
                found = [UUID(str(row["originator_id"])) for row in cursor.fetchall()]
            if not found:
                return
            after = found[-1]
            yield found

    return pages


def _notification_pages(recorder: ApplicationRecorder) -> OriginatorPages:
    def pages(size: int) -> Iterator[list[UUID]]:
        seen: set[UUID] = set()  # an in-memory store: its ids are in memory already
        position = 0
        while notifications := recorder.select_notifications(
            start=position, limit=size, inclusive_of_start=False
        ):
            position = notifications[-1].id
            ids = dict.fromkeys(UUID(str(n.originator_id)) for n in notifications)
            fresh = [i for i in ids if i not in seen]
            seen.update(fresh)
            if fresh:
                yield fresh

    return pages

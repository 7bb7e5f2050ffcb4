"""Which layout of its tables each read model's store holds (``Projection.schema_version``).

A build that changes a read model's tables raises its ``schema_version``. At start
(``Projection.create_tables``) a store that holds an older layout has that read model's
tables dropped, its position set back to zero and its quarantine cleared: the projections
worker then refills it from the notification log, as a rebuild would, and ``/readyz`` shows
its lag meanwhile. Without this, the new code would read and write tables of the old shape
and fail on every batch. The check runs in the transaction that creates the tables, under a
lock (PostgreSQL: an advisory lock per read model), so two processes starting at once renew
it once. A store from before layouts were recorded holds layout 1 of every read model it
has a position for.

The store also records which read models are catching up without their query indexes
(``deferred_query_indexes``, see ``projections.catch_up``), so that a process starting
meanwhile (``journey status`` builds the runtime too) does not build them back, and a worker
restarted after a crash knows they are still to be built.
"""

from __future__ import annotations

import logging

from adapters.readstore import Cursor

logger = logging.getLogger(__name__)

LAYOUTS_DDL = (
    "CREATE TABLE IF NOT EXISTS read_model_layouts ("
    " name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)


DEFERRED_DDL = (
    "CREATE TABLE IF NOT EXISTS deferred_query_indexes ("
    " name TEXT PRIMARY KEY, behind BIGINT NOT NULL)"
)
"""One row per read model whose query indexes wait until it has caught up; ``behind``:
how far behind the head it was when they were dropped."""


def indexes_deferred(cursor: Cursor, name: str) -> bool:
    cursor.execute(
        "SELECT 1 AS found FROM deferred_query_indexes WHERE name = :name", {"name": name}
    )
    return bool(cursor.fetchall())


def record_deferral(cursor: Cursor, name: str, behind: int | None) -> None:
    """Record that read model ``name``'s query indexes are deferred (``behind`` given) or
    built (None)."""
    if behind is None:
        cursor.execute("DELETE FROM deferred_query_indexes WHERE name = :name", {"name": name})
        return
    cursor.execute(
        "INSERT INTO deferred_query_indexes (name, behind) VALUES (:name, :behind)"
        " ON CONFLICT (name) DO UPDATE SET behind = excluded.behind",
        {"name": name, "behind": behind},
    )


def table_exists(cursor: Cursor, dialect: str, table: str) -> bool:
    if dialect == "postgres":
        cursor.execute("SELECT to_regclass(:t) IS NOT NULL AS found", {"t": table})
    else:
        cursor.execute(
            "SELECT COUNT(*) > 0 AS found FROM sqlite_master WHERE type = 'table' AND name = :t",
            {"t": table},
        )
    return bool(cursor.fetchall()[0]["found"])


def stored_layout(cursor: Cursor, dialect: str, name: str) -> int | None:
    """The layout the store holds of read model ``name``; None for none (a new store)."""
    if dialect == "postgres":
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(:name))", {"name": name})
    cursor.execute("SELECT version FROM read_model_layouts WHERE name = :name", {"name": name})
    rows = cursor.fetchall()
    if rows:
        return int(rows[0]["version"])
    cursor.execute("SELECT 1 AS found FROM projection_positions WHERE name = :name", {"name": name})
    return 1 if cursor.fetchall() else None


def renew(cursor: Cursor, dialect: str, name: str, tables: tuple[str, ...]) -> None:
    """Drop read model ``name``'s tables, position and quarantine (its tables are of an
    older layout): it is refilled from the log."""
    for table in tables:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute("DELETE FROM projection_positions WHERE name = :name", {"name": name})
    if table_exists(cursor, dialect, "read_model_quarantine"):
        cursor.execute("DELETE FROM read_model_quarantine WHERE read_model = :name", {"name": name})


def record_layout(cursor: Cursor, name: str, version: int) -> None:
    cursor.execute(
        "INSERT INTO read_model_layouts (name, version) VALUES (:name, :version)"
        " ON CONFLICT (name) DO UPDATE SET version = excluded.version",
        {"name": name, "version": version},
    )

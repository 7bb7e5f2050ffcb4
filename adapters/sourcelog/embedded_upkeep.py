"""What the embedded log does to the records it keeps, besides appending them: it deletes
those older than its retention, leaving none of their bytes in the file.

Offsets are never reused: each partition's next offset is kept in ``log_ends``, so a
partition that retention emptied goes on from where it was, as a Kafka partition does.
Deleted bytes are overwritten with zeros (``PRAGMA secure_delete``, set on every
connection) and the write-ahead log is checkpointed and truncated afterwards, so the old
values are neither in free pages of the file nor in its ``-wal``.
"""

from __future__ import annotations

import sqlite3

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS log_ends (topic TEXT NOT NULL, partition INTEGER NOT NULL,"
    " next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition)) WITHOUT ROWID",
)


def create(conn: sqlite3.Connection) -> None:
    """The upkeep's tables; a file made before ``log_ends`` gets each partition's next
    offset from its records."""
    for statement in SCHEMA:
        conn.execute(statement)
    if conn.execute("SELECT 1 FROM log_ends LIMIT 1").fetchone() is None:
        conn.execute(
            "INSERT INTO log_ends SELECT topic, partition, MAX(offset) + 1 FROM log_records"
            " GROUP BY topic, partition"
        )


def next_offset(conn: sqlite3.Connection, topic: str, partition: int) -> int:
    row = conn.execute(
        "SELECT next_offset FROM log_ends WHERE topic = ? AND partition = ?", (topic, partition)
    ).fetchone()
    return 0 if row is None else int(row[0])


def set_next_offset(conn: sqlite3.Connection, topic: str, partition: int, offset: int) -> None:
    conn.execute(
        "INSERT INTO log_ends VALUES (?, ?, ?) ON CONFLICT (topic, partition)"
        " DO UPDATE SET next_offset = excluded.next_offset",
        (topic, partition, offset),
    )


def expire(conn: sqlite3.Connection, before_ms: int) -> int:
    """Delete the records appended before ``before_ms``; how many."""
    return conn.execute("DELETE FROM log_records WHERE timestamp_ms < ?", (before_ms,)).rowcount


def scrub(conn: sqlite3.Connection) -> bool:
    """Move every committed page into the file and empty the write-ahead log, so bytes
    deleted are nowhere but zeroed pages. False when a reader in another
    process kept part of it (the next scrub finishes)."""
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy

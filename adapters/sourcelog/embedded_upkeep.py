"""What the embedded log does to the records it keeps, besides appending them: it deletes
those older than its retention, and blanks erased customers' records (``Log.forget``) —
leaving none of their bytes in the file.

Offsets are never reused: each partition's next offset is kept in ``log_ends``, so a
partition that retention emptied goes on from where it was, as a Kafka partition does.
Deleted and blanked bytes are overwritten with zeros (``PRAGMA secure_delete``, set on every
connection) and the write-ahead log is checkpointed and truncated afterwards, so the old
values are neither in free pages of the file nor in its ``-wal``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping

import orjson

from adapters.sourcelog.base import REDACTED, TopicPartition

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS log_ends (topic TEXT NOT NULL, partition INTEGER NOT NULL,"
    " next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition)) WITHOUT ROWID",
    # Keys of erased customers, and how far each partition was swept for them.
    "CREATE TABLE IF NOT EXISTS log_forgotten (key BLOB PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS log_swept (topic TEXT NOT NULL, partition INTEGER NOT NULL,"
    " below INTEGER NOT NULL, PRIMARY KEY (topic, partition)) WITHOUT ROWID",
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


_THEIRS = "value != ? AND (key = ? OR instr(value, ?) > 0)"
_REMEMBERED = "value != ? AND key IN (SELECT key FROM log_forgotten)"


def forget(
    conn: sqlite3.Connection,
    keys: Collection[bytes],
    applied: Mapping[TopicPartition, int],
    unbounded: Collection[str],
) -> int:
    """``Log.forget`` in one transaction; how many records it blanked."""
    blanked = 0
    for key in keys:
        conn.execute("INSERT INTO log_forgotten VALUES (?) ON CONFLICT (key) DO NOTHING", (key,))
        theirs = (REDACTED, key, orjson.dumps(key.decode(errors="replace")))
        for topic in unbounded:
            blanked += conn.execute(
                f"UPDATE log_records SET value = ? WHERE topic = ? AND {_THEIRS}",
                (REDACTED, topic, *theirs),
            ).rowcount
        for tp, below in applied.items():
            blanked += conn.execute(
                "UPDATE log_records SET value = ? WHERE topic = ? AND partition = ?"
                f" AND offset < ? AND {_THEIRS}",
                (REDACTED, tp.topic, tp.partition, below, *theirs),
            ).rowcount
    if conn.execute("SELECT 1 FROM log_forgotten LIMIT 1").fetchone() is None:
        return blanked  # nobody erased: nothing to sweep
    ends = {
        TopicPartition(str(t), int(p)): int(o)
        for t, p, o in conn.execute(
            f"SELECT topic, partition, next_offset FROM log_ends"
            f" WHERE topic IN ({', '.join('?' * len(unbounded))})",
            tuple(unbounded),
        )
    }
    for tp, below in {**applied, **ends}.items():
        row = conn.execute(
            "SELECT below FROM log_swept WHERE topic = ? AND partition = ?",
            (tp.topic, tp.partition),
        ).fetchone()
        since = 0 if row is None else int(row[0])
        if below <= since:
            continue
        blanked += conn.execute(
            "UPDATE log_records SET value = ? WHERE topic = ? AND partition = ?"
            f" AND offset >= ? AND offset < ? AND {_REMEMBERED}",
            (REDACTED, tp.topic, tp.partition, since, below, REDACTED),
        ).rowcount
        conn.execute(
            "INSERT INTO log_swept VALUES (?, ?, ?) ON CONFLICT (topic, partition)"
            " DO UPDATE SET below = excluded.below",
            (tp.topic, tp.partition, below),
        )
    return blanked


def scrub(conn: sqlite3.Connection) -> bool:
    """Move every committed page into the file and empty the write-ahead log, so bytes
    deleted or blanked are nowhere but zeroed pages. False when a reader in another
    process kept part of it (the next scrub finishes)."""
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy

"""Where read models live: a SQLite file (embedded) or PostgreSQL (scaled).

Projections write SQL with named parameters (``:name``); the PostgreSQL store rewrites them
to psycopg's ``%(name)s``. Each read model keeps its rows and its position in the event
store's notification log in one transaction (see ``projections.base``).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

Row = dict[str, Any]
Params = Mapping[str, Any]


class Cursor(Protocol):
    def execute(self, sql: str, params: Params = ...) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Params]) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    @property
    def rowcount(self) -> int: ...


class ReadStore(ABC):
    dialect: Literal["sqlite", "postgres"]
    local_reads: bool
    """Whether a read is a local file's, waiting for no network and no writer: short
    enough to run on an event loop's thread (an API key's lookup, ``api.auth``)."""
    one_writer: bool
    """Whether one write transaction at a time is allowed in the whole store (SQLite):
    a read model then computes its batch in a read snapshot and takes the write lock only
    to write it (``projections.deferred_writes``)."""

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor whose work commits on exit, or rolls back on error."""

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A cursor for reads only: one consistent snapshot, without taking the write
        lock that ``transaction`` takes on SQLite (so a query neither waits for a rebuild's
        or a runner's batch nor makes them wait)."""
        with self.transaction() as cursor:
            yield cursor

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        """The rows of one read-only statement."""
        with self.reading() as cursor:
            cursor.execute(sql, params or {})
            return list(cursor.fetchall())

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


logger = logging.getLogger(__name__)

CLOSE_WAIT_S = 10.0
"""How long closing waits for statements still running on other threads."""

SQLITE_PRAGMAS: tuple[str, ...] = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    # A rebuild touches rows all over tables keyed by random ids: a page cache of 64 MiB per
    # connection (the default is 2 MiB) keeps the B-trees' inner pages and the hot leaves
    # in memory, and reads map the file instead of copying each page.
    "cache_size=-65536",
    "mmap_size=1073741824",
    # Checkpoint the write-ahead log every 16,000 pages (64 MiB) instead of every 1,000:
    # a page that several batches rewrite is copied back into the database once.
    "wal_autocheckpoint=16000",
    "temp_store=MEMORY",
)
"""Set on each connection of a ``SQLiteReadStore``."""


class SQLiteReadStore(ReadStore):
    dialect = "sqlite"
    local_reads = True  # WAL: a reader never waits for the writer
    one_writer = True

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        """Transactions and reads running now, on any thread (``close`` waits for them)."""

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                # One connection per thread; close() closes them all from the closing thread.
                self._path,
                timeout=30,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = lambda c, r: {d[0]: v for d, v in zip(c.description, r, strict=True)}
            for pragma in SQLITE_PRAGMAS:
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _in_use(self) -> Iterator[None]:
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._in_use():
            conn = self._connection()
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        with self._in_use():
            conn = self._connection()
            cursor = conn.cursor()
            cursor.execute("BEGIN DEFERRED")  # a read transaction: WAL readers never wait
            try:
                yield cursor
            finally:
                conn.execute("ROLLBACK")  # nothing to keep: it only read

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Close every thread's connection, once no statement runs on any (at most
        ``wait_s``): CPython's sqlite3 closing a connection another thread is executing on
        crashes the process (a request's thread still reading while the service stops)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, wait_s):
                logger.warning("closing the read store with %d reads still running", self._busy)
            for conn in self._connections:
                conn.close()
            self._connections.clear()


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class _PgCursor:
    """Adapts ``:name`` parameters to psycopg's ``%(name)s``."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @staticmethod
    def _sql(sql: str) -> str:
        return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))

    def execute(self, sql: str, params: Params = {}) -> Any:  # noqa: B006 - never mutated
        return self._cursor.execute(self._sql(sql), params)

    def executemany(self, sql: str, params: Sequence[Params]) -> Any:
        return self._cursor.executemany(self._sql(sql), params)

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


class PostgresReadStore(ReadStore):
    dialect = "postgres"
    local_reads = False  # a round trip to the server, and a pool that may make one wait
    one_writer = False  # row locks: read models' transactions run side by side

    def __init__(self, conninfo: str, schema: str, max_size: int = 10) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "options": f"-c search_path={schema}"},
            open=True,
        )

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PgCursor(cursor)

    def close(self) -> None:
        self._pool.close()

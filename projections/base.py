"""A read model that follows the event store's notification log.

Each projection applies a batch of notifications and moves its position in the same
transaction, so a notification is applied exactly once in effect however often it is
delivered: a batch whose first notification is at or below the stored position is
skipped up to the position, and the position only moves forward. On PostgreSQL the
position row is locked for the transaction, so two runners (or a runner and a rebuild's
swap) never apply the same notifications to the same rows.

A projection's tables are named by ``t(logical_name)``: the live copy uses the logical
names, a rebuild writes a fresh copy under a suffix and swaps it in (``projections.rebuild``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, ClassVar

from adapters.readstore import Cursor, ReadStore, Row
from projections.deferred_writes import Deferred, write_once
from projections.dispatch import Handles
from projections.layout import (
    DEFERRED_DDL,
    LAYOUTS_DDL,
    indexes_deferred,
    record_deferral,
    record_layout,
    renew,
    stored_layout,
)
from projections.positions import POSITIONS_DDL, LogPosition

logger = logging.getLogger(__name__)


Notified = tuple[int, Any]
"""A notification id and the domain event it carries (``None``: an event this build of
the software cannot decode; see ``projections.runner``)."""


IN_CHUNK = 500
"""Keys per ``IN (...)`` list."""


def select_in(
    cursor: Cursor, table: str, column: str, keys: Sequence[str], extra: str = ""
) -> list[Row]:
    """Every row of ``table`` whose ``column`` is one of ``keys``: a batch loads the rows it
    touches with a few statements instead of one per key."""
    rows: list[Row] = []
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        params = {f"k{i}": key for i, key in enumerate(chunk)}
        marks = ", ".join(f":{name}" for name in params)
        cursor.execute(f"SELECT * FROM {table} WHERE {column} IN ({marks}){extra}", params)
        rows.extend(cursor.fetchall())
    return rows


@dataclass(frozen=True)
class Index:
    """A secondary index: created with the tables, renamed with them on a swap.

    ``query_only``: no apply path reads through it, so a rebuild's fresh copy goes without
    it until it has caught up (then one sort builds it, instead of an update for every row
    the rebuild writes); so does a live read model far behind the head
    (``projections.catch_up``), unless ``worker_reads``: a worker walks it on every poll
    (the timer, the parking sweep) and would scan the table each time without it."""

    name: str
    table: str
    columns: str
    unique: bool = False
    query_only: bool = False
    worker_reads: bool = False

    @property
    def deferrable(self) -> bool:
        """Left out while the live read model catches up."""
        return self.query_only and not self.worker_reads


class Projection(LogPosition, ABC):
    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    """Logical names of the tables this projection owns."""
    handles: ClassVar[Handles[Any]]
    """Where each domain event class goes, and which ones this read model ignores
    (``projections.dispatch``)."""
    schema_version: ClassVar[int] = 1
    """The layout of this read model's tables: raise it with any change to them, and a
    store holding an older layout is refilled from the log at start
    (``projections.layout``)."""

    def __init__(self, store: ReadStore, suffix: str = "") -> None:
        self.store = store
        self.suffix = suffix
        self.position_name = self.name + suffix

    def t(self, table: str) -> str:
        """The physical name of one of this copy's tables."""
        return table + self.suffix

    def fresh_copy(self, suffix: str) -> Projection:
        """The same read model, writing to tables under ``suffix`` (for a rebuild)."""
        return type(self)(self.store, suffix)

    # -- schema -----------------------------------------------------------------------------

    @abstractmethod
    def ddl(self) -> Sequence[str]:
        """``CREATE TABLE IF NOT EXISTS`` statements, table names through ``t()``."""

    def indexes(self) -> Sequence[Index]:
        """Secondary indexes (logical table names)."""
        return ()

    def index_sql(self, index: Index) -> str:
        unique = "UNIQUE " if index.unique else ""
        return (
            f"CREATE {unique}INDEX IF NOT EXISTS {self.t(index.name)}"
            f" ON {self.t(index.table)} ({index.columns})"
        )

    def create_tables(self, query_indexes: bool = True) -> None:
        """The tables, their indexes (without the ``query_only`` ones when
        ``query_indexes`` is False: see ``create_query_indexes``) and the position row."""
        with self.store.transaction() as cursor:
            cursor.execute(POSITIONS_DDL)
            cursor.execute(LAYOUTS_DDL)
            cursor.execute(DEFERRED_DDL)
            deferred = False
            if not self.suffix:  # a rebuild's copy is made in this build's layout anyway
                stored = stored_layout(cursor, self.store.dialect, self.name)
                if stored is not None and stored != self.schema_version:
                    logger.warning(
                        "read model %s: the store holds layout %d, this build's is %d:"
                        " refilling it from the log",
                        self.name,
                        stored,
                        self.schema_version,
                    )
                    renew(cursor, self.store.dialect, self.name, self.tables)
                record_layout(cursor, self.name, self.schema_version)
                deferred = indexes_deferred(cursor, self.name)
            for statement in self.ddl():
                cursor.execute(statement)
            for index in self.indexes():
                if index.query_only and (not query_indexes or (deferred and index.deferrable)):
                    continue
                cursor.execute(self.index_sql(index))
            cursor.execute(
                "INSERT INTO projection_positions (name, position) VALUES (:name, 0)"
                " ON CONFLICT (name) DO NOTHING",
                {"name": self.position_name},
            )

    def create_query_indexes(self) -> None:
        """The ``query_only`` indexes that ``create_tables(query_indexes=False)`` left out."""
        with self.store.transaction() as cursor:
            for index in self.indexes():
                if index.query_only:
                    cursor.execute(self.index_sql(index))

    def defer_query_indexes(self, behind: int) -> None:
        """Drop the deferrable query indexes until ``restore_query_indexes`` (a catch-up
        ``behind`` notifications long: ``projections.catch_up``), and record it."""
        with self.store.transaction() as cursor:
            for index in self.indexes():
                if index.deferrable:
                    cursor.execute(f"DROP INDEX IF EXISTS {self.t(index.name)}")
            record_deferral(cursor, self.position_name, behind)

    def restore_query_indexes(self) -> None:
        """Build the deferred query indexes (one sort each) and record that they are."""
        with self.store.transaction() as cursor:
            for index in self.indexes():
                if index.deferrable:
                    cursor.execute(self.index_sql(index))
            record_deferral(cursor, self.position_name, None)

    def query_indexes_deferred(self) -> bool:
        with self.store.reading() as cursor:
            return indexes_deferred(cursor, self.position_name)

    def drop_tables(self) -> None:
        with self.store.transaction() as cursor:
            for table in self.tables:
                cursor.execute(f"DROP TABLE IF EXISTS {self.t(table)}")
            cursor.execute(
                "DELETE FROM projection_positions WHERE name = :name", {"name": self.position_name}
            )

    # -- applying -----------------------------------------------------------------------------

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        """Apply notifications in order; a projection may override this to work a batch
        at a time (load the rows it touches, change them, write them back)."""
        for notification_id, event in batch:
            if event is not None:
                self.apply(cursor, notification_id, event)

    def apply(self, cursor: Cursor, notification_id: int, event: Any) -> None:
        """Apply one domain event to the rows (events of no interest are ignored)."""

    def process(self, batch: Sequence[Notified]) -> int:
        """Apply the notifications after the stored position and store the new position,
        in one transaction. Returns how many were applied. On a store with one writer
        (SQLite) the batch is computed in a read snapshot first and only its writes take
        the write lock (``projections.deferred_writes``)."""
        if not batch:
            return 0
        return write_once(
            self,
            self.store,
            lambda seen: self._in_snapshot(seen, batch),
            lambda cursor: self.process_in(cursor, batch),
        )

    def _in_snapshot(self, seen: Deferred, batch: Sequence[Notified]) -> Deferred:
        """The batch's notifications after the snapshot's position applied to its cursor."""
        fresh = batch[bisect_right(batch, seen.position, key=itemgetter(0)) :]
        if fresh:
            self.apply_batch(seen.cursor, fresh)
            seen.applied(fresh[-1][0], len(fresh))
        return seen

    def process_in(self, cursor: Cursor, batch: Sequence[Notified]) -> int:
        """``batch`` is in notification order, as the log is read: what is after the
        position is a slice of it (copying every item was 1 to 3 % of a catch-up)."""
        current = self.locked_position(cursor)
        fresh = batch[bisect_right(batch, current, key=itemgetter(0)) :]
        if fresh:
            self.apply_batch(cursor, fresh)
            self.set_position(cursor, fresh[-1][0])
        return len(fresh)

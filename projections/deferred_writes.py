"""A batch computed in a read snapshot, written in a short write transaction.

SQLite has one writer per file. A read model that applied its batch inside a write
transaction held that lock while it loaded rows and computed in Python, so read models in
two processes took turns instead of running side by side. Each read model's batch is
instead applied to a :class:`DeferredWrites` cursor inside a read transaction (WAL: a
snapshot, no lock): reads go to the snapshot, writes are recorded. The recorded writes are
then replayed in a write transaction, after checking that nothing moved under the
snapshot (``projections.base.Projection.process``): the read model's position (another
runner, a quarantine) and the schema (a rebuild's swap, a layout renewal, indexes dropped
or built). If either moved, the batch is applied again the old way, inside the write
transaction, so the result is always the one a serial apply gives.

Replaying recorded writes equals executing them only if the batch never reads what it
wrote (its reads would then miss its own writes). The read models load, compute in
memory, then write (``projections.*.batch``); the cursor checks it anyway: a read of a
table the batch already wrote, a statement that is neither a read nor a write to a table,
or asking for the rows or the row count of a write raises :class:`NeedsWriteLock`, and the
batch is applied inside the write transaction instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.readstore import Cursor, Params, ReadStore

logger = logging.getLogger(__name__)


class NeedsWriteLock(Exception):
    """The batch cannot be computed in a snapshot (see the module docstring)."""


_WRITE = re.compile(
    r"\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    r"\s+([A-Za-z_]\w*)",
    re.IGNORECASE,
)
_READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)

Recorded = tuple[str, Params | list[Params], bool]
"""A write statement, its parameters (a list for ``executemany``), and whether many."""


def _copy(params: Any) -> Any:
    """The parameters as they are now: a batch may change a row's dict after writing it."""
    return dict(params) if isinstance(params, Mapping) else tuple(params)


class DeferredWrites:
    """A ``Cursor`` over a read transaction's cursor: reads run, writes are recorded."""

    def __init__(self, reader: Cursor) -> None:
        self._reader = reader
        self.writes: list[Recorded] = []
        self._written: dict[str, re.Pattern[str]] = {}
        """Each table written so far → a pattern finding its name in a statement."""
        self._last_wrote = False

    def execute(self, sql: str, params: Params = {}) -> Any:  # noqa: B006 - never mutated
        if self._is_write(sql):
            self.writes.append((sql, _copy(params), False))
            return self
        self._read(sql)
        return self._reader.execute(sql, params)

    def executemany(self, sql: str, params: Sequence[Params]) -> Any:
        if not self._is_write(sql):
            raise NeedsWriteLock(f"executemany of a statement that is not a write: {sql[:60]!r}")
        self.writes.append((sql, [_copy(p) for p in params], True))
        return self

    def fetchall(self) -> list[Any]:
        if self._last_wrote:
            raise NeedsWriteLock("the rows of a deferred write")
        return self._reader.fetchall()

    @property
    def rowcount(self) -> int:
        if self._last_wrote:
            raise NeedsWriteLock("the row count of a deferred write")
        return self._reader.rowcount

    def replay(self, cursor: Cursor) -> None:
        """Execute the recorded writes, in order, on ``cursor`` (a write transaction's)."""
        for sql, params, many in self.writes:
            if many:
                cursor.executemany(sql, params)  # type: ignore[arg-type]
            else:
                cursor.execute(sql, params)  # type: ignore[arg-type]

    def _is_write(self, sql: str) -> bool:
        found = _WRITE.match(sql)
        self._last_wrote = found is not None
        if found is not None:
            table = found.group(1).lower()
            if table not in self._written:
                self._written[table] = re.compile(rf"\b{re.escape(table)}\b", re.IGNORECASE)
        return self._last_wrote

    def _read(self, sql: str) -> None:
        if not _READ.match(sql):
            raise NeedsWriteLock(f"a statement that is neither a read nor a write: {sql[:60]!r}")
        for table, named in self._written.items():
            if named.search(sql):
                raise NeedsWriteLock(f"a read of {table}, which this batch already wrote")


class Positioned(Protocol):
    """What of a read model the deferral needs (``projections.positions.LogPosition``)."""

    position_name: str

    def locked_position(self, cursor: Cursor) -> int: ...

    def set_position(self, cursor: Cursor, position: int) -> None: ...


def schema_version(cursor: Cursor) -> int:
    """SQLite's count of schema changes to the file: moved by any table or index created,
    dropped or renamed (a rebuild's swap, a layout renewal, a catch-up's indexes)."""
    cursor.execute("PRAGMA schema_version")
    return int(cursor.fetchall()[0]["schema_version"])


@dataclass
class Deferred:
    """One batch applied in a snapshot: what it saw, and the writes it recorded."""

    position: int
    schema: int
    cursor: DeferredWrites
    last: int = 0
    """The last notification id the batch applied (0: none)."""
    count: int = 0

    @classmethod
    def begin(cls, model: Positioned, reader: Cursor) -> Deferred:
        return cls(model.locked_position(reader), schema_version(reader), DeferredWrites(reader))

    def applied(self, last: int, count: int) -> Deferred:
        """The batch applied ``count`` notifications, up to notification ``last``."""
        self.last, self.count = last, count
        return self

    def still_holds(self, model: Positioned, cursor: Cursor) -> bool:
        """In the write transaction: neither the position nor the schema moved since the
        snapshot, so replaying the recorded writes gives what applying the batch now would."""
        return model.locked_position(cursor) == self.position and (
            schema_version(cursor) == self.schema
        )

    def write(self, model: Positioned, cursor: Cursor) -> int:
        if self.count:
            self.cursor.replay(cursor)
            model.set_position(cursor, self.last)
        return self.count


def write_once(
    model: Positioned,
    store: ReadStore,
    compute: Callable[[Deferred], Deferred],
    serial: Callable[[Cursor], int],
) -> int:
    """Apply a read model's next batch once; returns how many notifications it applied.
    On a one-writer store ``compute`` applies it to a snapshot (``Deferred.cursor``) and
    returns the ``Deferred`` marked ``applied``, and only the recorded writes take the
    lock; ``serial`` applies it under the lock, as every batch is elsewhere, when the
    snapshot cannot serve (``NeedsWriteLock``) or went stale."""
    deferred: Deferred | None = None
    if store.one_writer:
        with store.reading() as reader:
            try:
                deferred = compute(Deferred.begin(model, reader))
            except NeedsWriteLock as why:
                logger.debug("%s: batch applied under the lock: %s", model.position_name, why)
        if deferred is not None and not deferred.count:
            return 0  # nothing new, as of the snapshot
    with store.transaction() as cursor:
        if deferred is not None and deferred.still_holds(model, cursor):
            return deferred.write(model, cursor)
        return serial(cursor)

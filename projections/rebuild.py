"""Rebuild a read model from position zero while the current copy keeps serving, then
swap the fresh copy in.

1. The fresh copy's tables are created under a suffix (``__rebuild``), without the
   indexes that only queries use (built once at the end instead of updated row by row),
   and filled from the start of the notification log, strictly: an event this build
   cannot decode stops the rebuild (``UnknownEvent``) and the live copy stays as it was.
2. The swap is one transaction: it locks the live copy's position (so no runner applies a
   batch to the live tables meanwhile), applies the last notifications to the fresh copy,
   drops the live tables, renames the fresh ones (with their indexes) to the live names,
   and moves the live position to the fresh copy's. A runner that was waiting on the lock
   then reads the new position and carries on from there, on the new tables.

A rebuild that stops half-way leaves only its own ``__rebuild`` tables behind; the next
rebuild drops them first.

An event the fresh copy cannot apply is quarantined for the copy, as the live runner does
(``projections.quarantine``), and at the swap the copy's quarantine replaces the live one:
rebuilding after the cause was fixed is how quarantined events are recovered. The few
notifications applied under the swap's lock are applied as they come: one that fails
there fails the rebuild, and the live copy stays as it was.

Every declared read model can be rebuilt but the followers (``rebuildable``): the audit
chain must never be rebuilt, it would approve whatever is stored now.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from adapters.readstore import Cursor
from projections.base import Notified, Projection
from projections.layout import record_deferral
from projections.quarantine import Quarantine
from projections.registry import ReadModels
from projections.runner import NotificationReader, apply_guarded

logger = logging.getLogger(__name__)

REBUILD_SUFFIX = "__rebuild"


def rebuildable(models: ReadModels) -> dict[str, Projection]:
    """The read models a rebuild may replace, by name, in declaration order."""
    return {declared.name: model for declared, model in models.built if not declared.follower}


@dataclass(frozen=True)
class Progress:
    read_model: str
    position: int
    head: int
    applied: int
    elapsed_s: float
    swapped: bool = False

    @property
    def rate(self) -> float:
        return self.applied / self.elapsed_s if self.elapsed_s > 0 else 0.0


def rebuild(
    live: Projection,
    reader: NotificationReader,
    batch_size: int = 5000,
    progress: Callable[[Progress], None] | None = None,
    per_transaction: int = 20_000,
    quarantine: Quarantine | None = None,
) -> Progress:
    """``batch_size`` notifications are read at a time; the fill applies at least
    ``per_transaction`` of them per transaction (the fresh copy serves nobody until the
    swap, and each commit rewrites every page the batch touched: fewer, larger batches
    write hot pages — B-tree inner pages, counters, open cases — fewer times). Without
    ``quarantine`` an event the copy cannot apply stops the rebuild."""
    began = time.monotonic()
    logger.info(
        "rebuild of %s started",
        live.name,
        extra={"read_model": live.name, "head": reader.head(), "live_position": live.position()},
    )
    fresh = live.fresh_copy(REBUILD_SUFFIX)
    fresh.drop_tables()
    fresh.create_tables(query_indexes=False)
    if quarantine is not None:
        with live.store.transaction() as cursor:
            quarantine.forget(cursor, fresh.position_name)
    applied = 0

    def report(swapped: bool = False) -> Progress:
        done = Progress(
            live.name,
            fresh.position() if not swapped else live.position(),
            reader.head(),
            applied,
            time.monotonic() - began,
            swapped,
        )
        if progress is not None:
            progress(done)
        return done

    with without_cycle_collection():
        position = fresh.position()
        while True:
            pending: list[Notified] = []
            while len(pending) < max(per_transaction, 1):
                batch = reader.read(position, batch_size, strict=True)
                if len(batch) < batch_size:
                    break  # near the head: the rest is applied under the swap's lock
                pending += batch
                position = batch[-1][0]
            if pending:
                applied += apply_guarded(fresh, pending, quarantine)
                report()
            if len(batch) < batch_size:
                break
        while batch := reader.read(fresh.position(), batch_size, strict=True):
            applied += apply_guarded(fresh, batch, quarantine)
    if live.store.dialect == "postgres":
        # The swap renames the fresh copy's indexes; SQLite's swap creates every index of
        # the renamed tables anyway (it cannot rename one), the query-only ones with them.
        fresh.create_query_indexes()
    with live.store.transaction() as cursor:
        live.locked_position(cursor)
        while batch := reader.read(fresh.locked_position(cursor), batch_size, strict=True):
            applied += fresh.process_in(cursor, batch)
        _swap_tables(cursor, live, fresh)
        record_deferral(cursor, live.position_name, None)  # the copy has every index
        if quarantine is not None:
            quarantine.hand_over(cursor, fresh.position_name, live.position_name)
        live.set_position(cursor, fresh.locked_position(cursor))
        cursor.execute(
            "DELETE FROM projection_positions WHERE name = :name", {"name": fresh.position_name}
        )
    done = report(swapped=True)
    logger.info(
        "rebuild of %s swapped in at notification %d: %d events applied in %.1f s",
        live.name,
        done.position,
        done.applied,
        done.elapsed_s,
        extra={
            "read_model": live.name,
            "position": done.position,
            "applied": done.applied,
            "seconds": round(done.elapsed_s, 3),
            "per_s": round(done.rate),
        },
    )
    return done


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector off while the fresh copy fills. A rebuild allocates
    millions of short-lived objects (decoded events, rows, documents), freed by reference
    counting; the collector, run every 700 allocations, only re-scans them (KPI counters,
    400k events: 15-20 % of the CPU). Whatever cycles form meanwhile are collected when it
    is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _swap_tables(cursor: Cursor, live: Projection, fresh: Projection) -> None:
    postgres = live.store.dialect == "postgres"
    for table in live.tables:
        cursor.execute(f"DROP TABLE IF EXISTS {live.t(table)}")
        cursor.execute(f"ALTER TABLE {fresh.t(table)} RENAME TO {live.t(table)}")
        if postgres:
            # Every index of the renamed table (its primary key's too) still carries the
            # suffix in its name; give them the live names so the next rebuild is free to
            # use the suffixed ones again.
            cursor.execute(
                "SELECT indexname FROM pg_indexes"
                " WHERE schemaname = current_schema() AND tablename = :table",
                {"table": live.t(table)},
            )
            for row in cursor.fetchall():
                name = str(row["indexname"])
                if fresh.suffix in name:
                    cursor.execute(f"ALTER INDEX {name} RENAME TO {name.replace(fresh.suffix, '')}")
    if not postgres:
        # SQLite cannot rename an index: drop the suffixed ones, create the live ones.
        for index in live.indexes():
            cursor.execute(f"DROP INDEX IF EXISTS {fresh.t(index.name)}")
            cursor.execute(live.index_sql(index))

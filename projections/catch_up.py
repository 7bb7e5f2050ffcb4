"""A read model far behind the event store's head catches up without its query indexes.

The indexes that only queries read through (``Index.deferrable``) cost more to keep up to
date, row by row, than to build at once from the finished table. Measured over the stored
events of 20,000 CFPB complaints (305,359 events, docs/BENCHMARKS.md): keeping them cost
the read models ≈ 44 µs of CPU an event (46.5 s with them, 33.2 s without), while building
every index from the finished tables took 1.2 s, ≈ 4 µs for each event applied. Over the
whole file: 158.2 against 134.9 CPU s, and 3 s to build them at the end.

So when a read model is at least ``min_behind`` notifications behind the head, and the
backlog is at least ``1 / share`` of what it has already applied (the tables, which a build
sorts, grow with that), the runner drops its deferrable indexes and records it
(``projections.layout``); once the next batch reaches the head, it builds them again before
applying it. Queries meanwhile give the same answers, read by scanning: slower, while the
read model's lag (``journey status``, ``/readyz``) says it is behind anyway. Indexes that
workers walk on every poll (the timer's due deadlines, the parking sweep) are kept.

The record survives crashes: a worker restarted half-way carries on without the indexes,
and no process starting meanwhile builds them back (``Projection.create_tables``). A runner
that believes a read model's indexes built looks at the record again now and then while
caught up (``RECHECK_S``): another runner of the same read model (PostgreSQL allows two)
may have deferred them and stopped before it built them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from projections.base import Projection

logger = logging.getLogger(__name__)

RECHECK_S = 10.0
"""How often a caught-up runner reads the record again (a primary-key lookup)."""


@dataclass
class CatchUp:
    """When the runner defers and builds each read model's query indexes."""

    min_behind: int = 50_000
    """Never deferred for a backlog shorter than this (0: never deferred at all)."""
    share: int = 4
    """...nor for one shorter than ``1 / share`` of the notifications already applied."""
    _deferred: dict[str, bool] = field(default_factory=dict, init=False, repr=False)
    """What is known of each read model (read from the store the first time)."""
    _read_at: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    """When the record of each read model was last read (``time.monotonic``)."""

    def defers(self, position: int, behind: int) -> bool:
        return 0 < self.min_behind <= behind and behind * self.share >= position

    def prepare(
        self,
        projections: Sequence[Projection],
        positions: Mapping[str, int],
        head: int,
        batch_size: int,
    ) -> None:
        """Before a batch: defer the indexes of each read model far behind ``head``, and
        build those of each one the batch brings up to it."""
        for projection in projections:
            name = projection.position_name
            position = positions[name]
            behind = head - position
            deferred = self._deferred.get(name)
            now = time.monotonic()
            stale = now - self._read_at.get(name, -RECHECK_S) >= RECHECK_S
            if deferred is None or (not deferred and behind <= batch_size and stale):
                deferred = self._deferred[name] = projection.query_indexes_deferred()
                self._read_at[name] = now
            if deferred and behind <= batch_size:
                started = time.perf_counter()
                projection.restore_query_indexes()
                self._deferred[name] = False
                logger.info(
                    "read model %s caught up: its query indexes were built in %.1f s",
                    name,
                    time.perf_counter() - started,
                )
            elif not deferred and behind > batch_size and self.defers(position, behind):
                projection.defer_query_indexes(behind)
                self._deferred[name] = True
                logger.info(
                    "read model %s is %d notifications behind: catching up without its"
                    " query indexes (queries scan until it has caught up)",
                    name,
                    behind,
                )

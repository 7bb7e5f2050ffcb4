"""The clock timer: breaches deadlines that no fact stopped once the watermark passed them,
and (with a ``LotKeeper``) dead-letters parked events whose prerequisite did not arrive
within their window (``consumers.parked``).

The watermark is event time (the latest ``occurred_at`` recorded, so a replay decides the
same) or, in live mode, the wall clock. Breaches carry event-time values only (the due time,
the target), so when they are detected does not change what they say.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from eventsourcing.persistence import IntegrityError

from application.service import JourneyApplication
from consumers.parked import LotKeeper
from domain.policy import POLICIES
from projections.deadlines import DeadlineIndex

logger = logging.getLogger(__name__)

MAX_LATENESS = max(p.allowed_lateness for p in POLICIES.values())


class ClockTimer:
    def __init__(
        self,
        app: JourneyApplication,
        index: DeadlineIndex,
        wall_clock: Callable[[], datetime] | None = None,
        beat: Callable[[], None] | None = None,
        keeper: LotKeeper | None = None,
    ) -> None:
        self._app = app
        self._index = index
        self._wall_clock = wall_clock
        self.breached = 0
        self._beat = beat
        self._keeper = keeper

    def watermark(self) -> datetime | None:
        if self._wall_clock is not None:
            return self._wall_clock()
        return self._index.watermark()

    def run_once(self) -> int:
        """Advance the clocks of every aggregate with a deadline the watermark passed, and
        keep the parking lots; returns how many decisions (and parked events let in or
        dead-lettered) were recorded."""
        watermark = self.watermark()
        kept = 0 if self._keeper is None else self._keeper.run_once(watermark)
        if watermark is None:
            return kept
        decided = 0
        for aggregate_id in self._index.due_before(watermark - MAX_LATENESS):
            try:
                decided += self._app.advance_clock(aggregate_id, watermark)
            except IntegrityError:
                # The ingest wrote to this aggregate meanwhile; the next round retries.
                logger.info("clock advance of %s raced a write; retrying later", aggregate_id)
        self.breached += decided
        return decided + kept

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        while not stop.is_set():
            decided = self.run_once()
            if self._beat is not None:
                self._beat()
            if decided == 0:
                stop.wait(interval_s)


def wall_clock() -> datetime:
    return datetime.now(UTC)

"""The clock timer: breaches deadlines that no fact stopped once the watermark passed them,
and (with a ``LotKeeper``) dead-letters parked events whose prerequisite did not arrive
within their window (``consumers.parked``).

The watermark is event time (the latest ``occurred_at`` recorded, so a replay decides the
same) or, in live mode, the wall clock. On event time a deadline is breached once the
watermark is past its due time plus the allowed lateness of the policy version its
aggregate recorded (``Policy.allowed_lateness``: facts of other producers may still be on
their way); on the wall clock, once now is past its due time (no lateness: the deadline
breaches at the deadline, and a fact that turns up late settles it). Breaches carry
event-time values only (the due time, the target), so when they are detected does not
change what they say.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from application.service import JourneyApplication
from consumers.parked import LotKeeper
from domain.policy import POLICIES
from projections.deadlines import DeadlineIndex

logger = logging.getLogger(__name__)

MIN_LATENESS = min(p.allowed_lateness for p in POLICIES.values())
"""On event time, the aggregates worth loading have a deadline due before the watermark
minus the least allowed lateness of any version; each then breaches with its own."""
NO_LATENESS = timedelta(0)
ADVANCE_BATCH = 100
"""Aggregates whose clocks are advanced and stored in one transaction."""


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
        # The wall clock breaches at the deadline; event time waits each aggregate's
        # policy's allowed lateness (None), and loads those due before the least of them.
        lateness = NO_LATENESS if self._wall_clock is not None else None
        cutoff = watermark - (MIN_LATENESS if lateness is None else lateness)
        due = self._index.due_before(cutoff)
        for start in range(0, len(due), ADVANCE_BATCH):
            stored, raced = self._app.advance_clocks(
                due[start : start + ADVANCE_BATCH], watermark, lateness
            )
            decided += stored
            for aggregate_id in raced:
                # The ingest wrote to this aggregate meanwhile; the next round retries.
                logger.info("clock advance of %s raced a write; retrying later", aggregate_id)
        self.breached += decided
        return decided + kept

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        try:
            while not stop.is_set():
                decided = self.run_once()
                if self._beat is not None:
                    self._beat()
                if decided == 0:
                    stop.wait(interval_s)
        finally:
            if self._keeper is not None:
                self._keeper.close()


def wall_clock() -> datetime:
    return datetime.now(UTC)

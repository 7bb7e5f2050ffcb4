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
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from adapters.collector import tune_collector
from application.service import JourneyApplication
from consumers.parked import LotKeeper
from consumers.watermark_gate import CaughtUpWatermark
from domain.policy import POLICIES
from projections.deadlines import DeadlineIndex
from projections.deadlines.queries import Due

logger = logging.getLogger(__name__)

MIN_LATENESS = min(p.allowed_lateness for p in POLICIES.values())
"""On event time, the aggregates worth loading have a deadline due before the watermark
minus the least allowed lateness of any version; each then breaches with its own."""
NO_LATENESS = timedelta(0)
ADVANCE_BATCH = 100
"""Aggregates whose clocks are advanced and stored in one transaction."""
DUE_LIMIT = 500
"""Aggregates loaded in one round at most."""


def breach_lateness(wall_clock: bool) -> timedelta:
    """The least time past a deadline's due time the timer waits before breaching it:
    none on the wall clock, the least allowed lateness of any policy on event time."""
    return NO_LATENESS if wall_clock else MIN_LATENESS


class ClockTimer:
    def __init__(
        self,
        app: JourneyApplication,
        index: DeadlineIndex,
        wall_clock: Callable[[], datetime] | None = None,
        beat: Callable[[], None] | None = None,
        keeper: LotKeeper | None = None,
        gate: CaughtUpWatermark | None = None,
    ) -> None:
        """``gate``: judge only by a watermark the ingest has caught up behind
        (``consumers.watermark_gate``); without one, by the watermark as it is."""
        self._app = app
        self._gate = gate
        self._index = index
        self._wall_clock = wall_clock
        self.breached = 0
        self._beat = beat
        self._keeper = keeper
        self._advanced: OrderedDict[str, int] = OrderedDict()
        """Aggregates whose clocks this timer advanced (ids as the index writes them), each
        with the store's last notification id once it had: until the index has read that
        far, their open rows there may be decisions already stored (or facts that stopped
        them), not news. Kept in the order of those ids (``_note_advanced``), so the ones
        the index has read are dropped from the front."""
        self._pass: Due | None = None
        """The last due deadline of the pass so far (``_due``); None: from the soonest."""

    def watermark(self) -> datetime | None:
        """Now (wall clock) or the index's event-time watermark; through the gate, if any."""
        watermark = self._wall_clock() if self._wall_clock is not None else self._index.watermark()
        return watermark if self._gate is None else self._gate.trusted(watermark)

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
        cutoff = watermark - breach_lateness(self._wall_clock is not None)
        for chunk in self._due(cutoff):
            stored, raced = self._app.advance_clocks(chunk, watermark, lateness)
            decided += stored
            head = self._app.recorder.max_notification_id() or 0
            for aggregate_id in chunk:
                self._note_advanced(str(aggregate_id), head)
            for aggregate_id in raced:
                # The ingest wrote to this aggregate meanwhile; the next round retries.
                del self._advanced[str(aggregate_id)]
                logger.info("clock advance of %s raced a write; retrying later", aggregate_id)
        self.breached += decided
        return decided + kept

    def _note_advanced(self, aggregate_id: str, head: int) -> None:
        """Remember the aggregate as advanced up to ``head``, at the end of the order (the
        store's head never goes back, so the heads stay in order)."""
        self._advanced[aggregate_id] = head
        self._advanced.move_to_end(aggregate_id)

    def _forget_read(self, position: int) -> None:
        """Drop the aggregates advanced up to a head the index has read (``position``):
        their rows there are the index's news again. From the front only, so a round costs
        what it drops, not what the timer holds (which, in a catch-up of history, was
        every aggregate advanced since the index last caught up)."""
        advanced = self._advanced
        while advanced:
            aggregate_id, head = next(iter(advanced.items()))
            if head > position:
                break
            del advanced[aggregate_id]

    def _due(self, cutoff: datetime) -> Iterator[list[UUID]]:
        """Up to ``DUE_LIMIT`` aggregates with a deadline due before ``cutoff`` by the
        index, in batches of ``ADVANCE_BATCH``: the next ones of a pass over the index's
        due deadlines, soonest first, which starts again from the soonest once it reached
        the end. Not those advanced since the index's position: during a catch-up of
        history (the index far behind the store) their rows there are decisions already
        stored, and loading each again and again to find that out was most of the timer's
        work."""
        self._forget_read(self._index.position())
        advanced = self._advanced
        due: dict[str, None] = {}
        while len(due) < DUE_LIMIT:
            page = self._index.due_before(cutoff, DUE_LIMIT, after=self._pass)
            # Compared as the index's text: most rows of a catch-up are of aggregates
            # just advanced, and making each a UUID cost more than the comparison.
            due |= dict.fromkeys(d.aggregate_id for d in page if d.aggregate_id not in advanced)
            if len(page) < DUE_LIMIT:
                self._pass = None  # the end: the next round starts from the soonest
                break
            self._pass = page[-1]
        ids = [UUID(aggregate_id) for aggregate_id in due]
        for start in range(0, len(ids), ADVANCE_BATCH):
            yield ids[start : start + ADVANCE_BATCH]

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        tune_collector()  # as every worker's loop (adapters.collector)
        try:
            while not stop.is_set():
                decided = self.run_once()
                if self._beat is not None:
                    self._beat()
                if decided == 0:
                    stop.wait(interval_s)
        finally:
            if self._gate is not None:
                self._gate.close()


def wall_clock() -> datetime:
    return datetime.now(UTC)

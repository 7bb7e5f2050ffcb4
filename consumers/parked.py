"""Parked source events (``domain.parking``) out of the ingest's reach: their dead letters,
and what the clock timer does for the lots (``LotKeeper``).

An event refused once let in from its lot, or whose prerequisite did not arrive within its
window, is dead-lettered from what the lot kept, with its own source coordinates, its
customer as key and its original bytes (empty once its customer is erased), so that a
replay sends it back where it came from."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from adapters.sourcelog.base import Record
from application.batches import release_arrived
from application.parking import opened
from application.projector import mutate_in_order
from application.service import JourneyApplication
from consumers.deadletters import DeadLetter, DeadLetterSink
from domain.parking import ParkingLot, Waiting
from projections.parking import ParkedIndex

logger = logging.getLogger(__name__)


def parked_letter(waiting: Waiting, reason: str, envelope: bytes) -> DeadLetter:
    source = waiting.source
    record = Record(
        topic=source.topic,
        partition=source.partition,
        offset=source.offset,
        key=waiting.customer_id.encode(),
        value=envelope,
        headers=(),
        timestamp_ms=int(waiting.occurred_at.timestamp() * 1000),
    )
    return DeadLetter(record, reason)


def span(duration: timedelta) -> str:
    """``24h``, ``90m``, ``45s``: a window as the policy would state it."""
    seconds = int(duration.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def expiry_reason(waiting: Waiting) -> str:
    window = span(waiting.expires_at - waiting.occurred_at)
    return (
        f"{waiting.reason}; not arrived within {window}"
        f" (parked at {waiting.occurred_at.isoformat()})"
    )


RECHECK_FIRST_S = 1.0
RECHECK_MAX_S = 900.0


class LotKeeper:
    """What the clock timer does for the parking lots (``ClockTimer(keeper=...)``).

    - **Expiry.** A lot with an event whose ``expires_at`` the watermark reached is first
      tried once more as if its prerequisite had just arrived (it may have: see below);
      what still waits past its window is dead-lettered (durably, first) with the reason
      it waited for, then recorded as expired in the lot. A racing write to the lot makes
      the record fail: the next round tries again (its letter may then be published twice:
      dead letters are at least once).
    - **Only by a watermark the ingest caught up behind**: the timer's (its ``gate``,
      ``consumers.watermark_gate``): a topic read ahead of another must not expire events
      whose prerequisite is still unread on the other.
    - **Arrivals the ingest could not see.** Two members may race: one stores the order
      while the other parks a callback for it, each before the other's commit; the
      callback would then wait for an order that exists. Every lot whose prerequisite
      exists is tried again, soon after it is first seen and then less and less often
      (``RECHECK_FIRST_S`` doubling up to ``RECHECK_MAX_S``), in a transaction of its own.
    """

    def __init__(
        self,
        app: JourneyApplication,
        index: ParkedIndex,
        dead_letters: DeadLetterSink,
        clock: Callable[[], float] = time.monotonic,
        limit: int = 500,
    ) -> None:
        self._app = app
        self._index = index
        self._dead_letters = dead_letters
        self._clock = clock
        self._limit = limit
        self._next_check: dict[UUID, tuple[float, float]] = {}
        """Lot id → (when to try it again, the wait after that)."""
        self.expired = 0
        self.released = 0

    def run_once(self, watermark: datetime | None) -> int:
        """Try the lots whose prerequisite exists, then expire what the watermark passed;
        returns how many parked events were let in or dead-lettered."""
        done = self._retry_arrived()
        if watermark is not None:
            done += self._expire(watermark)
        return done

    def _exists(self, ids: list[UUID]) -> set[UUID]:
        existing = self._app.existing_ids
        if existing is not None:
            return existing(ids)
        return {i for i in ids if i in self._app.repository}

    def _retry_arrived(self) -> int:
        now = self._clock()
        lots = self._index.lots(self._limit)
        self._next_check = {
            lot: self._next_check[lot] for lot, _ in lots if lot in self._next_check
        }
        due = [(lot, pre) for lot, pre in lots if self._next_check.get(lot, (now, 0.0))[0] <= now]
        if not due:
            return 0
        existing = self._exists([pre for _, pre in due])
        done = 0
        for lot_id, prerequisite_id in due:
            moved = self._release(prerequisite_id) if prerequisite_id in existing else 0
            wait = self._next_check.get(lot_id, (now, RECHECK_FIRST_S / 2))[1] * 2
            # Something moved, or a race: soon again; nothing: later and later.
            wait = RECHECK_FIRST_S if moved != 0 else min(wait, RECHECK_MAX_S)
            self._next_check[lot_id] = (now + wait, wait)
            done += moved or 0
        return done

    def _release(self, prerequisite_id: UUID) -> int | None:
        """What the lot of ``prerequisite_id`` lets in now (stored); None when a racing
        write refused the commit."""
        pending = release_arrived(self._app, [prerequisite_id])
        moved = len(pending.released) + len(pending.released_refusals)
        if not moved:
            return 0
        self._dead_letters.send(
            [parked_letter(r.waiting, r.reason, r.envelope) for r in pending.released_refusals]
        )
        try:
            pending.commit()
        except IntegrityError:
            logger.info("releasing the lot of %s raced a write; retrying", prerequisite_id)
            return None
        logger.info(
            "released %d parked events: what they wait for arrived",
            moved,
            extra={"prerequisite_id": str(prerequisite_id), "released": moved},
        )
        self.released += moved
        return moved

    def _expire(self, watermark: datetime) -> int:
        done = 0
        for lot_id, prerequisite_id in self._index.due(watermark, self._limit):
            if self._exists([prerequisite_id]):
                moved = self._release(prerequisite_id)
                if moved is None:
                    continue  # a racing write: nothing expires before it is tried again
                done += moved
            try:
                lot: ParkingLot = self._app.repository.get(lot_id, projector_func=mutate_in_order)
            except AggregateNotFoundError:
                continue
            expired = lot.expire(watermark)
            if not expired:
                continue
            personal = self._app.personal
            self._dead_letters.send(
                [parked_letter(w, expiry_reason(w), opened(personal, w)) for w in expired]
            )
            try:
                self._app.save(lot)
            except IntegrityError:
                logger.info("expiring lot %s raced a write; retrying", lot_id)
                continue
            self.expired += len(expired)
            done += len(expired)
        return done

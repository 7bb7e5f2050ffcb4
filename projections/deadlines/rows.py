"""What each clock decision changes among the open deadlines, routed by ``HANDLES``: a
deadline opens when started and closes when met, breached or cancelled. Facts change no
deadline; every fact (and creation) moves the event-time watermark instead (``batch``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from eventsourcing.domain import Aggregate

from adapters.readstore import Row
from domain.aggregate import Fact, JourneyAggregate
from domain.parking import ParkingLot
from projections.dispatch import Handles


class Changes(Protocol):
    def open(self, row: Row) -> None: ...
    def close(self, row: Row) -> None: ...


Change = Callable[[Changes, Any], None]

HANDLES: Handles[Change] = Handles("deadline_index")
HANDLES.ignore(
    ParkingLot.Event,  # the parking lots' own bookkeeping: their events let in apply
    JourneyAggregate.DeadlineSettled,  # a late fact settling a deadline already closed
    Fact,  # facts only move the watermark
    Aggregate.Created,  # so do creations
)


def utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


@HANDLES.on(JourneyAggregate.DeadlineStarted)
def started(changes: Changes, event: JourneyAggregate.DeadlineStarted) -> None:
    changes.open(
        {
            "id": str(event.originator_id),
            "key": event.key,
            "rule": event.rule,
            "due": utc(event.due_at),
        }
    )


@HANDLES.on(
    JourneyAggregate.DeadlineMet,
    JourneyAggregate.DeadlineBreached,
    JourneyAggregate.DeadlineCancelled,
)
def closed(changes: Changes, event: Any) -> None:
    changes.close({"id": str(event.originator_id), "key": event.key})

"""Checks on parked source events (``domain.parking``) shared by the unit tests: an event
that names something not known yet is parked, not refused, with nothing applied; the
journey's own events are counted apart from the parking lots'."""

from __future__ import annotations

from uuid import UUID

from application.batches import PendingBatch
from application.handlers.base import MissingPrerequisite
from application.service import JourneyApplication
from domain.parking import ParkingLot
from domain.provenance import SourceRef

LOT_TOPIC = f"{ParkingLot.__module__}:"
"""The stored topic prefix of the parking lots' events."""


def journey_events(app: JourneyApplication) -> int:
    """Stored events of the journey's aggregates (the parking lots' own left out)."""
    return sum(
        1
        for n in app.process_recorder.select_notifications(1, 1_000_000)
        if not n.topic.startswith(LOT_TOPIC)
    )


def waiting_for(app: JourneyApplication, prerequisite_id: UUID) -> list[str]:
    """The event ids parked in the lot of ``prerequisite_id``, in parking order."""
    lot_id = ParkingLot.create_id(prerequisite_id)
    if lot_id not in app.repository:
        return []
    lot: ParkingLot = app.repository.get(lot_id)
    return list(lot.waiting)


def parked_naming(
    pending: PendingBatch, refs: list[SourceRef], prerequisite_id: UUID, *named: str
) -> list[MissingPrerequisite]:
    """The batch refused nothing and parked exactly ``refs``, each waiting for
    ``prerequisite_id`` with a reason naming each of ``named``."""
    assert pending.refusals == [], f"refused: {pending.refusals}"
    assert [ref for ref, _ in pending.parked] == refs
    errors = [error for _, error in pending.parked]
    for error in errors:
        assert isinstance(error, MissingPrerequisite)
        assert error.aggregate_id == prerequisite_id
        for name in named:
            assert name in str(error), f"{error} does not name {name}"
    return errors

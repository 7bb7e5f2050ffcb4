"""Parking source events whose prerequisite is not known yet, and releasing them when it
arrives (``domain.parking``; docs/delivery.md "Ordering").

Everything here happens inside one batch's unit of work: a parked event is stored with the
partition's position, and a released one is applied, with its own source coordinates, in
the same transaction as the event that created its prerequisite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from adapters.privacy.personal import PersonalData
from adapters.privacy.tokens import ERASED
from application.handlers.base import MissingPrerequisite, UnitOfWork
from contracts.envelope import InvalidEvent, SourceEvent, validate
from contracts.strict_json import strict_json
from domain.parking import ParkingLot, Waiting
from domain.policy import policy_in_force
from domain.provenance import SourceRef

_NO_SKEW = timedelta(0)

SEALED_FIELD = "parked"
"""The field name the parked envelope is sealed under (it names the key's use)."""


@dataclass(frozen=True)
class ReleasedRefusal:
    """A parked event refused once released (a rule, or its window passed): it is
    dead-lettered from what the lot kept, with its own source coordinates."""

    waiting: Waiting
    reason: str
    envelope: bytes
    """The source event's bytes, opened (empty when they can no longer be: erased)."""


def park(
    unit: UnitOfWork,
    personal: PersonalData,
    event: SourceEvent,
    source: SourceRef,
    missing: MissingPrerequisite,
) -> None:
    """Park ``event`` in the lot of what it misses (opened if it has none)."""
    lot_id = ParkingLot.create_id(missing.aggregate_id)
    lot = unit.get(ParkingLot, lot_id)
    if lot is None:
        lot = ParkingLot.open(missing.aggregate_id)
        unit.add(lot)
    window = policy_in_force(event.occurred_at).prerequisite_window
    lot.park(
        Waiting(
            event_id=event.event_id,
            event_type=event.type,
            customer_id=event.customer_id,
            sealed=personal.seal_text(event.customer_id, SEALED_FIELD, original(event).decode()),
            source=source,
            occurred_at=event.occurred_at,
            expires_at=event.occurred_at + window,
            reason=str(missing),
        )
    )


def original(event: SourceEvent) -> bytes:
    """The bytes the event came in (its JSON as validated when it came otherwise)."""
    return event.raw if event.raw is not None else event.to_json()


def lot_ids(ids: Iterable[UUID]) -> list[UUID]:
    """The lots that events waiting for ``ids`` would be parked in."""
    return [ParkingLot.create_id(i) for i in ids]


def lots_for(unit: UnitOfWork, arrived: Iterable[UUID]) -> list[ParkingLot]:
    """The lots with events waiting for any of the ``arrived`` aggregates."""
    out: list[ParkingLot] = []
    for aggregate_id in arrived:
        lot = unit.get(ParkingLot, ParkingLot.create_id(aggregate_id))
        if lot is not None and lot.waiting:
            out.append(lot)
    return out


def opened(personal: PersonalData, waiting: Waiting) -> bytes:
    """The parked envelope's JSON, or empty once its customer is erased."""
    text = personal.reveal(waiting.customer_id, {SEALED_FIELD: waiting.sealed})[SEALED_FIELD]
    return b"" if not isinstance(text, str) or text == ERASED else text.encode()


def reopen(personal: PersonalData, waiting: Waiting) -> SourceEvent | ReleasedRefusal:
    """The parked source event again, validated as when it was parked (its future-skew
    check was made then, so none is made now), or why it cannot be."""
    envelope = opened(personal, waiting)
    if not envelope:
        return ReleasedRefusal(waiting, "parked event unreadable: its customer was erased", b"")
    try:
        event = validate(strict_json(envelope), now=waiting.occurred_at, max_future=_NO_SKEW)
        return replace(event, raw=envelope)
    except (InvalidEvent, ValueError) as error:
        return ReleasedRefusal(waiting, f"parked event no longer valid: {error}", envelope)

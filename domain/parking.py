"""Source events waiting for what they refer to (DESIGN.md "Order is not guaranteed").

A customer's events come from independent producers over several topics, so a fact can
arrive before the order, case, return, callback, contact, survey or customer it refers to.
Such an event is parked in the lot of that prerequisite — an aggregate of its own, stored
with the partition's position in the batch's one transaction, so parking is exactly-once —
and applied when the prerequisite arrives. If it has not arrived once the event-time
watermark passes the event's time by the policy's ``prerequisite_window``, the event
expires: it is dead-lettered with the reason it was parked for.

The lot keeps each waiting event sealed (the envelope may hold personal data, which is
encrypted at rest with the customer's key like everywhere else) with its source
coordinates, so a released event is applied with its own provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import aggregate_id
from domain.provenance import SourceRef


@dataclass(frozen=True)
class Waiting:
    """One parked source event."""

    event_id: str
    event_type: str
    customer_id: str
    sealed: str
    """The source event's JSON, sealed with its customer's key."""
    source: SourceRef
    occurred_at: datetime
    expires_at: datetime
    """Event time after which, the prerequisite still unknown, the event is dead-lettered."""
    reason: str
    """Why it waits: the refusal it would have had (``unknown order 'o-1'``)."""


class ParkingLot(Aggregate):
    """The events waiting for one prerequisite aggregate, in the order they were parked."""

    class Opened(Aggregate.Created):
        prerequisite_id: UUID

    def __init__(self, prerequisite_id: UUID) -> None:
        self.prerequisite_id = prerequisite_id
        self.waiting: dict[str, Waiting] = {}

    @staticmethod
    def create_id(prerequisite_id: UUID) -> UUID:
        return aggregate_id("parking", str(prerequisite_id))

    @classmethod
    def open(cls, prerequisite_id: UUID) -> ParkingLot:
        return cls._create(
            cls.Opened, id=cls.create_id(prerequisite_id), prerequisite_id=prerequisite_id
        )

    class Parked(Aggregate.Event):
        """A source event parked: not a fact of the journey (nothing was applied), so its
        source record is ``record``, not ``source``."""

        event_id: str
        event_type: str
        customer_id: str
        sealed: str
        record: SourceRef
        occurred_at: datetime
        expires_at: datetime
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.waiting[self.event_id] = Waiting(
                event_id=self.event_id,
                event_type=self.event_type,
                customer_id=self.customer_id,
                sealed=self.sealed,
                source=self.record,
                occurred_at=self.occurred_at,
                expires_at=self.expires_at,
                reason=self.reason,
            )

    class Released(Aggregate.Event):
        """The prerequisite arrived; the events were applied (or refused) in this same
        transaction."""

        event_ids: list[str]

        def apply(self, aggregate: Any) -> None:
            for event_id in self.event_ids:
                aggregate.waiting.pop(event_id, None)

    class Expired(Aggregate.Event):
        """The window passed without the prerequisite; the events were dead-lettered."""

        event_ids: list[str]
        watermark: datetime

        def apply(self, aggregate: Any) -> None:
            for event_id in self.event_ids:
                aggregate.waiting.pop(event_id, None)

    def park(self, waiting: Waiting) -> None:
        """Park ``waiting``, once: a redelivered event already waiting changes nothing. An
        event already waiting for another reason (it knew of the order, now it waits for
        the order's delivery) is parked again with the new reason."""
        known = self.waiting.get(waiting.event_id)
        if known is None or known.reason != waiting.reason:
            self.trigger_event(
                self.Parked,
                event_id=waiting.event_id,
                event_type=waiting.event_type,
                customer_id=waiting.customer_id,
                sealed=waiting.sealed,
                record=waiting.source,
                occurred_at=waiting.occurred_at,
                expires_at=waiting.expires_at,
                reason=waiting.reason,
            )

    def release(self, event_ids: list[str]) -> None:
        """Take the named events out of the lot: they were applied (or refused) in the
        transaction that records this."""
        out = [i for i in event_ids if i in self.waiting]
        if out:
            self.trigger_event(self.Released, event_ids=out)

    def expire(self, watermark: datetime) -> list[Waiting]:
        """The waiting events whose window the watermark passed, now taken out."""
        out = [w for w in self.waiting.values() if w.expires_at <= watermark]
        if out:
            self.trigger_event(
                self.Expired, event_ids=[w.event_id for w in out], watermark=watermark
            )
        return out

    @property
    def next_expiry(self) -> datetime | None:
        return min((w.expires_at for w in self.waiting.values()), default=None)

    def in_order(self) -> list[Waiting]:
        """The waiting events in event-time order (parking order among equal times): the
        order they are tried in when the prerequisite arrives."""
        return sorted(self.waiting.values(), key=lambda w: w.occurred_at)

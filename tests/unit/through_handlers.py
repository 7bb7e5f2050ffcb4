"""Source events through the handlers: ``JourneyApplication.prepare_batch`` at consecutive
offsets of one partition, each event validated as the ingest validates it (the handler
tests of tests/unit/test_contact.py and tests/unit/test_case.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from adapters.sourcelog.base import TopicPartition
from application.batches import PendingBatch
from application.service import JourneyApplication
from contracts.envelope import SourceEvent, validate
from contracts.schemas import EVENT_TYPES
from domain.case import Case
from domain.contact import Contact
from domain.provenance import SourceRef
from tests.unit.parking_checks import journey_events

TOPIC = "journey.contacts"
NOW = datetime(2026, 4, 1, 10, 0, tzinfo=timezone(timedelta(hours=8)))
"""Validation's "now": after every event time of the tests (30 days after the contact
tests' first opening)."""

Item = tuple[SourceRef, SourceEvent]


class Journey:
    """Source events through ``JourneyApplication.prepare_batch`` at consecutive offsets."""

    def __init__(self, app: JourneyApplication) -> None:
        self.app = app
        self.offset = 0
        self.numbers = 0

    def event(
        self,
        type_: str,
        data: dict[str, Any],
        at: datetime,
        *,
        customer_id: str = "cust-1",
        channel: str = "app",
        event_id: str | None = None,
        schema_version: int | None = None,
    ) -> Item:
        self.numbers += 1
        body = {
            "event_id": event_id or f"src-{self.numbers}",
            "type": type_,
            "occurred_at": at.isoformat(),
            "channel": channel,
            "customer_id": customer_id,
            "source": "test",
            "schema_version": schema_version or EVENT_TYPES[type_].latest,
            "data": data,
        }
        event = validate(body, now=NOW, max_future=timedelta(minutes=5))
        return self.at_next_offset(event)

    def at_next_offset(self, event: SourceEvent) -> Item:
        """The record (again) at the next offset: a producer's retry looks like this."""
        ref = SourceRef(event.event_id, TOPIC, 0, self.offset)
        self.offset += 1
        return ref, event

    def apply(self, *items: Item, parks: bool = False) -> PendingBatch:
        """One batch, stored; nothing of it may be parked unless ``parks``."""
        next_offset = max(ref.offset for ref, _ in items) + 1
        pending = self.app.prepare_batch(TopicPartition(TOPIC, 0), list(items), next_offset)
        if not parks:
            assert pending.parked == [], f"parked: {pending.parked}"
        pending.commit()
        return pending

    def contact(self, contact_id: str) -> Contact:
        loaded: object = self.app.repository.get(Contact.create_id(contact_id))
        assert isinstance(loaded, Contact)
        return loaded

    def case(self, case_ref: str) -> Case:
        loaded: object = self.app.repository.get(Case.create_id(case_ref))
        assert isinstance(loaded, Case)
        return loaded

    def stored(self) -> int:
        return self.app.process_recorder.max_notification_id() or 0

    def applied(self) -> int:
        """Stored events of the journey's aggregates (the parking lots' left out)."""
        return journey_events(self.app)


def opened(contact_id: str, **data: Any) -> dict[str, Any]:
    return {"contact_id": contact_id, "classification": "complaint", "topic": "order", **data}

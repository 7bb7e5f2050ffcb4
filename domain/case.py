"""The case: one customer problem followed across contacts and channels (R-CH-01).

A contact either opens its own case or joins an existing one, so the case keeps one
history whichever channel the customer uses next ("the customer never repeats the
problem"). Every event carries the source record it came from, and a source ``event_id``
already applied has no further effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.provenance import SourceRef


class CaseMismatch(DomainError):
    """A contact names a case that belongs to another customer."""


class Case(Aggregate):
    class Opened(Aggregate.Created):
        case_ref: str
        customer_id: str
        contact_id: str
        channel: str
        classification: str
        topic: str
        store_id: str | None
        agent_group: str | None
        occurred_at: datetime
        source: SourceRef

    class ContactJoined(Aggregate.Event):
        contact_id: str
        channel: str
        occurred_at: datetime
        source: SourceRef

    @staticmethod
    def create_id(case_ref: str) -> UUID:
        return aggregate_id("case", case_ref)

    @event(Opened)
    def __init__(
        self,
        *,
        case_ref: str,
        customer_id: str,
        contact_id: str,
        channel: str,
        classification: str,
        topic: str,
        store_id: str | None,
        agent_group: str | None,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        self.case_ref = case_ref
        self.customer_id = customer_id
        self.classification = classification
        self.topic = topic
        self.store_id = store_id
        self.agent_group = agent_group
        self.opened_at = occurred_at
        self.channels: list[str] = [channel]
        self.contact_ids: list[str] = [contact_id]
        self.source_event_ids: set[str] = {source.event_id}

    def has_applied(self, event_id: str) -> bool:
        return event_id in self.source_event_ids

    def join(
        self,
        *,
        contact_id: str,
        customer_id: str,
        channel: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """A further contact about the same case, on any channel (R-CH-01)."""
        if self.has_applied(source.event_id):
            return
        if customer_id != self.customer_id:
            raise CaseMismatch(
                f"case {self.case_ref!r} belongs to another customer", rule="R-CH-01"
            )
        self._contact_joined(
            contact_id=contact_id, channel=channel, occurred_at=occurred_at, source=source
        )

    @event(ContactJoined)
    def _contact_joined(
        self, contact_id: str, channel: str, occurred_at: datetime, source: SourceRef
    ) -> None:
        self.contact_ids.append(contact_id)
        if channel not in self.channels:
            self.channels.append(channel)
        self.source_event_ids.add(source.event_id)

    def state(self) -> dict[str, Any]:
        """The case's facts as plain values (for auditors and tests)."""
        return {
            "id": str(self.id),
            "version": self.version,
            "case_ref": self.case_ref,
            "customer_id": self.customer_id,
            "classification": self.classification,
            "topic": self.topic,
            "store_id": self.store_id,
            "agent_group": self.agent_group,
            "opened_at": self.opened_at.isoformat(),
            "channels": list(self.channels),
            "contact_ids": list(self.contact_ids),
        }

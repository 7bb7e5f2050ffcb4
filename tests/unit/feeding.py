"""Feeding source events through the application in tests: build them with the real
envelope validation, apply them on one partition at consecutive offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.sourcelog.base import TopicPartition
from application.batches import PendingBatch
from application.service import JourneyApplication
from contracts.envelope import SourceEvent, validate
from domain.errors import DomainError
from domain.provenance import SourceRef

NOW = datetime(2030, 1, 1, tzinfo=UTC)
"""Validation's 'now': after every event time the tests use."""
PARTITION = TopicPartition("journey.engagement", 0)


def source(
    event_type: str,
    data: dict[str, Any],
    at: datetime,
    event_id: str,
    customer_id: str = "cust-1",
    channel: str = "app",
    attributes: dict[str, str] | None = None,
) -> SourceEvent:
    return validate(
        {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": at.isoformat(),
            "channel": channel,
            "customer_id": customer_id,
            "source": "test",
            "schema_version": 1,
            "data": data,
            **({"attributes": attributes} if attributes else {}),
        },
        now=NOW,
        max_future=timedelta(minutes=5),
    )


class Feed:
    """Source events on one partition at consecutive offsets."""

    def __init__(self, app: JourneyApplication, partition: TopicPartition = PARTITION) -> None:
        self.app = app
        self.partition = partition
        self.offset = 0

    def __call__(self, *events: SourceEvent) -> list[tuple[SourceRef, DomainError]]:
        """One batch, stored: its refusals. Nothing of it may wait for a prerequisite
        (``batch`` for one that may)."""
        pending = self.batch(*events)
        assert pending.parked == [], f"parked: {pending.parked}"
        return pending.refusals

    def batch(self, *events: SourceEvent) -> PendingBatch:
        """One batch, stored: what was refused, parked and released."""
        batch = []
        for event in events:
            batch.append(
                (
                    SourceRef(
                        event.event_id, self.partition.topic, self.partition.partition, self.offset
                    ),
                    event,
                )
            )
            self.offset += 1
        pending = self.app.prepare_batch(self.partition, batch, next_offset=self.offset)
        pending.commit()
        return pending

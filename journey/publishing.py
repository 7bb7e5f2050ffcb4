"""A validated source event as the log record every producer of ours sends."""

from __future__ import annotations

from journey.envelope import SourceEvent
from journey.log.base import OutgoingRecord
from journey.topics import Topics


def record_of(topics: Topics, event: SourceEvent) -> OutgoingRecord:
    """Keyed by ``customer_id`` (one customer's events stay in order on one partition),
    with the headers consumers route and deduplicate by."""
    return OutgoingRecord(
        topic=topics.for_type(event.type),
        key=event.customer_id.encode(),
        value=event.to_json(),
        headers=(
            ("event_id", event.event_id.encode()),
            ("type", event.type.encode()),
            ("schema_version", str(event.envelope.schema_version).encode()),
        ),
    )

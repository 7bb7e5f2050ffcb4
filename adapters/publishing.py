"""A validated source event as the log record every producer of ours sends."""

from __future__ import annotations

from adapters.sourcelog.base import Headers, OutgoingRecord
from adapters.topics import Topics
from contracts.envelope import SourceEvent


def record_of(topics: Topics, event: SourceEvent) -> OutgoingRecord:
    """Keyed by ``customer_id`` (one customer's events stay in order on one partition),
    with the headers consumers route and deduplicate by."""
    return OutgoingRecord(
        topic=topics.for_type(event.type),
        key=event.customer_id.encode(),
        value=event.to_json(),
        headers=source_headers(event.event_id, event.type, event.envelope.schema_version),
    )


def source_headers(event_id: str, event_type: str, schema_version: int) -> Headers:
    """The headers consumers route and deduplicate by, without decoding the value."""
    return (
        ("event_id", event_id.encode()),
        ("type", event_type.encode()),
        ("schema_version", str(schema_version).encode()),
    )

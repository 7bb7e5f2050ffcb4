"""Dead letters of parked source events (``domain.parking``): an event refused once let in
from its lot, or whose prerequisite did not arrive within its window, is dead-lettered
from what the lot kept, with its own source coordinates, its customer as key and its
original bytes (empty once its customer is erased), so that a replay sends it back where
it came from."""

from __future__ import annotations

from adapters.sourcelog.base import Record
from consumers.deadletters import DeadLetter
from domain.parking import Waiting


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

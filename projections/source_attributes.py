"""A row's source attributes (``contracts.attributes``): the values the source's own labels
took on the events of its case or order, the latest of each name in event time.

Kept by event time, never by arrival: two events of a case that give one name two values
end with the later one's (then the greater ``event_id``), whatever order they arrive in
(from two topics, parked, replayed), so any interleaving of a journey builds the same row.
The event time and id of each value are kept in the row's ``attributes_at``.
"""

from __future__ import annotations

from typing import Any

from projections.sla_rows import utc


def merge(row: dict[str, Any], event: Any) -> bool:
    """Add ``event``'s source attributes to ``row``; whether any value changed."""
    source = getattr(event, "source", None)  # a timer's decision has none
    if source is None or not source.attributes:
        return False
    held: dict[str, str] = row.setdefault("attributes", {})
    stamps: dict[str, list[str]] = row.setdefault("attributes_at", {})
    stamp = [utc(event.occurred_at), source.event_id]
    changed = False
    for name, value in source.attributes:
        if name not in stamps or stamp >= stamps[name]:
            changed = changed or held.get(name) != value
            held[name] = value
            stamps[name] = stamp
    return changed

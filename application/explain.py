"""Explain a figure: the stored events behind it, described for people.

Read models keep the notification ids of the events each row or count is made of; this
turns those ids back into the events (type, aggregate, version, event time, source
``event_id``), read from the event store itself, so an explanation shows what is stored,
not what the read model believes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from application.audit import HistoryDamaged
from application.service import JourneyApplication


def describe(event: Any, notification_id: int) -> dict[str, Any]:
    occurred = getattr(event, "occurred_at", None)
    source = getattr(event, "source", None)
    return {
        "notification_id": notification_id,
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "type": type(event).__qualname__,
        "occurred_at": occurred.astimezone(UTC).isoformat() if occurred else None,
        "event_id": source.event_id if source is not None else None,
    }


def explain_notifications(app: JourneyApplication, ids: Iterable[int]) -> list[dict[str, Any]]:
    """The stored events with these notification ids, in notification order. Raises
    HistoryDamaged when one cannot be decoded (its bytes were changed, or its type is
    unknown to this build): an explanation must not leave out what a figure counted."""
    found = []
    for notification_id in sorted(set(ids)):
        notifications = app.process_recorder.select_notifications(
            start=notification_id, limit=1, inclusive_of_start=True
        )
        if not notifications or notifications[0].id != notification_id:
            continue  # not stored (any more): the explanation shows only what exists
        notification = notifications[0]
        try:
            event = app.mapper.to_domain_event(notification)
        except Exception as error:  # the mapper raises several kinds for unknown topics
            raise HistoryDamaged(
                f"notification {notification_id} (version {notification.originator_version}"
                f" of {notification.originator_id}) cannot be read: {type(error).__name__}"
            ) from error
        found.append(describe(event, notification_id))
    return found


def explanation(app: JourneyApplication, subject: str, ids: Iterable[int]) -> dict[str, Any]:
    """What an explain route answers: the subject, the count and the events behind it
    (the count is of the events found in the store, so it never claims a missing one)."""
    events = explain_notifications(app, ids)
    return {"subject": subject, "count": len(events), "events": events}

"""What the chain keeps about each aggregate beside its links: its kind, external
reference, customer and opening event time, from its creation event (a what-if over a
period finds the aggregates opened in it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.registry import KINDS

REF_FIELDS = {kind.aggregate.__name__: kind.ref_field for kind in KINDS}
"""The creation event's field that holds each aggregate kind's external id, by class name
(as ``kind_of`` names a stored record's kind), from the one declaration of the kinds."""


def utc_text(at: datetime) -> str:
    """A fixed-width UTC timestamp: compares as text in the order of time."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def kind_of(topic: str) -> str:
    """``domain.case:Case.Opened`` → ``Case``."""
    return topic.rpartition(":")[2].partition(".")[0] or topic


@dataclass(frozen=True)
class Subject:
    """An aggregate the chain has seen."""

    aggregate_id: UUID
    kind: str
    ref: str | None
    customer_id: str | None
    opened_at: datetime | None


def subject_row(key: str, notification: Notification, event: Any) -> dict[str, Any]:
    """The ``audit_subjects`` values of the aggregate ``key`` whose record this is: what
    its creation event says (``event``; None where it cannot be read, or for a record
    that is not a creation), ``None`` for what it does not."""
    kind = kind_of(notification.topic)
    subject: dict[str, Any] = {
        "id": key,
        "kind": kind,
        "ref": None,
        "customer": None,
        "opened": None,
    }
    if event is None:
        return subject
    occurred_at = getattr(event, "occurred_at", None)
    ref = getattr(event, REF_FIELDS.get(kind, ""), None)
    customer = getattr(event, "customer_id", None)
    subject["ref"] = ref if isinstance(ref, str) else None
    subject["customer"] = customer if isinstance(customer, str) else None
    subject["opened"] = utc_text(occurred_at) if isinstance(occurred_at, datetime) else None
    return subject

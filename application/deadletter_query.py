"""What a listing of dead letters asks for: which letters (a filter) and where to resume (an
opaque cursor). Named here, below the HTTP edge and the consumers that read the topic, so
that both speak of the same question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class InvalidCursor(ValueError):
    """Not a cursor a previous page of dead letters gave."""


@dataclass(frozen=True)
class DeadLetterFilter:
    """Letters matching every field given (None: any)."""

    topic: str | None = None
    """The topic the refused record was on."""
    type: str | None = None
    """The envelope's ``type``, when the bytes tell it."""
    customer: str | None = None
    """The record's key, or the envelope's ``customer_id``."""
    rule: str | None = None
    """A rule id or field the reason names (``R-CUS-02``, ``data.classification``); a field
    names its parts too (``data`` matches ``data.classification``)."""
    published_by: str | None = None
    """The publishing system: the envelope's ``source``."""
    since: datetime | None = None
    """Dead-lettered at or after."""
    until: datetime | None = None
    """Dead-lettered before."""

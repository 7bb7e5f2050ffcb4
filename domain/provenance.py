"""Where a domain event came from: the source record that caused it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceRef:
    """The producer's ``event_id`` and the log coordinates of the source record."""

    event_id: str
    topic: str
    partition: int
    offset: int

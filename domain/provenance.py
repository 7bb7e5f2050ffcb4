"""Where a domain event came from: the source record that caused it."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class SourceRef:
    """The producer's ``event_id`` and the log coordinates of the source record, with the
    source attributes it carried (name, value pairs, by name; ``contracts.attributes``):
    the source's own labels, kept with every fact the record caused so that read models
    can keep, filter and group by them."""

    event_id: str
    topic: str
    partition: int
    offset: int
    attributes: tuple[tuple[str, str], ...] = ()

    def with_attributes(self, attributes: tuple[tuple[str, str], ...]) -> SourceRef:
        return self if attributes == self.attributes else replace(self, attributes=attributes)

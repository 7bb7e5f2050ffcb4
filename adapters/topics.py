"""Ingress topics, one per family of source events, keyed by ``customer_id`` so that one
customer's events stay in order on one partition; and the dead-letter topic."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.sourcelog.base import TopicSpec

FAMILIES: dict[str, str] = {
    "contact": "contacts",
    "case": "contacts",
    "order": "orders",
    "return": "returns",
    "refund": "returns",
    "merchant": "returns",
    "callback": "engagement",
    "survey": "engagement",
    "customer": "customers",
}


@dataclass(frozen=True)
class Topics:
    prefix: str
    partitions: int

    def for_type(self, event_type: str) -> str:
        family = FAMILIES.get(event_type.split(".", 1)[0], "contacts")
        return f"{self.prefix}{family}"

    @property
    def ingress(self) -> list[str]:
        return sorted({f"{self.prefix}{family}" for family in FAMILIES.values()})

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}deadletters"

    def specs(self) -> list[TopicSpec]:
        return [TopicSpec(name, self.partitions) for name in [*self.ingress, self.dead_letters]]

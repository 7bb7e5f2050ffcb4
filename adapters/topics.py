"""Ingress topics, one per family of source events, keyed by ``customer_id`` so that one
customer's events stay in order on one partition; and the dead-letter topic. They hold
source records as channels sent them, so they keep them for a bounded retention only: the
event store, sealed per customer, is the record of history."""

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


RETENTION_DAYS = 7.0
"""How long the topics keep records by default: Kafka's own default (``log.retention.hours``
168), set on the topics we create and applied by the embedded log too
(``JOURNEY_LOG_RETENTION_DAYS``)."""

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Topics:
    prefix: str
    partitions: int
    retention_days: float = RETENTION_DAYS

    @property
    def retention_ms(self) -> int:
        return round(self.retention_days * DAY_MS)

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
        return [
            TopicSpec(name, self.partitions, self.retention_ms)
            for name in [*self.ingress, self.dead_letters]
        ]

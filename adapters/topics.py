"""Ingress topics, one per family of source events, keyed by ``customer_id`` so that one
customer's events stay in order on one partition; and the dead-letter topic. A type's
family is the one its schema declares (``contracts.schemas.EVENT_TYPES``). They hold
source records as channels sent them, so they keep them for a bounded retention only: the
event store, sealed per customer, is the record of history."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.sourcelog.base import TopicSpec
from contracts.schemas import EVENT_TYPES

INGRESS_CONFIGS = (("message.timestamp.type", "LogAppendTime"),)
"""The broker stamps each ingress record with its own append time, which the producer cannot
set and a replay reads back unchanged: the future-skew check of ``occurred_at`` is judged
against it (docs/delivery.md "Event time"), so no producer can drag the watermark ahead."""


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
        """The topic of a registered type (KeyError for a type the catalog lacks: only
        validated events are published)."""
        return f"{self.prefix}{EVENT_TYPES[event_type].family}"

    @property
    def ingress(self) -> list[str]:
        return [f"{self.prefix}{family}" for family in EVENT_TYPES.families()]

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}deadletters"

    def specs(self) -> list[TopicSpec]:
        """Every topic with the configs it must hold, made so and kept so at every start
        (``LogAdmin.create_topics``, ``align_configs``)."""
        retention = (("retention.ms", str(self.retention_ms)),)
        return [
            *(
                TopicSpec(name, self.partitions, (*INGRESS_CONFIGS, *retention))
                for name in self.ingress
            ),
            TopicSpec(self.dead_letters, self.partitions, retention),
        ]

"""Erasing a customer: the request becomes an event, then the customer's key is deleted.

Order matters. The ``customer.erasure_requested`` event is acknowledged by the log first, so
the erasure is on the record before anything is destroyed; if the log is down nothing is
erased and the caller retries. Deleting the key then makes every personal value sealed
under it unreadable — in stored events, read models, rebuilds and replays — while cases,
orders and KPIs keep replaying and counting (DESIGN.md "Privacy"). Records of the customer
still in flight are sealed as ``erased`` when applied (the key store keeps a tombstone).

Last, the source log forgets the customer where it keeps records itself (the embedded log;
Kafka's records age out with the topics' retention): their records the store has applied
and their dead letters are blanked now, those still in flight once the ingest applied them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapters.privacy.keys import CustomerKeys
from adapters.publishing import record_of
from adapters.sourcelog.base import Coordinates, Log, LogPublisher, TopicPartition
from adapters.topics import Topics
from application.service import JourneyApplication
from contracts.envelope import validate
from domain.customer import Customer
from domain.errors import NotFound


@dataclass(frozen=True)
class ErasureReceipt:
    customer_id: str
    event_id: str
    position: Coordinates
    """Where the erasure request was logged: wait for it with ``consistent_with``."""
    erased_at: datetime
    had_key: bool


def erase_customer(
    *,
    app: JourneyApplication,
    log: Log,
    publisher: LogPublisher,
    topics: Topics,
    keys: CustomerKeys,
    customer_id: str,
    requested_by: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> ErasureReceipt:
    """Log the erasure request of a known customer, delete their key, then have the log
    forget their records. Raises ``NotFound`` for a customer the store does not know
    (nothing is logged)."""
    if Customer.create_id(customer_id) not in app.repository:
        raise NotFound(f"unknown customer {customer_id!r}")
    at = (now or datetime.now(UTC)).astimezone(UTC)
    data: dict[str, str] = {"reason": reason} if reason else {}
    event = validate(
        {
            "event_id": f"erasure-{uuid.uuid4().hex}",
            "type": "customer.erasure_requested",
            "occurred_at": at.isoformat(),
            "channel": "web",
            "customer_id": customer_id,
            "source": f"journey-admin:{requested_by}",
            "schema_version": 1,
            "data": data,
        },
        now=at,
        max_future=timedelta(0),
    )
    position = publisher.publish(record_of(topics, event))
    erasure = keys.erase(customer_id, at)
    forget_source_records(log, app, topics, [customer_id])
    return ErasureReceipt(customer_id, event.event_id, position, erasure.erased_at, erasure.had_key)


def forget_source_records(
    log: Log, app: JourneyApplication, topics: Topics, customer_ids: Collection[str]
) -> None:
    """Have ``log`` blank these erased customers' records (``Log.forget``): on the ingress
    topics what the event store has applied, on the dead-letter topic everything."""
    applied = {
        tp: app.next_offset(tp)
        for tp in (
            TopicPartition(topic, p) for topic in topics.ingress for p in range(topics.partitions)
        )
    }
    log.forget([c.encode() for c in customer_ids], applied, [topics.dead_letters])

"""Contacts opening cases, as source events at consecutive offsets of one partition: the
batches JourneyApplication stores (tests/unit/test_ingest_application.py and the tests of
the aggregate cache, of record failures and of existing ids); and a handler that raises
what no rule names for one contact (record failures, in memory and on every log)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.sourcelog.base import TopicPartition
from application.service import JourneyApplication
from contracts.envelope import SourceEvent, validate
from domain.case import Case
from domain.provenance import SourceRef

PARTITION = TopicPartition("journey.contacts", 3)
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

Batch = list[tuple[SourceRef, SourceEvent]]


@dataclass(frozen=True)
class Contact:
    event_id: str
    customer_id: str
    contact_id: str
    case_id: str | None = None
    channel: str = "app"
    classification: str = "complaint"


def source_event(contact: Contact, minute: int = 0) -> SourceEvent:
    data: dict[str, Any] = {
        "contact_id": contact.contact_id,
        "classification": contact.classification,
        "topic": "order",
    }
    if contact.case_id is not None:
        data["case_id"] = contact.case_id
    body = {
        "event_id": contact.event_id,
        "type": "contact.opened",
        "occurred_at": (NOW - timedelta(hours=1) + timedelta(minutes=minute)).isoformat(),
        "channel": contact.channel,
        "customer_id": contact.customer_id,
        "source": "test",
        "schema_version": 1,
        "data": data,
    }
    return validate(body, now=NOW, max_future=timedelta(minutes=5))


def batch(contacts: Sequence[Contact], first_offset: int = 0) -> Batch:
    """Source events at consecutive offsets of ``PARTITION`` from ``first_offset``."""
    return [
        (
            SourceRef(contact.event_id, PARTITION.topic, PARTITION.partition, offset),
            source_event(contact, minute=offset),
        )
        for offset, contact in enumerate(contacts, start=first_offset)
    ]


def load(app: JourneyApplication, case_ref: str) -> Case:
    case: object = app.repository.get(Case.create_id(case_ref))
    assert isinstance(case, Case)
    return case


def raising_on_open(
    monkeypatch: pytest.MonkeyPatch, contact_id: str, error: Callable[[], BaseException]
) -> None:
    """``Case.open`` raises ``error()`` for the case of ``contact_id`` only, after it has
    half run: an input its handler did not foresee."""
    real = Case.open.__func__  # type: ignore[attr-defined]

    def open_(cls: type[Case], *args: Any, **kwargs: Any) -> Case:
        case: Case = real(cls, *args, **kwargs)
        if kwargs.get("case_ref") == contact_id:
            raise error()
        return case

    monkeypatch.setattr(Case, "open", classmethod(open_))

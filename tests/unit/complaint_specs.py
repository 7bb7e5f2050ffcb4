"""Contacts opening and joining complaint cases, as specs fed through a real
``JourneyApplication`` a few source records per commit (the ledger tests of
tests/unit/test_ledger_projection.py and the notification reader's of
tests/unit/test_notification_reader.py); ``mixed_history`` adds a multi-channel journey (the
catch-up's and the read-ahead's tests)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.sourcelog.base import TopicPartition
from application.service import JourneyApplication
from contracts.envelope import SourceEvent, validate
from domain.provenance import SourceRef
from tests.builders.apps import make_app
from tests.builders.customer360 import multi_channel_journey

PARTITION = TopicPartition("journey.contacts", 0)
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# (event_id, customer_id, contact_id, case_id, channel)
ContactSpec = tuple[str, str, str, str | None, str]


def source_event(spec: ContactSpec, minute: int) -> SourceEvent:
    event_id, customer_id, contact_id, case_id, channel = spec
    data: dict[str, Any] = {
        "contact_id": contact_id,
        "classification": "complaint",
        "topic": "after_sales",
        "store_id": "store-7",
    }
    if case_id is not None:
        data["case_id"] = case_id
    occurred = NOW.astimezone(UTC) - timedelta(hours=2) + timedelta(minutes=minute)
    return validate(
        {
            "event_id": event_id,
            "type": "contact.opened",
            "occurred_at": occurred.isoformat(),
            "channel": channel,
            "customer_id": customer_id,
            "source": "test",
            "schema_version": 1,
            "data": data,
        },
        now=NOW,
        max_future=timedelta(minutes=5),
    )


def ingest(app: JourneyApplication, specs: Sequence[ContactSpec], per_batch: int = 3) -> None:
    """Store the contacts' case events, ``per_batch`` source records per commit."""
    start = app.next_offset(PARTITION)
    for first in range(0, len(specs), per_batch):
        chunk = specs[first : first + per_batch]
        events = [
            (
                SourceRef(spec[0], PARTITION.topic, PARTITION.partition, start + first + i),
                source_event(spec, minute=start + first + i),
            )
            for i, spec in enumerate(chunk)
        ]
        end = start + first + len(chunk)
        app.prepare_batch(PARTITION, events, next_offset=end).commit()


SPECS: list[ContactSpec] = [
    ("e1", "cust-1", "k1", None, "app"),
    ("e2", "cust-2", "k2", None, "web"),
    ("e3", "cust-1", "k3", "k1", "phone"),
    ("e4", "cust-2", "k4", "k1", "email"),  # refused: R-CH-01, another customer's case
    ("e5", "cust-1", "k5", "k1", "app"),
    ("e3", "cust-1", "k3", "k1", "phone"),  # re-delivered: no effect
]


@contextmanager
def mixed_history() -> Iterator[JourneyApplication]:
    """An application in a folder of its own holding one multi-channel customer journey
    and the contacts and cases of ``SPECS``: every kind of read model has rows to make."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        multi_channel_journey(app)
        ingest(app, SPECS)
        yield app
        app.close()

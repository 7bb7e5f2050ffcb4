"""Builders of the parking-lot keeper tests (tests/unit/test_lot_keeper.py and its
PostgreSQL twin in tests/integration/test_lot_keeper_postgres.py): a parked index and a
keeper over an application, source events that park, and the listing check both run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.readstore import ReadStore, SQLiteReadStore
from adapters.sourcelog.base import Coordinates, LogPublisher, OutgoingRecord, TopicPartition
from application.service import JourneyApplication
from consumers.deadletters import DeadLetterSink
from consumers.parked import LotKeeper
from contracts.envelope import SourceEvent
from domain.case import Case
from domain.order import Order
from domain.parking import ParkingLot
from domain.policy import BASELINE
from domain.provenance import SourceRef
from projections.parking import ParkedIndex
from projections.runner import NotificationReader
from tests.unit.feeding import source

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = BASELINE.prerequisite_window
CONTACTS = TopicPartition("journey.contacts", 1)
ENGAGEMENT = TopicPartition("journey.engagement", 0)


class Published(LogPublisher):
    def __init__(self) -> None:
        self.records: list[OutgoingRecord] = []

    def publish_many(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        self.records.extend(records)
        return [Coordinates(r.topic, 0, n) for n, r in enumerate(records)]

    def header(self, record: OutgoingRecord, name: str) -> str:
        return dict(record.headers)[name].decode()


class Setting:
    def __init__(
        self, app: JourneyApplication, folder: Path, store: ReadStore | None = None
    ) -> None:
        self.app = app
        self.store = store or SQLiteReadStore(folder / "read.sqlite")
        self.index = ParkedIndex(self.store)
        self.index.create_tables()
        self.published = Published()
        self.keeper = LotKeeper(app, self.index, DeadLetterSink(self.published, "dlq"))
        self.offsets: dict[TopicPartition, int] = {}

    def send(self, partition: TopicPartition, *events: SourceEvent) -> Any:
        first = self.offsets.get(partition, 0)
        self.offsets[partition] = first + len(events)
        batch = [
            (SourceRef(e.event_id, partition.topic, partition.partition, first + n), e)
            for n, e in enumerate(events)
        ]
        pending = self.app.prepare_batch(partition, batch, first + len(events))
        pending.commit()
        return pending

    def project(self) -> None:
        reader = NotificationReader(self.app.process_recorder, self.app.mapper)
        self.index.process(reader.read(self.index.position(), 10_000))


def callback(order_id: str, minute: int, event_id: str) -> SourceEvent:
    data = {"callback_id": f"cb-{event_id}", "reason": "after_delivery", "order_id": order_id}
    return source("callback.scheduled", data, T0 + timedelta(minutes=minute), event_id)


def join(contact_id: str, case_id: str, minute: int, event_id: str) -> SourceEvent:
    data = {"contact_id": contact_id, "case_id": case_id, "classification": "complaint"}
    return source("contact.opened", {**data, "topic": "order"}, T0 + minute * MIN, event_id)


def opening(contact_id: str, minute: int, event_id: str) -> SourceEvent:
    data = {"contact_id": contact_id, "classification": "complaint", "topic": "order"}
    return source("contact.opened", data, T0 + minute * MIN, event_id)


MIN = timedelta(minutes=1)


def index_lists_what_waits(setting: Setting) -> None:
    setting.send(ENGAGEMENT, callback("o-1", 0, "e-cb1"), callback("o-1", 5, "e-cb2"))
    setting.send(CONTACTS, join("k2", "k9", 3, "e-join"))
    setting.project()

    assert setting.index.count() == 3
    listed = [p.as_json() for p in setting.index.listing()]
    assert [p["event_id"] for p in listed] == ["e-cb1", "e-join", "e-cb2"]
    assert listed[0] == {
        "event_id": "e-cb1",
        "type": "callback.scheduled",
        "customer_id": "cust-1",
        "reason": "unknown order 'o-1'",
        "occurred_at": T0.isoformat(),
        "expires_at": (T0 + WINDOW).isoformat(),
        "waits_for": str(Order.create_id("o-1")),
        "source": "journey.engagement:0:0",
        "source_topic": "journey.engagement",
        "source_partition": 0,
        "source_offset": 0,
    }
    [first] = setting.index.listing(1)
    assert [p.event_id for p in setting.index.listing(1, first.position)] == ["e-join"]
    lots = setting.index.lots()
    assert lots == [
        (ParkingLot.create_id(Order.create_id("o-1")), Order.create_id("o-1")),
        (ParkingLot.create_id(Case.create_id("k9")), Case.create_id("k9")),
    ]
    assert setting.index.due(T0 + WINDOW) == lots[:1]
    assert setting.index.due(T0 + WINDOW - timedelta(seconds=1)) == []

    setting.send(CONTACTS, opening("k9", 1, "e-open"))
    setting.project()

    assert [p.event_id for p in setting.index.listing()] == ["e-cb1", "e-cb2"]

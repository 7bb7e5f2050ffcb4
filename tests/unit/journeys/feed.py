"""One application on a fresh SQLite file fed source events batch by batch: the plain
properties and regression tests of the random journeys."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from application.service import JourneyApplication
from contracts.envelope import SourceEvent, validate
from domain.errors import DomainError
from domain.provenance import SourceRef
from tests.unit.journeys.setting import (
    MAX_FUTURE,
    NOW,
    PARTITION,
    check_refusal,
    make_app,
    scratch_folder,
)


@dataclass
class Feed:
    """One application on a fresh SQLite file, fed source events batch by batch."""

    app: JourneyApplication
    offset: int = 0
    serial: int = 0

    def event(
        self, event_type: str, data: dict[str, Any], at: datetime, channel: str = "web"
    ) -> SourceEvent:
        self.serial += 1
        body = {
            "event_id": f"ev-{self.serial}",
            "type": event_type,
            "occurred_at": at.isoformat(),
            "channel": channel,
            "customer_id": "c1",
            "source": "stateful-test",
            "schema_version": 2 if event_type == "contact.opened" else 1,
            "data": data,
        }
        return validate(body, now=NOW, max_future=MAX_FUTURE)

    def deliver(
        self, *events: SourceEvent, check: bool = True
    ) -> list[tuple[SourceRef, DomainError]]:
        batch = [
            (SourceRef(e.event_id, PARTITION.topic, PARTITION.partition, self.offset + i), e)
            for i, e in enumerate(events)
        ]
        self.offset += len(batch)
        pending = self.app.prepare_batch(PARTITION, batch, next_offset=self.offset)
        for _, error in pending.refusals if check else ():
            check_refusal(error)
        pending.commit()
        return pending.refusals


def with_feed(test: Callable[[Feed], None]) -> None:
    folder = scratch_folder()
    app = make_app(folder / "events.sqlite")
    try:
        test(Feed(app))
    finally:
        app.close()
        shutil.rmtree(folder, ignore_errors=True)


T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

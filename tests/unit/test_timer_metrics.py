"""The clock timer's dead letters are counted (issue 17, item 5, dead letters by reason): a
parked event whose prerequisite never came within the window is dead-lettered by the timer
(``consumers.parked.LotKeeper``), and ``journey_dead_letters_published_total`` counts it
under ``not_arrived`` in the process that wrote it — in scaled mode ``journey timer``, which
counts nothing else — beside the ingest's own letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from adapters.metrics import render
from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime
from tests.factories import contact_opened, source_event
from tests.integration.drive import ingest_everything, project_everything
from tests.integration.metrics_text import samples

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def send(runtime: Runtime, event: dict[str, object]) -> None:
    topic = runtime.topics.for_type(str(event["type"]))
    record = OutgoingRecord(topic, str(event["customer_id"]).encode(), orjson.dumps(event))
    runtime.publisher.publish_many([record])
    ingest_everything(runtime)
    project_everything(runtime)


def published(runtime: Runtime) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["topic"], dict(labels)["reason"]): value
        for (name, labels), value in samples(render(runtime.registry).decode()).items()
        if name == "journey_dead_letters_published_total"
    }


def test_a_parked_event_the_timer_expires_is_counted_as_not_arrived(runtime: Runtime) -> None:
    early = source_event(
        "callback.scheduled",
        {"callback_id": "cb-1", "reason": "after_delivery", "order_id": "o-never"},
        occurred_at=T0.isoformat(),
    )
    send(runtime, early)
    assert runtime.status().parked == 1
    assert published(runtime) == {}

    later = (T0 + timedelta(hours=25)).isoformat()
    send(runtime, contact_opened(customer_id="c-2", contact_id="k-2", occurred_at=later))
    runtime.clock_timer().run_once()
    project_everything(runtime)

    assert runtime.status().parked == 0
    assert runtime.status().dead_letters == 1
    topic = runtime.topics.for_type("callback.scheduled")
    assert published(runtime) == {(topic, "not_arrived"): 1}

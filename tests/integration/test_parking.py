"""Out of order across topics (issue 13, item 1), on every pairing of log and store: a
callback published before the order it follows, and a contact joining a case before the
case opens, are parked (not dead-lettered) and applied, with their own source
coordinates, once the order is delivered and the case opened; a callback whose order never
comes stays parked; one scheduled before the delivery (in event time) is dead-lettered
when the delivery lets it in, from its own coordinates and bytes. What waits is visible
(``journey status``, ``/metrics``, ``GET /v1/admin/parked``); once the event-time
watermark passed its window, the clock timer dead-letters it with the reason it waited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.sourcelog.base import Coordinates, OutgoingRecord
from api.main import create_api
from domain.callback import Callback
from domain.case import Case
from domain.order import Order
from domain.parking import ParkingLot
from journey.bootstrap import Runtime
from tests.factories import unique
from tests.integration.cli import run_cli
from tests.integration.drive import ingest_everything, project_everything
from tests.integration.metrics_text import samples
from tests.integration.processes import dead_letters, source_coordinates, stored_facts


class Customer:
    """One customer's records, published on the topic of each one's family."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.id = unique("cust-")
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)

    def body(self, event_type: str, minute: int, **data: Any) -> dict[str, Any]:
        return {
            "event_id": unique(f"{self.id}-{event_type}-"),
            "type": event_type,
            "occurred_at": (self.start + timedelta(minutes=minute)).isoformat(),
            "channel": "phone" if event_type.startswith("callback.") else "app",
            "customer_id": self.id,
            "source": "parking-test",
            "schema_version": 2 if event_type == "contact.opened" else 1,
            "data": data,
        }

    def publish(self, *bodies: dict[str, Any]) -> dict[str, Coordinates]:
        """Publish each body on its family's topic; where each landed, by event id."""
        placed = self.runtime.publisher.publish_many(
            [
                OutgoingRecord(
                    self.runtime.topics.for_type(b["type"]), self.id.encode(), orjson.dumps(b)
                )
                for b in bodies
            ]
        )
        return {b["event_id"]: c for b, c in zip(bodies, placed, strict=True)}

    def order(self, order_id: str, delivered_at: int) -> list[dict[str, Any]]:
        return [
            self.body(
                "order.placed",
                delivered_at - 2,
                order_id=order_id,
                items=[{"sku": "KT-2209", "quantity": 1, "unit_price": "99.00"}],
                amount_paid="99.00",
                currency="CNY",
                promised_delivery_at=(self.start + timedelta(days=3)).isoformat(),
            ),
            self.body("order.shipped", delivered_at - 1, order_id=order_id),
            self.body("order.delivered", delivered_at, order_id=order_id),
        ]

    def callback(self, callback_id: str, order_id: str, minute: int) -> dict[str, Any]:
        return self.body(
            "callback.scheduled",
            minute,
            callback_id=callback_id,
            reason="after_delivery",
            order_id=order_id,
        )

    def contact(self, contact_id: str, minute: int, case_id: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "contact_id": contact_id,
            "classification": "complaint",
            "topic": "order",
        }
        if case_id is not None:
            data["case_id"] = case_id
        return self.body("contact.opened", minute, **data)


def at(topic: str, partition: int, offset: int) -> Coordinates:
    return Coordinates(topic, partition, offset)


def waiting(runtime: Runtime, prerequisite_id: UUID) -> list[str]:
    lot_id = ParkingLot.create_id(prerequisite_id)
    if lot_id not in runtime.app.repository:
        return []
    lot: ParkingLot = runtime.app.repository.get(lot_id)
    return list(lot.waiting)


def test_events_arriving_before_what_they_refer_to_are_parked_then_applied(
    runtime: Runtime,
) -> None:
    c = Customer(runtime)
    o1, o2, o3 = (f"{c.id}-o{n}" for n in (1, 2, 3))
    case, joining = f"{c.id}-k1", f"{c.id}-k2"
    callback = c.callback(f"{c.id}-cb1", o1, minute=10)
    join = c.contact(joining, minute=6, case_id=case)
    orphan = c.callback(f"{c.id}-cb2", o2, minute=10)  # its order never comes
    early = c.callback(f"{c.id}-cb3", o3, minute=1)  # before its order's delivery
    first = c.publish(callback, join, orphan, early)

    ingest_everything(runtime)

    assert dead_letters(runtime) == []
    assert [f for f in stored_facts(runtime.app) if f.event_id in first] == []
    assert waiting(runtime, Order.create_id(o1)) == [callback["event_id"]]
    assert waiting(runtime, Case.create_id(case)) == [join["event_id"]]
    assert waiting(runtime, Order.create_id(o2)) == [orphan["event_id"]]
    assert waiting(runtime, Order.create_id(o3)) == [early["event_id"]]

    c.publish(*c.order(o1, delivered_at=3), *c.order(o3, delivered_at=5), c.contact(case, 4))
    ingest_everything(runtime)

    facts = {(f.type, f.event_id): f for f in stored_facts(runtime.app)}
    scheduled = facts["Callback.Scheduled", callback["event_id"]]
    assert at(scheduled.topic, scheduled.partition, scheduled.offset) == first[callback["event_id"]]
    assert scheduled.originator_id == str(Callback.create_id(f"{c.id}-cb1"))
    joined = facts["Case.ContactJoined", join["event_id"]]
    assert at(joined.topic, joined.partition, joined.offset) == first[join["event_id"]]
    stored_case: Case = runtime.app.repository.get(Case.create_id(case))
    assert stored_case.contact_ids == [case, joining]
    assert waiting(runtime, Order.create_id(o1)) == []
    assert waiting(runtime, Case.create_id(case)) == []
    # The orphan waits on (its window is the clock timer's: tests/integration/...timer).
    assert waiting(runtime, Order.create_id(o2)) == [orphan["event_id"]]
    assert Callback.create_id(f"{c.id}-cb2") not in runtime.app.repository

    (letter,) = dead_letters(runtime)
    assert source_coordinates(letter) == first[early["event_id"]]
    assert letter.key == c.id.encode()
    assert letter.value == orjson.dumps(early)  # its bytes, kept sealed in its lot
    reason = (letter.header("reason") or b"").decode()
    assert reason.startswith("R-SAT-04: scheduled at"), reason
    assert "before the delivery" in reason
    assert waiting(runtime, Order.create_id(o3)) == []
    assert Callback.create_id(f"{c.id}-cb3") not in runtime.app.repository


def test_what_waits_is_shown_and_dead_lettered_once_its_window_passed(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    c = Customer(runtime)
    orphan = c.callback(f"{c.id}-cb", f"{c.id}-o-never", minute=10)
    at = c.publish(orphan)[orphan["event_id"]]
    ingest_everything(runtime)
    project_everything(runtime)

    assert run_cli(runtime, capsys, "status", "--json")["parked"] == 1
    admin = runtime.api_keys.create("admin")
    auth = {"Authorization": f"Bearer {admin.secret_text}"}
    with TestClient(create_api(runtime, workers=set())) as client:
        got = samples(client.get("/metrics").text)
        assert got[("journey_parked_events", frozenset())] == 1
        listed = client.get("/v1/admin/parked", headers=auth)
        assert listed.status_code == 200, listed.text
        analyst = runtime.api_keys.create("analyst")
        refused = client.get(
            "/v1/admin/parked", headers={"Authorization": f"Bearer {analyst.secret_text}"}
        )
        assert refused.status_code == 403
    body = listed.json()
    (item,) = body["items"]
    assert (body["total"], body["next_cursor"]) == (1, None)
    # Times answer in the report zone (api.times), the same instants.
    sent = datetime.fromisoformat(orphan["occurred_at"])
    occurred = sent.astimezone(runtime.settings.report_zone)
    assert item == {
        "event_id": orphan["event_id"],
        "type": "callback.scheduled",
        "customer_id": c.id,
        "reason": f"unknown order '{c.id}-o-never'",
        "occurred_at": occurred.isoformat(),
        "expires_at": (occurred + timedelta(hours=24)).isoformat(),
        "waits_for": str(Order.create_id(f"{c.id}-o-never")),
        "source": f"{at.topic}:{at.partition}:{at.offset}",
        "source_topic": at.topic,
        "source_partition": at.partition,
        "source_offset": at.offset,
    }  # never what the event says beyond its reason (no envelope, no data)

    # Event time moves past its window (a later fact of the customer's): the timer
    # dead-letters it, with the reason it waited for.
    c.publish(c.contact(f"{c.id}-k", minute=24 * 60 + 11))
    ingest_everything(runtime)
    project_everything(runtime)
    assert runtime.clock_timer().run_once() >= 1
    project_everything(runtime)

    (letter,) = dead_letters(runtime)
    assert source_coordinates(letter) == at
    assert (letter.key, letter.value) == (c.id.encode(), orjson.dumps(orphan))
    assert (letter.header("reason") or b"").decode() == (
        f"unknown order '{c.id}-o-never'; not arrived within 24h (parked at {sent.isoformat()})"
    )
    assert run_cli(runtime, capsys, "status", "--json")["parked"] == 0
    assert waiting(runtime, Order.create_id(f"{c.id}-o-never")) == []


def test_a_topic_read_ahead_of_another_expires_nothing_still_on_the_log(runtime: Runtime) -> None:
    """The watermark is the latest event time of any partition; a parked callback must not
    expire by it while the order it waits for is on the log, unread because the ingest read
    another topic further (DESIGN.md: per-partition watermarks combined;
    ``consumers.watermark_gate``). Once the ingest caught up, it is let in, not dead-lettered."""
    c = Customer(runtime)
    order_id = f"{c.id}-o1"
    callback = c.callback(f"{c.id}-cb", order_id, minute=10)
    # The engagement topic is read first, and its event time runs past the window...
    c.publish(callback, c.contact(f"{c.id}-k", minute=24 * 60 + 11))
    ingest_everything(runtime)
    project_everything(runtime)
    assert waiting(runtime, Order.create_id(order_id)) != []
    # ...while the order, published since, is still unread on its own topic.
    c.publish(*c.order(order_id, delivered_at=5))
    timer = runtime.clock_timer()
    timer.run_once()
    assert dead_letters(runtime) == []
    assert waiting(runtime, Order.create_id(order_id)) != []

    ingest_everything(runtime)
    project_everything(runtime)
    timer.run_once()
    assert dead_letters(runtime) == []
    assert waiting(runtime, Order.create_id(order_id)) == []
    assert Callback.create_id(f"{c.id}-cb") in runtime.app.repository

"""Issue 13, item 1: one customer's events travel on five family topics (customers, orders,
contacts, engagement, returns), each family in order on its own partition, so a valid
journey reaches the ingest in any interleaving of its families, in batches of any size.

Property: whatever the interleaving and the batches (all within the parking window), the
stored domain state (every aggregate's state, not the order of its events) and the read
models' figures equal those of causal (event-time) order, and nothing stays parked: an
event that arrives before what it refers to, or before the delivery or resolution it
follows, waits for it and is applied when it comes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import SQLiteReadStore
from adapters.sourcelog.base import TopicPartition
from application.service import JourneyApplication
from contracts.envelope import SourceEvent
from contracts.schemas import EVENT_TYPES
from domain.aggregate import JourneyAggregate
from domain.parking import ParkingLot
from domain.provenance import SourceRef
from projections.base import Notified
from projections.customer360 import Customer360
from projections.kpis import KpiCounters
from projections.ledger import ComplaintLedger
from projections.runner import NotificationReader
from tests.builders.apps import make_app
from tests.unit.feeding import source

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)
CUSTOMER = "c1"


def at(minutes: int) -> datetime:
    return T0 + minutes * M


def event(
    event_type: str, minutes: int, attributes: dict[str, str] | None = None, **data: Any
) -> SourceEvent:
    channel = "phone" if event_type.startswith("callback.") else "app"
    return source(
        event_type, data, at(minutes), f"ev-{event_type}-{minutes}", CUSTOMER, channel, attributes
    )


def journey() -> list[SourceEvent]:
    """A complaint about a delivered order, its return and refund, the survey after the
    resolution and the callback after the delivery, in event time. Source attributes on
    the order and on the case's events, one name given twice (the later value holds)."""
    later = at(3 * 24 * 60).isoformat()
    return [
        event("customer.registered", 0, consents=["service"]),
        event("order.placed", 1, {"order_status": "delivered"}, order_id="o-1",
              amount_paid="300.00", currency="CNY",
              items=[{"sku": "KT-2209", "quantity": 1, "unit_price": "300.00"}],
              promised_delivery_at=later),
        event("order.shipped", 2, order_id="o-1", carrier="SF"),
        event("order.delivered", 3, order_id="o-1"),
        event("contact.opened", 4, {"submitted_via": "Web", "state": "CA"}, contact_id="k1",
              classification="complaint", topic="order"),
        event("contact.replied", 5, contact_id="k1", responder="agent", agent_id="ag-1"),
        event("contact.opened", 6, {"submitted_via": "Phone"}, contact_id="k2", case_id="k1",
              classification="complaint", topic="order"),
        event("case.owner_assigned", 7, case_id="k1", owner="ag-1", due_at=later,
              acceptance_criteria="a replacement arrives"),
        event("case.options_offered", 8, case_id="k1", options=["replace", "refund"]),
        event("callback.scheduled", 9, callback_id="cb-1", reason="after_delivery",
              order_id="o-1"),
        event("case.resolved", 10, {"timely_response": "Yes"}, case_id="k1", option="refund"),
        event("return.requested", 11, return_id="r-1", order_id="o-1", reason="quality",
              opened=True, where="online", amount_requested="100.00"),
        event("survey.sent", 12, survey_id="sv-1", case_id="k1"),
        event("return.approved", 13, return_id="r-1"),
        event("survey.answered", 14, survey_id="sv-1", attitude=2, efficiency=3, solution=2,
              overall=2),
        event("refund.refunded", 15, return_id="r-1", amount="100.00"),
        event("case.resolution_confirmed", 20, case_id="k1", via="sms"),
        event("customer.note_added", 25, note="asked for delivery after 18:00", author="ag-1"),
        event("survey.followed_up", 26, survey_id="sv-1", supervisor_id="sup-1"),
        event("callback.completed", 30, callback_id="cb-1", outcome="reached"),
    ]  # fmt: skip


JOURNEY = journey()
FAMILIES: list[str] = sorted({EVENT_TYPES[e.type].family for e in JOURNEY})
BY_FAMILY = {f: [e for e in JOURNEY if EVENT_TYPES[e.type].family == f] for f in FAMILIES}
PARTITIONS = {f: TopicPartition(f"journey.{f}", n) for n, f in enumerate(FAMILIES)}

Plan = list[tuple[str, int]]
"""Batches in delivery order: a family (its partition) and how many of its next events."""


@st.composite
def deliveries(draw: st.DrawFn) -> Plan:
    """Any interleaving of the families (each in its own order), cut into batches: runs of
    one family's events, split anywhere."""
    labels = [f for f in FAMILIES for _ in BY_FAMILY[f]]
    order = draw(st.permutations(labels))
    plan: Plan = []
    for family in order:
        if plan and plan[-1][0] == family and draw(st.booleans()):
            plan[-1] = (family, plan[-1][1] + 1)
        else:
            plan.append((family, 1))
    return plan


def causal() -> Plan:
    """Event-time order, one event per batch."""
    return [(EVENT_TYPES[e.type].family, 1) for e in JOURNEY]


def deliver(app: JourneyApplication, plan: Plan) -> None:
    taken = dict.fromkeys(FAMILIES, 0)
    for family, count in plan:
        partition = PARTITIONS[family]
        first = taken[family]
        events = BY_FAMILY[family][first : first + count]
        taken[family] += count
        batch = [
            (SourceRef(e.event_id, partition.topic, partition.partition, first + n), e)
            for n, e in enumerate(events)
        ]
        pending = app.prepare_batch(partition, batch, first + count)
        assert pending.refused() == [], pending.refused()
        assert pending.released_refusals == [], pending.released_refusals
        pending.commit()
    assert taken == {f: len(BY_FAMILY[f]) for f in FAMILIES}


def stored_state(app: JourneyApplication) -> dict[UUID, dict[str, Any]]:
    """Every journey aggregate's state as plain values (its events' order left out:
    eventsourcing's bookkeeping is private), personal values opened; and no lot holds a
    waiting event."""
    ids = {
        UUID(str(n.originator_id))
        for n in app.process_recorder.select_notifications(start=None, limit=100_000)
    }
    states: dict[UUID, dict[str, Any]] = {}
    for aggregate_id in ids:
        aggregate: object = app.repository.get(aggregate_id)
        if isinstance(aggregate, ParkingLot):
            assert aggregate.waiting == {}, f"still parked: {list(aggregate.waiting)}"
            continue
        assert isinstance(aggregate, JourneyAggregate)
        state = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
        states[aggregate_id] = opened(app, state)
    return states


def opened(app: JourneyApplication, value: Any) -> Any:
    """``value`` with every sealed personal value opened (each application seals with its
    own keys and nonces)."""
    if isinstance(value, dict):
        return {k: opened(app, v) for k, v in app.personal.reveal(CUSTOMER, value).items()}
    if isinstance(value, list):
        return [opened(app, v) for v in value]
    return value


READ_MODELS = (ComplaintLedger, Customer360, KpiCounters)
NOTIFICATION_IDS = {"notification_id", "last_notification_id", "nids", "notifications"}
"""Where a row says which notifications it came from: the same facts get other ids when
they are stored in another order."""


def without_notification_ids(value: Any) -> Any:
    """A row's value without notification ids (JSON documents included: their item
    ``events`` name each event as ``[at, notification id, type, data]``)."""
    if isinstance(value, str) and value.startswith(("{", "[")):
        return without_notification_ids(orjson.loads(value))
    if isinstance(value, dict):
        return {
            k: [[e[0], *e[2:]] for e in v] if k == "events" else without_notification_ids(v)
            for k, v in value.items()
            if k not in NOTIFICATION_IDS
        }
    if isinstance(value, list):
        return [without_notification_ids(v) for v in value]
    return value


def read_models(app: JourneyApplication, folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The read models built from the stored log, as sorted rows without notification ids."""
    store = SQLiteReadStore(folder / f"read-{id(app)}.sqlite")
    try:
        reader = NotificationReader(app.process_recorder, app.mapper)
        log: list[Notified] = reader.read(0, 100_000)
        rows: dict[str, list[dict[str, Any]]] = {}
        for kind in READ_MODELS:
            projection = kind(store)
            projection.create_tables()
            projection.process(log)
            for table in projection.tables:
                found = [
                    without_notification_ids(row)
                    for row in store.query(f"SELECT * FROM {projection.t(table)}")
                ]
                rows[table] = sorted(found, key=repr)
        return rows
    finally:
        store.close()


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="interleavings-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def in_causal_order(
    scratch: Path,
) -> tuple[dict[UUID, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    folder = scratch / "causal"
    folder.mkdir()
    app = make_app(folder)
    try:
        deliver(app, causal())
        return stored_state(app), read_models(app, folder)
    finally:
        app.close()


def test_the_journey_is_valid_in_causal_order(
    in_causal_order: tuple[dict[UUID, dict[str, Any]], dict[str, list[dict[str, Any]]]],
) -> None:
    states, rows = in_causal_order
    assert len(states) == 8  # customer, order, 2 contacts, case, callback, survey, return
    assert all(rows.values()), [table for table, found in rows.items() if not found]
    # The later of two values of one source attribute holds (k2's opening, after k1's).
    assert {(f["facet"], f["value"]) for f in rows["ledger_facets"]} == {
        ("attribute.submitted_via", "Phone"),
        ("attribute.state", "CA"),
        ("attribute.timely_response", "Yes"),
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=deliveries())
def test_any_interleaving_ends_as_causal_order(
    scratch: Path,
    in_causal_order: tuple[dict[UUID, dict[str, Any]], dict[str, list[dict[str, Any]]]],
    plan: Plan,
) -> None:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    app = make_app(folder)
    try:
        deliver(app, plan)
        states, rows = in_causal_order
        assert stored_state(app) == states
        assert read_models(app, folder) == rows
    finally:
        app.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_families_last_first_park_and_end_as_causal_order(
    scratch: Path,
    in_causal_order: tuple[dict[UUID, dict[str, Any]], dict[str, list[dict[str, Any]]]],
) -> None:
    """The example the property covers among others: each family in one batch, in reverse
    order of the families' names (returns, orders, engagement, customers, contacts). The
    returns wait for the order, the survey's events for the case's resolution."""
    folder = scratch / "reversed"
    folder.mkdir()
    app = make_app(folder)
    parked: list[str] = []
    real = app.prepare_batch

    def watched(*args: Any, **kwargs: Any) -> Any:
        pending = real(*args, **kwargs)
        parked.extend(ref.event_id for ref, _ in pending.parked)
        return pending

    app.prepare_batch = watched  # type: ignore[method-assign]
    try:
        deliver(app, [(f, len(BY_FAMILY[f])) for f in reversed(FAMILIES)])
        states, rows = in_causal_order
        assert stored_state(app) == states
        assert read_models(app, folder) == rows
    finally:
        app.close()
    assert sorted(parked) == sorted(
        e.event_id for e in JOURNEY if e.type.split(".")[0] in ("return", "refund", "survey")
    )

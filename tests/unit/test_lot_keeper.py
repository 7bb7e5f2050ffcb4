"""What the clock timer does for the parking lots (``consumers.parked.LotKeeper``), over
the parked index (``projections.parking``): an event whose prerequisite did not arrive
within the policy's window (event time) is dead-lettered from its own coordinates, key and
bytes, with the reason it waited for; a lot whose prerequisite another member stored while
this one parked is let in; the index lists what waits, never what it says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

import consumers.parked
from adapters.sourcelog.base import TopicPartition
from application.batches import release_arrived as release_arrived_as_stored
from application.service import JourneyApplication
from consumers.deadletters import DeadLetterSink
from consumers.parked import LotKeeper, expiry_reason, span
from consumers.timer import ClockTimer
from domain.case import Case
from domain.order import Order
from domain.parking import ParkingLot
from domain.provenance import SourceRef
from projections.deadlines import DeadlineIndex
from projections.runner import NotificationReader
from tests.builders.apps import make_app
from tests.builders.parking import (
    CONTACTS,
    ENGAGEMENT,
    MIN,
    T0,
    WINDOW,
    Setting,
    callback,
    index_lists_what_waits,
    join,
    opening,
)
from tests.unit.feeding import source
from tests.unit.parking_checks import waiting_for


@pytest.fixture
def setting(app: JourneyApplication, tmp_path: Path) -> Iterator[Setting]:
    made = Setting(app, tmp_path)
    yield made
    made.store.close()


def test_the_index_lists_what_waits_and_forgets_what_was_let_in(setting: Setting) -> None:
    index_lists_what_waits(setting)


def test_an_event_whose_prerequisite_never_came_is_dead_lettered_past_its_window(
    setting: Setting,
) -> None:
    early = callback("o-1", 0, "e-cb1")
    setting.send(ENGAGEMENT, early)
    setting.project()

    assert setting.keeper.run_once(T0 + WINDOW - timedelta(seconds=1)) == 0
    assert setting.published.records == []
    assert setting.keeper.run_once(T0 + WINDOW) == 1

    (letter,) = setting.published.records
    assert letter.topic == "dlq"
    assert (letter.key, letter.value) == (b"cust-1", early.to_json())
    assert setting.published.header(letter, "reason") == (
        f"unknown order 'o-1'; not arrived within 24h (parked at {T0.isoformat()})"
    )
    assert [setting.published.header(letter, h) for h in ("source_topic", "source_offset")] == [
        ENGAGEMENT.topic,
        "0",
    ]
    assert waiting_for(setting.app, Order.create_id("o-1")) == []
    lot: ParkingLot = setting.app.repository.get(ParkingLot.create_id(Order.create_id("o-1")))
    expired = [e for e in setting.app.events.get(lot.id) if isinstance(e, ParkingLot.Expired)]
    assert [(e.event_ids, e.watermark) for e in expired] == [(["e-cb1"], T0 + WINDOW)]
    setting.project()
    assert setting.index.count() == 0
    assert setting.keeper.run_once(T0 + 2 * WINDOW) == 0


def test_a_lot_whose_prerequisite_another_member_stored_meanwhile_is_let_in(
    setting: Setting, tmp_path: Path
) -> None:
    """Member B decides the case's opening (no lot yet), member A parks a join for it and
    commits, then B commits: the join waits for a case that exists, until the timer."""
    theirs = make_app(tmp_path, setting.app.personal)
    try:
        other = TopicPartition("journey.contacts", 2)
        racing = theirs.prepare_batch(
            other, [(SourceRef("e-open", other.topic, 2, 0), opening("k9", 0, "e-open"))], 1
        )
        setting.send(CONTACTS, join("k2", "k9", 1, "e-join"))
        racing.commit()
    finally:
        theirs.close()
    setting.project()
    assert waiting_for(setting.app, Case.create_id("k9")) == ["e-join"]

    assert setting.keeper.run_once(None) == 1

    case: Case = setting.app.repository.get(Case.create_id("k9"))
    assert case.contact_ids == ["k9", "k2"]
    assert waiting_for(setting.app, Case.create_id("k9")) == []
    assert setting.published.records == []
    assert setting.keeper.released == 1


def test_what_waits_for_a_state_is_tried_again_less_and_less_often(
    app: JourneyApplication, tmp_path: Path
) -> None:
    """A callback for a placed order waits for its delivery: the order exists, so the lot is
    tried again, after 1 s, 2 s, 4 s... (nothing stored while it still waits)."""
    now = [0.0]
    made = Setting(app, tmp_path)
    keeper = LotKeeper(app, made.index, DeadLetterSink(made.published, "dlq"), clock=lambda: now[0])
    placed = {
        "order_id": "o-1",
        "items": [{"sku": "KT-2209", "quantity": 1, "unit_price": "9.00"}],
        "amount_paid": "9.00",
        "currency": "CNY",
        "promised_delivery_at": (T0 + WINDOW).isoformat(),
    }
    made.send(TopicPartition("journey.orders", 0), source("order.placed", placed, T0, "e-p"))
    made.send(ENGAGEMENT, callback("o-1", 1, "e-cb1"))
    made.project()
    tried: list[float] = []
    real = app.repository.get

    def get(aggregate_id: Any, *args: Any, **kwargs: Any) -> Any:
        if aggregate_id == ParkingLot.create_id(Order.create_id("o-1")):
            tried.append(now[0])
        return real(aggregate_id, *args, **kwargs)

    app.repository.get = get  # type: ignore[method-assign]
    stored = app.process_recorder.max_notification_id()
    for second in range(8):
        now[0] = float(second)
        assert keeper.run_once(None) == 0
    assert tried == [0.0, 1.0, 3.0, 7.0]
    assert app.process_recorder.max_notification_id() == stored
    made.store.close()


def test_expiry_lets_in_what_can_be_before_dead_lettering_the_rest(
    setting: Setting, tmp_path: Path
) -> None:
    theirs = make_app(tmp_path, setting.app.personal)
    try:
        other = TopicPartition("journey.contacts", 2)
        racing = theirs.prepare_batch(
            other, [(SourceRef("e-open", other.topic, 2, 0), opening("k9", 0, "e-open"))], 1
        )
        setting.send(CONTACTS, join("k2", "k9", 1, "e-join"))
        racing.commit()
    finally:
        theirs.close()
    setting.send(ENGAGEMENT, callback("o-1", 2, "e-cb1"))
    setting.project()
    keeper = LotKeeper(
        setting.app,
        setting.index,
        DeadLetterSink(setting.published, "dlq"),
        clock=lambda: 0.0,
    )
    keeper._next_check = {  # the join's lot was tried a moment ago: not again before expiry
        ParkingLot.create_id(Case.create_id("k9")): (10.0, 10.0)
    }

    assert keeper.run_once(T0 + WINDOW + 5 * MIN) == 2

    case: Case = setting.app.repository.get(Case.create_id("k9"))
    assert case.contact_ids == ["k9", "k2"]
    (letter,) = setting.published.records
    assert "unknown order 'o-1'" in dict(letter.headers)["reason"].decode()


def test_the_clock_timer_keeps_the_lots_at_its_watermark(setting: Setting) -> None:
    setting.send(ENGAGEMENT, callback("o-1", 0, "e-cb1"))
    setting.send(CONTACTS, opening("k1", 24 * 60 + 1, "e-late"))  # moves event time on
    deadlines = DeadlineIndex(setting.store)
    deadlines.create_tables()
    reader = NotificationReader(setting.app.process_recorder, setting.app.mapper)
    deadlines.process(reader.read(0, 10_000))
    setting.project()
    timer = ClockTimer(setting.app, deadlines, keeper=setting.keeper)

    assert timer.run_once() >= 1

    assert len(setting.published.records) == 1
    assert setting.keeper.expired == 1


def test_reasons_name_the_window_as_the_policy_does(setting: Setting) -> None:
    assert [span(timedelta(hours=24)), span(timedelta(minutes=90)), span(timedelta(seconds=5))] == [
        "24h",
        "90m",
        "5s",
    ]
    setting.send(ENGAGEMENT, callback("o-1", 0, "e-cb1"))
    lot: ParkingLot = setting.app.repository.get(ParkingLot.create_id(Order.create_id("o-1")))
    (waiting,) = lot.waiting.values()
    assert expiry_reason(waiting).endswith(f"not arrived within 24h (parked at {T0.isoformat()})")


def test_nothing_expires_while_letting_in_its_lot_raced_a_write(
    setting: Setting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The expiry's last try lets the join in, but its commit loses a race: the join is
    neither applied nor dead-lettered this round; the next round lets it in."""
    theirs = make_app(tmp_path, setting.app.personal)
    try:
        other = TopicPartition("journey.contacts", 2)
        racing = theirs.prepare_batch(
            other, [(SourceRef("e-open", other.topic, 2, 0), opening("k9", 0, "e-open"))], 1
        )
        setting.send(CONTACTS, join("k2", "k9", 1, "e-join"))
        racing.commit()
    finally:
        theirs.close()
    setting.project()
    real = release_arrived_as_stored
    lost = [True]

    def release_arrived(app: JourneyApplication, arrived: Any) -> Any:
        pending = real(app, arrived)
        if lost.pop() if lost else False:

            def commit() -> None:
                raise IntegrityError("a racing write")

            pending.commit = commit  # type: ignore[method-assign]
        return pending

    monkeypatch.setattr(consumers.parked, "release_arrived", release_arrived)
    keeper = LotKeeper(setting.app, setting.index, DeadLetterSink(setting.published, "dlq"))
    keeper._next_check = {ParkingLot.create_id(Case.create_id("k9")): (1e12, 1.0)}

    assert keeper.run_once(T0 + 2 * WINDOW) == 0
    assert setting.published.records == []
    assert waiting_for(setting.app, Case.create_id("k9")) == ["e-join"]

    assert keeper.run_once(T0 + 2 * WINDOW) == 1
    assert setting.published.records == []
    case: Case = setting.app.repository.get(Case.create_id("k9"))
    assert case.contact_ids == ["k9", "k2"]

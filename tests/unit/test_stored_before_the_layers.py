"""Events stored before the code moved into its layers (issue 12) still load, and the same
journey stored today gives the same stored events.

``tests/fixtures/events-d0a78b9.sqlite`` was written by commit d0a78b9 (the last before the
move): the simulator's journeys for 40 customers over 30 days (seed 7), applied on one
partition; ``events-d0a78b9.json`` is what it held then (records applied, events by
topic). Stored events name their classes by ``domain.*`` topics, and nothing moved into or
out of ``domain/``, so no topic alias is needed — this test is the proof.

Two differences are made on purpose since (issue 14): the simulator's chats now open with
the customer's first message (``contact.opened`` v3 ``first_message_id``, R-RESP-01),
which the contact records from the opening's own record; and a contact's opening records
the journey stage its channel stated (``funnel_stage``, R-KPI-08), ``None`` when none was.
The comparison leaves those messages and that empty stage out, and nothing else may
differ."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.privacy.tokens import is_sealed
from adapters.sourcelog.base import TopicPartition
from application.service import JourneyApplication
from contracts.envelope import InvalidEvent, decode
from domain.provenance import SourceRef
from tools.simulator import SimConfig, simulate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STORED = FIXTURES / "events-d0a78b9.sqlite"
MANIFEST = json.loads((FIXTURES / "events-d0a78b9.json").read_text(encoding="utf-8"))
PARTITION = TopicPartition("journey.all", 0)
CONFIG = SimConfig(customers=40, days=30, seed=7)


def open_store(path: Path) -> JourneyApplication:
    return JourneyApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )


@pytest.fixture
def before(tmp_path: Path) -> Iterator[JourneyApplication]:
    copy = tmp_path / "before.sqlite"
    shutil.copyfile(STORED, copy)
    app = open_store(copy)
    yield app
    app.close()


def unsealed(value: Any) -> Any:
    """``value`` with every sealed personal value (random nonce) replaced by a marker."""
    if is_sealed(value):
        return "<sealed>"
    if isinstance(value, dict):
        return {k: unsealed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unsealed(v) for v in value]
    return value


def comparable(app: JourneyApplication) -> list[tuple[str, str, int, dict[str, Any]]]:
    """Every stored event as topic, aggregate, version and state; the recorded time and
    sealed personal values (random nonces) left out."""
    out = []
    for notification in app.recorder.select_notifications(1, 100_000):
        event = app.mapper.to_domain_event(notification)
        state = {k: unsealed(v) for k, v in vars(event).items() if k != "timestamp"}
        out.append((notification.topic, str(event.originator_id), event.originator_version, state))
    return out


def test_every_event_stored_before_the_move_decodes_and_every_aggregate_loads(
    before: JourneyApplication,
) -> None:
    stored = comparable(before)
    assert dict(Counter(topic for topic, *_ in stored)) == MANIFEST["topics"]
    for aggregate_id in {state["originator_id"] for *_, state in stored}:
        assert before.repository.get(aggregate_id).id == aggregate_id
    assert before.next_offset(PARTITION) == MANIFEST["records"]


def as_before_issue_14(
    stored: list[tuple[str, str, int, dict[str, Any]]],
) -> list[tuple[str, str, int, dict[str, Any]]]:
    """``stored`` without the first messages recorded from an opening's own record (a chat
    that opens with the customer's message, R-RESP-01), the later versions of their
    contact one lower: what the same journeys stored before issue 14. Their clocks are
    not touched: R-RESP-01 of such a chat starts at the opening, as it did."""
    openings = {
        state["originator_id"]: state["source"]
        for topic, _, _, state in stored
        if topic == "domain.contact:Contact.Opened"
    }
    shifted: Counter[str] = Counter()
    out = []
    for topic, aggregate, version, state in stored:
        if topic == "domain.contact:Contact.MessageReceived" and state["source"] == openings.get(
            state["originator_id"]
        ):
            shifted[aggregate] += 1
            continue
        if shifted[aggregate]:
            version -= shifted[aggregate]
            state = {**state, "originator_version": version}
        if topic == "domain.contact:Contact.Opened" and state.get("funnel_stage", 0) is None:
            state = {k: v for k, v in state.items() if k != "funnel_stage"}
        out.append((topic, aggregate, version, state))
    assert shifted, "the simulator's chats open with the customer's first message"
    return out


def test_the_same_journeys_stored_today_are_the_events_stored_before(
    before: JourneyApplication, tmp_path: Path
) -> None:
    today = open_store(tmp_path / "today.sqlite")
    try:
        batch = []
        for offset, record in enumerate(simulate(CONFIG)):
            try:
                event = decode(
                    record.value,
                    now=datetime(2100, 1, 1, tzinfo=UTC),
                    max_future=timedelta(0),
                    max_bytes=1 << 20,
                )
            except InvalidEvent:
                continue
            batch.append((SourceRef(event.event_id, PARTITION.topic, 0, offset), event))
        pending = today.prepare_batch(PARTITION, batch, MANIFEST["records"])
        pending.commit()
        assert len(batch) - len(pending.refused()) == MANIFEST["applied"]
        assert as_before_issue_14(comparable(today)) == comparable(before)
    finally:
        today.close()

"""The state machine's base: application A, the model, sending source events in batches
and checking each is accepted or refused as the model expects, the live aggregates, the
SLA timer."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any, TypeVar
from uuid import UUID

from hypothesis.stateful import RuleBasedStateMachine

from application.handlers.base import MissingPrerequisite
from contracts.envelope import validate
from domain.aggregate import JourneyAggregate
from domain.case import Case
from domain.errors import NotFound
from domain.order import Order
from domain.provenance import SourceRef
from domain.returns import ReturnRequest
from tests.unit.journeys.model import (
    CallbackM,
    CaseM,
    ContactM,
    CustomerM,
    OrderM,
    ReturnM,
    Sent,
    SurveyM,
)
from tests.unit.journeys.setting import (
    FIRST_EVENT_AT,
    MAX_FUTURE,
    NOT_FOUND,
    NOW,
    PARKED,
    PARTITION,
    POLICY,
    ZONES,
    check_refusal,
    make_app,
    scratch_folder,
)

F = TypeVar("F", bound=Callable[..., None])


def step(function: F) -> F:
    """Marks the machine unhealthy while a rule or invariant runs, so that ``teardown``
    runs the end-of-journey checks only after a run in which every step passed."""

    @functools.wraps(function)
    def run(self: JourneyMachineBase, **kwargs: Any) -> None:
        self.healthy = False
        function(self, **kwargs)
        self.healthy = True

    return run  # type: ignore[return-value]


class JourneyMachineBase(RuleBasedStateMachine):
    """Random valid journeys of a few customers, fed to application A in random batches: the
    state, sending events and committing them as the model expects, the timer. The rules of
    each family (contacts.py, cases.py, orders.py, customers.py) extend it; the properties
    are in tests/unit/test_journeys_stateful.py."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = scratch_folder()
        self.a_path = self.folder / "a.sqlite"
        self.a = make_app(self.a_path)
        self.healthy = True
        self.batch_size = 0
        self.timer_backs: list[timedelta] = []
        self.batches = 0
        self.serial = 0
        self.offset = 0
        self.now = dict(FIRST_EVENT_AT)
        self.buffer: list[Sent] = []
        self.history: list[Sent] = []
        self.accepted: list[Sent] = []
        self.refused_ids: set[str] = set()
        self.waiting: dict[UUID, list[Sent]] = {}
        """Parked events by what they wait for (model)."""
        self.waiting_ids: set[str] = set()
        """Events parked and not let in yet (stored)."""
        self.latest_seen: dict[str, datetime] = {}
        self.live: dict[UUID, JourneyAggregate] = {}
        self.versions: dict[UUID, int] = {}
        self.owner: dict[UUID, str] = {}
        self.contacts: dict[str, ContactM] = {}
        self.cases: dict[str, CaseM] = {}
        self.orders: dict[str, OrderM] = {}
        self.returns: dict[str, ReturnM] = {}
        self.surveys: dict[str, SurveyM] = {}
        self.callbacks: dict[str, CallbackM] = {}
        self.customers: dict[str, CustomerM] = {}

    # -- sending ----------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def tick(self, customer: str, gap: timedelta) -> datetime:
        self.now[customer] += gap
        return self.now[customer]

    def tick_to_local_time(self, customer: str, second_of_day: int) -> datetime:
        """The next moment strictly after the customer's last event at that local time."""
        zone = timezone(POLICY.phone_hours.utc_offset)
        last = self.now[customer].astimezone(zone)
        wanted = time(second_of_day // 3600, second_of_day % 3600 // 60, second_of_day % 60)
        at = datetime.combine(last.date(), wanted, tzinfo=zone)
        while at <= last:
            at += timedelta(days=1)
        self.now[customer] = at.astimezone(UTC)
        return self.now[customer]

    def send(
        self,
        customer: str,
        at: datetime,
        event_type: str,
        data: dict[str, Any],
        *,
        channel: str = "web",
        expect: str | None = None,
        touches: Iterable[UUID] = (),
        redelivery_bug: str | None = None,
        waits_for: UUID | None = None,
        on_release: str | None = None,
        lets_in: Iterable[str] = (),
    ) -> None:
        event_id = self.new_id("ev-")
        body = {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": at.astimezone(ZONES[self.serial % len(ZONES)]).isoformat(),
            "channel": channel,
            "customer_id": customer,
            "source": "stateful-test",
            "schema_version": 2 if event_type == "contact.opened" else 1,
            "data": data,
        }
        event = validate(body, now=NOW, max_future=MAX_FUTURE)
        sent = Sent(
            event_id,
            customer,
            event_type,
            event,
            expect,
            tuple(touches),
            redelivery_bug,
            waits_for=waits_for,
            on_release=on_release,
            lets_in=frozenset(lets_in),
        )
        if expect == PARKED:
            assert waits_for is not None
            self.waiting.setdefault(waits_for, []).append(sent)
        elif expect is None:
            # What waited for what this event creates or progresses is let in right after.
            for aid in sent.touches:
                waiting = self.waiting.get(aid, [])
                sent.releases += [w for w in waiting if event_type in w.lets_in]
                self.waiting[aid] = [w for w in waiting if event_type not in w.lets_in]
        self.buffer.append(sent)
        if self.batch_size and len(self.buffer) >= self.batch_size:
            self.flush()
            if self.timer_backs:
                back = self.timer_backs[self.batches % len(self.timer_backs)]
                self.advance_clocks(sorted(self.live), back)

    def created(self, aid: UUID, customer: str) -> None:
        self.owner[aid] = customer

    def flush(self) -> None:
        """Commit the buffered events as one batch of A; each is accepted or refused as
        the model expects (no exception other than a refusal escapes ``prepare_batch``)."""
        if not self.buffer:
            return
        batch = [
            (SourceRef(s.event_id, PARTITION.topic, PARTITION.partition, self.offset + i), s.event)
            for i, s in enumerate(self.buffer)
        ]
        self.offset += len(batch)
        pending = self.a.prepare_batch(PARTITION, batch, next_offset=self.offset)
        refusals = {ref.event_id: error for ref, error in pending.refusals}
        for refusal in refusals.values():
            check_refusal(refusal)
        parked = {ref.event_id: error for ref, error in pending.parked}
        for sent in self.buffer:
            error = refusals.get(sent.event_id)
            what = f"{sent.type} {sent.event_id} of {sent.customer} at {sent.occurred_at}"
            if sent.expect == PARKED:
                waits = parked.get(sent.event_id)
                assert error is None, f"{what} refused: {type(error).__name__}: {error}"
                assert isinstance(waits, MissingPrerequisite), f"{what} not parked"
                assert waits.aggregate_id == sent.waits_for, f"{what} waits for {waits}"
                continue
            assert sent.event_id not in parked, f"{what} parked: {parked[sent.event_id]}"
            if sent.expect is None:
                assert error is None, f"{what} refused: {type(error).__name__}: {error}"
            elif sent.expect == NOT_FOUND:
                assert isinstance(error, NotFound), f"{what} not refused as NotFound: {error!r}"
            else:
                assert error is not None, f"{what} not refused (expected {sent.expect})"
                assert error.rule == sent.expect, (
                    f"{what} not refused with {sent.expect}: {error!r}"
                )
        # What waited and was let in by this batch: applied or refused as the model says.
        released = [r for s in self.buffer if s.expect is None for r in s.releases]
        assert {w.event_id for w in pending.released} == {
            r.event_id for r in released if r.on_release is None
        }, "released and applied"
        assert {r.waiting.event_id for r in pending.released_refusals} == {
            r.event_id for r in released if r.on_release is not None
        }, "released and refused"
        pending.commit()
        touched: set[UUID] = set()
        for sent in self.buffer:
            self.history.append(sent)
            latest = self.latest_seen.get(sent.customer, sent.occurred_at)
            self.latest_seen[sent.customer] = max(latest, sent.occurred_at)
            if sent.expect is None:
                self.accepted.append(sent)
                touched.update(sent.touches)
            elif sent.expect == PARKED:
                self.waiting_ids.add(sent.event_id)
            else:
                self.refused_ids.add(sent.event_id)
        for sent in released:
            self.waiting_ids.discard(sent.event_id)
            if sent.on_release is None:
                self.accepted.append(sent)
                touched.update(sent.touches)
            else:
                self.refused_ids.add(sent.event_id)
        self.buffer.clear()
        self.batches += 1
        for aid in touched:
            aggregate = pending.unit.get(JourneyAggregate, aid)
            assert aggregate is not None, f"{aid} ({self.owner.get(aid)}) was not created"
            self.live[aid] = aggregate
        self.model_agrees(touched)

    def model_agrees(self, touched: set[UUID]) -> None:
        """The live aggregates are where the model says (refunds, statuses, options)."""
        for order in self.orders.values():
            if order.aid in touched:
                live = self.live[order.aid]
                assert isinstance(live, Order)
                assert (live.status, live.refunded_total) == (order.status, order.refunded)
        for request in self.returns.values():
            if request.aid in touched:
                live = self.live[request.aid]
                assert isinstance(live, ReturnRequest)
                assert (live.status, live.refunded_total) == (request.status, request.refunded)
        for case in self.cases.values():
            if case.aid in touched:
                live = self.live[case.aid]
                assert isinstance(live, Case)
                assert (live.status, live.options_offered, live.priority) == (
                    case.status,
                    case.offered,
                    case.priority,
                )

    # -- picking what the next event is about -----------------------------------------------

    def open_contacts(self) -> list[ContactM]:
        return [c for c in self.contacts.values() if c.open]

    def open_cases(self) -> list[CaseM]:
        return [c for c in self.cases.values() if c.status == "open"]

    # -- the timer --------------------------------------------------------------------------

    def advance_clocks(self, targets: Sequence[UUID], back: timedelta) -> None:
        """The timer on ``targets``, the watermark ``back`` behind the latest event time
        seen by anyone, as projections/deadlines.py keeps it: customers' times diverge, so
        a customer's next events often arrive behind the watermark."""
        if not self.latest_seen:
            return
        watermark = max(self.latest_seen.values()) - back
        for aid in targets:
            decided = self.a.advance_clock(aid, watermark)
            live = self.live[aid]
            live.advance_clock(watermark)
            assert len(live.collect_events()) == decided, f"{aid}: live and stored disagree"

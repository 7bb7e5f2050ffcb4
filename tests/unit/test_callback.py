"""Callbacks (R-SAT-04): 7 days after a delivered order, on birthdays, holidays and product
launches; each ends once, with an outcome or as missed, and runs a clock to its due time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import partial, reduce
from typing import Any

import pytest

from application.handlers.base import MissingPrerequisite
from application.service import JourneyApplication
from contracts.envelope import InvalidEvent, SourceEvent
from contracts.schemas import engagement, orders
from domain.aggregate import LateFact, outcomes_under
from domain.callback import Callback, CallbackEnded, CallbackExists, CallbackRuleViolated
from domain.errors import NotFound
from domain.order import Order
from domain.policy import BASELINE, policy_in_force
from domain.provenance import SourceRef
from tests.unit import feeding
from tests.unit.feeding import Feed
from tests.unit.parking_checks import journey_events, waiting_for

TZ = timezone(timedelta(hours=8))
PLACED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
DELIVERED_AT = datetime(2026, 3, 4, 15, 0, tzinfo=TZ)
SCHEDULED_AT = DELIVERED_AT + timedelta(hours=1)
BIRTHDAY = datetime(2026, 4, 1, 10, 0, tzinfo=TZ)
SECOND = timedelta(seconds=1)
POLICY = policy_in_force(SCHEDULED_AT)
AFTER_DELIVERY = BASELINE.callback_after_delivery


def ref(event_id: str, offset: int = 0) -> SourceRef:
    return SourceRef(event_id=event_id, topic="journey.engagement", partition=0, offset=offset)


def after_delivery(callback_id: str = "cb-1") -> Callback:
    return Callback.schedule(
        callback_id=callback_id,
        customer_id="cust-1",
        reason="after_delivery",
        order_id="o-1",
        delivered_at=DELIVERED_AT,
        occurred_at=SCHEDULED_AT,
        source=ref("cb-scheduled"),
    )


def birthday(callback_id: str = "cb-2") -> Callback:
    return Callback.schedule(
        callback_id=callback_id,
        customer_id="cust-1",
        reason="birthday",
        due_at=BIRTHDAY,
        occurred_at=SCHEDULED_AT,
        source=ref("cb-scheduled"),
    )


def starts(callback: Callback) -> list[Any]:
    return [e for e in callback.pending_events if isinstance(e, Callback.DeadlineStarted)]


def replay(events: Sequence[Any]) -> Any:
    return reduce(lambda aggregate, event: event.mutate(aggregate), events, None)


# -- scheduling ------------------------------------------------------------------------------


def test_r_sat_04_after_delivery_callback_is_due_seven_days_after_delivery() -> None:
    """R-SAT-04: the clock runs from the delivery, not from the scheduling."""
    callback = after_delivery()

    assert callback.id == Callback.create_id("cb-1")
    assert POLICY.callback_after_delivery == timedelta(days=7)
    assert callback.due_at == DELIVERED_AT + POLICY.callback_after_delivery
    (start,) = starts(callback)
    assert (start.rule, start.started_at, start.due_at) == (
        "R-SAT-04",
        DELIVERED_AT,
        DELIVERED_AT + POLICY.callback_after_delivery,
    )
    assert start.policy_version == POLICY.version
    assert callback.state()["status"] == "scheduled"


def test_r_sat_04_birthday_callback_clock_runs_from_scheduling_to_the_due_time() -> None:
    callback = birthday()

    (start,) = starts(callback)
    assert (start.started_at, start.due_at) == (SCHEDULED_AT, BIRTHDAY)
    assert callback.delivered_at is None


@pytest.mark.parametrize("reason", ["holiday", "launch"])
def test_r_sat_04_holiday_and_launch_callbacks_keep_their_due_time(reason: str) -> None:
    callback = Callback.schedule(
        callback_id="cb-3",
        customer_id="cust-1",
        reason=reason,
        due_at=BIRTHDAY,
        preference="tea" if reason == "launch" else None,
        occurred_at=SCHEDULED_AT,
        source=ref("cb-scheduled"),
    )
    assert callback.due_at == BIRTHDAY
    assert callback.reason == reason
    assert callback.preference == ("tea" if reason == "launch" else None)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        pytest.param({"delivered_at": None}, "not delivered", id="undelivered-order"),
        pytest.param({"order_id": None}, "names its order", id="no-order"),
        pytest.param({"due_at": BIRTHDAY}, "computed", id="due-given"),
        pytest.param({"reason": "anniversary"}, "unknown callback reason", id="unknown-reason"),
    ],
)
def test_r_sat_04_after_delivery_scheduling_is_refused_when_it_cannot_apply(
    changes: dict[str, Any], words: str
) -> None:
    fields: dict[str, Any] = {
        "callback_id": "cb-1",
        "customer_id": "cust-1",
        "reason": "after_delivery",
        "order_id": "o-1",
        "delivered_at": DELIVERED_AT,
        "occurred_at": SCHEDULED_AT,
        "source": ref("cb-scheduled"),
        **changes,
    }
    with pytest.raises(CallbackRuleViolated) as caught:
        Callback.schedule(**fields)
    assert caught.value.rule == "R-SAT-04"
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "due_at",
    [None, SCHEDULED_AT, SCHEDULED_AT - SECOND],
    ids=["missing", "at-scheduling", "before-scheduling"],
)
def test_r_sat_04_birthday_callback_needs_a_later_due_time(due_at: datetime | None) -> None:
    with pytest.raises(CallbackRuleViolated) as caught:
        Callback.schedule(
            callback_id="cb-2",
            customer_id="cust-1",
            reason="birthday",
            due_at=due_at,
            occurred_at=SCHEDULED_AT,
            source=ref("cb-scheduled"),
        )
    assert caught.value.rule == "R-SAT-04"


# -- completion, outcome, miss ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "met"),
    [
        pytest.param(AFTER_DELIVERY, True, id="exactly-7-days-met"),
        pytest.param(AFTER_DELIVERY + SECOND, False, id="7-days+1s-breached"),
    ],
)
def test_r_sat_04_after_delivery_callback_completed_at_the_boundary(
    after: timedelta, met: bool
) -> None:
    callback = after_delivery()

    callback.complete(
        outcome="reached", occurred_at=DELIVERED_AT + after, source=ref("cb-completed")
    )

    outcome = callback.outcomes()["R-SAT-04"]
    assert (outcome.rule, outcome.met, outcome.actual) == ("R-SAT-04", met, after)
    assert (callback.status, callback.outcome) == ("completed", "reached")


@pytest.mark.parametrize(
    ("at", "met"),
    [
        pytest.param(BIRTHDAY, True, id="at-due-met"),
        pytest.param(BIRTHDAY + SECOND, False, id="due+1s-breached"),
    ],
)
def test_r_sat_04_birthday_callback_completed_at_the_boundary(at: datetime, met: bool) -> None:
    callback = birthday()
    callback.complete(outcome="no_answer", occurred_at=at, source=ref("cb-completed"))

    outcome = callback.outcomes()["R-SAT-04"]
    assert (outcome.met, outcome.actual) == (met, at - SCHEDULED_AT)


@pytest.mark.parametrize("outcome", ["", "maybe", "REACHED"])
def test_r_sat_04_every_callback_has_a_known_outcome(outcome: str) -> None:
    callback = after_delivery()
    callback.collect_events()

    with pytest.raises(CallbackRuleViolated) as caught:
        callback.complete(outcome=outcome, occurred_at=SCHEDULED_AT, source=ref("cb-completed"))

    assert caught.value.rule == "R-SAT-04"
    assert "outcome" in str(caught.value)
    assert callback.pending_events == []
    assert callback.status == "scheduled"


@pytest.mark.parametrize("outcome", ["reached", "no_answer", "declined", "issue_raised"])
def test_r_sat_04_each_outcome_is_recorded(outcome: str) -> None:
    callback = after_delivery()
    callback.complete(outcome=outcome, occurred_at=SCHEDULED_AT, source=ref("cb-completed"))
    assert callback.state()["outcome"] == outcome


@pytest.mark.parametrize(
    ("first", "second"),
    [("complete", "complete"), ("complete", "miss"), ("miss", "complete"), ("miss", "miss")],
)
def test_r_sat_04_a_callback_completes_or_is_missed_once(first: str, second: str) -> None:
    callback = after_delivery()

    def end(how: str, event_id: str) -> None:
        at = SCHEDULED_AT + timedelta(days=1)
        if how == "complete":
            callback.complete(outcome="reached", occurred_at=at, source=ref(event_id))
        else:
            callback.miss(reason="no slot", occurred_at=at, source=ref(event_id))

    end(first, "cb-end-1")
    state = callback.state()
    recorded = len(callback.pending_events)

    with pytest.raises(CallbackEnded) as caught:
        end(second, "cb-end-2")

    assert caught.value.rule == "R-SAT-04"
    assert "cb-1" in str(caught.value)
    assert len(callback.pending_events) == recorded
    assert callback.state() == state


def test_repeated_completion_event_id_has_no_effect() -> None:
    callback = after_delivery()
    callback.complete(outcome="reached", occurred_at=SCHEDULED_AT, source=ref("cb-completed"))
    recorded = len(callback.pending_events)
    state = callback.state()

    callback.complete(outcome="reached", occurred_at=SCHEDULED_AT, source=ref("cb-completed"))
    callback.miss(reason=None, occurred_at=SCHEDULED_AT, source=ref("cb-completed"))

    assert len(callback.pending_events) == recorded
    assert callback.state() == state


def test_completion_before_the_scheduling_is_refused() -> None:
    callback = after_delivery()
    with pytest.raises(LateFact):
        callback.complete(
            outcome="reached", occurred_at=SCHEDULED_AT - SECOND, source=ref("cb-completed")
        )
    assert callback.status == "scheduled"


@pytest.mark.parametrize(
    ("at", "breached"),
    [
        pytest.param(BIRTHDAY - timedelta(days=1), False, id="before-due-cancelled"),
        pytest.param(BIRTHDAY, False, id="at-due-cancelled"),
        pytest.param(BIRTHDAY + SECOND, True, id="due+1s-breached"),
    ],
)
def test_r_sat_04_a_miss_cancels_the_clock_before_the_due_time_and_breaches_after(
    at: datetime, breached: bool
) -> None:
    callback = birthday()
    callback.collect_events()

    callback.miss(reason="customer travelling", occurred_at=at, source=ref("cb-missed"))

    missed, decision = callback.collect_events()
    assert isinstance(missed, Callback.Missed)
    assert missed.reason == "customer travelling"
    assert callback.status == "missed"
    if breached:
        assert isinstance(decision, Callback.DeadlineBreached)
        outcome = callback.outcomes()["R-SAT-04"]
        assert (outcome.met, outcome.actual) == (False, None)
    else:
        assert isinstance(decision, Callback.DeadlineCancelled)
        assert decision.reason == "customer travelling"
        assert callback.outcomes() == {}


def test_r_sat_04_watermark_breaches_an_unmade_callback_and_a_late_fact_settles_it() -> None:
    """No completion by due + allowed lateness: breached by the watermark; the completion
    recorded afterwards with an in-time occurred_at settles it as met."""
    callback = after_delivery()
    due = DELIVERED_AT + POLICY.callback_after_delivery

    callback.advance_clock(due + POLICY.allowed_lateness)
    assert callback.outcomes() == {}

    callback.advance_clock(due + POLICY.allowed_lateness + SECOND)
    breached = callback.outcomes()["R-SAT-04"]
    assert (breached.met, breached.actual) == (False, None)
    (event,) = [e for e in callback.pending_events if isinstance(e, Callback.DeadlineBreached)]
    assert (event.detected_by, event.due_at) == ("watermark", due)

    callback.complete(outcome="reached", occurred_at=due, source=ref("cb-late-record"))

    settled = callback.outcomes()["R-SAT-04"]
    assert (settled.met, settled.actual) == (True, POLICY.callback_after_delivery)
    assert isinstance(callback.pending_events[-1], Callback.DeadlineSettled)


def test_r_sat_04_watermark_breach_stays_breached_when_the_late_fact_is_late() -> None:
    callback = after_delivery()
    due = DELIVERED_AT + POLICY.callback_after_delivery
    callback.advance_clock(due + POLICY.allowed_lateness + SECOND)

    callback.complete(outcome="reached", occurred_at=due + SECOND, source=ref("cb-late"))

    settled = callback.outcomes()["R-SAT-04"]
    assert (settled.met, settled.actual) == (False, POLICY.callback_after_delivery + SECOND)


def test_r_sat_04_the_seven_days_come_from_the_policy() -> None:
    """What-if: under a 3-day policy the same 5-day callback would have been late."""
    callback = after_delivery()
    callback.complete(
        outcome="reached", occurred_at=DELIVERED_AT + timedelta(days=5), source=ref("cb-done")
    )
    events = callback.collect_events()
    assert callback.outcomes()["R-SAT-04"].met is True

    shorter = replace(BASELINE, version="what-if", callback_after_delivery=timedelta(days=3))
    assert outcomes_under(events, shorter)["R-SAT-04"].met is False


def test_replay_of_a_callback_equals_the_original() -> None:
    callback = birthday()
    callback.complete(outcome="declined", occurred_at=BIRTHDAY, source=ref("cb-done"))
    replayed = replay(callback.collect_events())

    assert isinstance(replayed, Callback)
    assert replayed.state() == callback.state()
    assert replayed.has_applied("cb-done")


source = partial(feeding.source, channel="phone")


# -- through the application ------------------------------------------------------------------


def order_events(order_id: str = "o-1", delivered: bool = True) -> list[SourceEvent]:
    placed = {
        **orders.OrderPlaced.example,
        "order_id": order_id,
        "promised_delivery_at": (DELIVERED_AT + timedelta(days=1)).isoformat(),
    }
    events = [
        source("order.placed", placed, PLACED_AT, f"{order_id}-placed", channel="app"),
        source(
            "order.shipped",
            {"order_id": order_id},
            PLACED_AT + timedelta(days=1),
            f"{order_id}-shipped",
        ),
    ]
    if delivered:
        events.append(
            source("order.delivered", {"order_id": order_id}, DELIVERED_AT, f"{order_id}-done")
        )
    return events


def scheduled(
    callback_id: str = "cb-1",
    order_id: str = "o-1",
    event_id: str = "cb-scheduled",
    customer_id: str = "cust-1",
) -> SourceEvent:
    return source(
        "callback.scheduled",
        {"callback_id": callback_id, "reason": "after_delivery", "order_id": order_id},
        SCHEDULED_AT,
        event_id,
        customer_id,
    )


def load(app: JourneyApplication, callback_id: str = "cb-1") -> Callback:
    callback: object = app.repository.get(Callback.create_id(callback_id))
    assert isinstance(callback, Callback)
    return callback


@pytest.mark.parametrize(
    ("after", "met"),
    [
        pytest.param(AFTER_DELIVERY, True, id="exactly-7-days-met"),
        pytest.param(AFTER_DELIVERY + SECOND, False, id="7-days+1s-breached"),
    ],
)
def test_r_sat_04_after_delivery_callback_through_the_handlers(
    app: JourneyApplication, after: timedelta, met: bool
) -> None:
    """R-SAT-04: the due time is the order's delivery + 7 days, whatever the record says."""
    feed = Feed(app)
    assert feed(*order_events()) == []

    assert feed(scheduled()) == []
    callback = load(app)
    assert callback.due_at == DELIVERED_AT + POLICY.callback_after_delivery
    assert callback.delivered_at == DELIVERED_AT
    assert (callback.customer_id, callback.order_id) == ("cust-1", "o-1")

    completed = source(
        "callback.completed",
        {"callback_id": "cb-1", "outcome": "issue_raised"},
        DELIVERED_AT + after,
        "cb-completed",
    )
    assert feed(completed) == []

    callback = load(app)
    outcome = callback.outcomes()["R-SAT-04"]
    assert (outcome.met, outcome.actual) == (met, after)
    assert callback.outcome == "issue_raised"
    history: list[Any] = list(app.events.get(Callback.create_id("cb-1")))
    assert [e.source.event_id for e in history if hasattr(e, "source")] == [
        "cb-scheduled",
        "cb-completed",
    ]


def test_birthday_callback_through_the_handlers_misses_before_due(app: JourneyApplication) -> None:
    feed = Feed(app)
    birthday_event = source(
        "callback.scheduled",
        {"callback_id": "cb-2", "reason": "birthday", "due_at": BIRTHDAY.isoformat()},
        SCHEDULED_AT,
        "cb2-scheduled",
    )
    missed = source(
        "callback.missed", {"callback_id": "cb-2"}, BIRTHDAY - timedelta(hours=1), "cb2-missed"
    )

    assert feed(birthday_event, missed) == []

    callback = load(app, "cb-2")
    assert callback.status == "missed"
    assert callback.due_at == BIRTHDAY
    assert callback.outcomes() == {}


def test_unknown_order_is_parked_not_refused(app: JourneyApplication) -> None:
    """A callback naming an order not known yet waits for it (``domain.parking``), then,
    the order placed, for its delivery; delivered, it is scheduled as if it had come
    after."""
    item = scheduled(order_id="o-nowhere")
    feed = Feed(app)
    pending = feed.batch(item)

    ((parked, error),) = pending.parked
    assert pending.refusals == []
    assert parked.event_id == "cb-scheduled"
    assert isinstance(error, MissingPrerequisite)
    assert error.aggregate_id == Order.create_id("o-nowhere")
    assert "unknown order 'o-nowhere'" in str(error)
    assert Callback.create_id("cb-1") not in app.repository
    assert journey_events(app) == 0
    assert waiting_for(app, Order.create_id("o-nowhere")) == ["cb-scheduled"]

    pending = feed.batch(*order_events("o-nowhere"))

    assert [w.event_id for w in pending.released] == ["cb-scheduled"]
    callback = load(app)
    assert callback.delivered_at == DELIVERED_AT
    assert callback.due_at == DELIVERED_AT + AFTER_DELIVERY
    assert waiting_for(app, Order.create_id("o-nowhere")) == []


def test_r_sat_04_undelivered_order_waits_for_the_delivery(app: JourneyApplication) -> None:
    """R-SAT-04: an after-delivery callback follows a delivered order; one for an order
    not delivered yet waits for the delivery (orders and callbacks come on different
    topics), nothing applied, and is scheduled from it when it comes."""
    feed = Feed(app)
    feed(*order_events(delivered=False))

    pending = feed.batch(scheduled())

    ((parked, error),) = pending.parked
    assert pending.refusals == []
    assert parked.event_id == "cb-scheduled"
    assert isinstance(error, MissingPrerequisite)
    assert error.aggregate_id == Order.create_id("o-1")
    assert str(error) == "order 'o-1' is not delivered yet"
    assert Callback.create_id("cb-1") not in app.repository

    pending = feed.batch(source("order.delivered", {"order_id": "o-1"}, DELIVERED_AT, "o-done"))

    assert [w.event_id for w in pending.released] == ["cb-scheduled"]
    assert load(app).due_at == DELIVERED_AT + AFTER_DELIVERY
    assert load(app).has_applied("cb-scheduled")


def test_r_sat_04_a_callback_scheduled_before_the_delivery_is_refused_once_it_comes(
    app: JourneyApplication,
) -> None:
    feed = Feed(app)
    feed(*order_events(delivered=False))
    early = source(
        "callback.scheduled",
        {"callback_id": "cb-1", "reason": "after_delivery", "order_id": "o-1"},
        DELIVERED_AT - SECOND,
        "cb-early",
    )
    assert [ref.event_id for ref, _ in feed.batch(early).parked] == ["cb-early"]

    pending = feed.batch(source("order.delivered", {"order_id": "o-1"}, DELIVERED_AT, "o-done"))

    (refusal,) = pending.released_refusals
    assert refusal.waiting.event_id == "cb-early"
    assert refusal.reason.startswith("R-SAT-04: scheduled at")
    assert "before the delivery of order 'o-1'" in refusal.reason
    assert Callback.create_id("cb-1") not in app.repository


def test_r_sat_04_a_cancelled_order_refuses_its_callbacks(app: JourneyApplication) -> None:
    """A cancelled order is never delivered: a callback waiting for it is refused when the
    cancellation comes, a later one at once."""
    feed = Feed(app)
    feed(*order_events(delivered=False))
    feed.batch(scheduled())
    cancel = source(
        "order.cancelled", {"order_id": "o-1", "reason": "customer"}, DELIVERED_AT, "o-off"
    )

    pending = feed.batch(cancel)

    (refusal,) = pending.released_refusals
    assert refusal.waiting.event_id == "cb-scheduled"
    assert "R-SAT-04" in refusal.reason
    ((_, error),) = feed(scheduled(callback_id="cb-2", event_id="cb-2-scheduled"))
    assert isinstance(error, CallbackRuleViolated)
    assert error.rule == "R-SAT-04"
    assert "o-1" in str(error)
    assert Callback.create_id("cb-1") not in app.repository
    assert Callback.create_id("cb-2") not in app.repository


def test_order_of_another_customer_is_refused(app: JourneyApplication) -> None:
    feed = Feed(app)
    feed(*order_events())

    ((_, error),) = feed(scheduled(customer_id="cust-2"))

    assert isinstance(error, NotFound)
    assert "o-1" in str(error)
    assert Callback.create_id("cb-1") not in app.repository


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("callback.completed", {"callback_id": "cb-x", "outcome": "reached"}),
        ("callback.missed", {"callback_id": "cb-x"}),
    ],
)
def test_unknown_callback_is_parked_until_it_is_scheduled(
    app: JourneyApplication, event_type: str, data: dict[str, Any]
) -> None:
    """An ending of a callback not known yet waits for its scheduling, then ends it."""
    feed = Feed(app)
    feed(*order_events())
    pending = feed.batch(source(event_type, data, SCHEDULED_AT + SECOND, "e-unknown"))

    ((parked, error),) = pending.parked
    assert pending.refusals == []
    assert parked.event_id == "e-unknown"
    assert isinstance(error, MissingPrerequisite)
    assert error.aggregate_id == Callback.create_id("cb-x")
    assert "cb-x" in str(error)
    assert Callback.create_id("cb-x") not in app.repository

    pending = feed.batch(scheduled(callback_id="cb-x"))

    assert [w.event_id for w in pending.released] == ["e-unknown"]
    assert load(app, "cb-x").status == ("completed" if "completed" in event_type else "missed")
    assert waiting_for(app, Callback.create_id("cb-x")) == []


def test_callback_of_another_customer_is_refused(app: JourneyApplication) -> None:
    feed = Feed(app)
    feed(*order_events(), scheduled())
    completed = source(
        "callback.completed",
        {"callback_id": "cb-1", "outcome": "reached"},
        SCHEDULED_AT,
        "cb-completed",
        customer_id="cust-2",
    )

    ((_, error),) = feed(completed)

    assert isinstance(error, NotFound)
    assert load(app).status == "scheduled"


def test_repeated_scheduling_has_no_effect_and_a_reused_id_is_refused(
    app: JourneyApplication,
) -> None:
    feed = Feed(app)
    feed(*order_events(), scheduled())
    version = load(app).version

    assert feed(scheduled()) == []
    ((_, error),) = feed(scheduled(event_id="cb-scheduled-again"))

    assert isinstance(error, CallbackExists)
    assert "cb-1" in str(error)
    assert load(app).version == version


def test_repeated_completion_through_the_handler_has_no_effect(app: JourneyApplication) -> None:
    feed = Feed(app)
    completed = source(
        "callback.completed",
        {"callback_id": "cb-1", "outcome": "reached"},
        SCHEDULED_AT,
        "cb-completed",
    )
    feed(*order_events(), scheduled(), completed)
    version = load(app).version

    assert feed(completed) == []
    assert load(app).version == version


# -- schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "data", "field"),
    [
        pytest.param(
            "callback.scheduled",
            {"callback_id": "cb-1", "reason": "after_delivery"},
            "data.order_id",
            id="after-delivery-without-order",
        ),
        pytest.param(
            "callback.scheduled",
            {
                "callback_id": "cb-1",
                "reason": "after_delivery",
                "order_id": "o-1",
                "due_at": BIRTHDAY.isoformat(),
            },
            "data.due_at",
            id="after-delivery-with-due",
        ),
        pytest.param(
            "callback.scheduled",
            {"callback_id": "cb-1", "reason": "holiday"},
            "data.due_at",
            id="holiday-without-due",
        ),
        pytest.param(
            "callback.scheduled",
            {"callback_id": "cb-1", "reason": "launch", "due_at": "2026-04-01T10:00:00"},
            "data.due_at",
            id="due-without-offset",
        ),
        pytest.param(
            "callback.scheduled",
            {"callback_id": "cb-1", "reason": "anniversary", "due_at": BIRTHDAY.isoformat()},
            "data.reason",
            id="unknown-reason",
        ),
        pytest.param(
            "callback.completed", {"callback_id": "cb-1"}, "data.outcome", id="outcome-missing"
        ),
        pytest.param(
            "callback.completed",
            {"callback_id": "cb-1", "outcome": "maybe"},
            "data.outcome",
            id="outcome-unknown",
        ),
        pytest.param(
            "callback.missed", {"callback_id": "cb-1", "reason": ""}, "data.reason", id="empty"
        ),
    ],
)
def test_r_sat_04_schema_refusals_name_the_field(
    event_type: str, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        source(event_type, data, SCHEDULED_AT, "e-bad")
    assert field in {problem.field for problem in caught.value.problems}


def test_r_sat_04_launch_schema_carries_the_matching_preference() -> None:
    data = {
        "callback_id": "cb-9",
        "reason": "launch",
        "due_at": BIRTHDAY.isoformat(),
        "preference": "green-tea",
    }
    event = source("callback.scheduled", data, SCHEDULED_AT, "e-launch")
    assert isinstance(event.data, engagement.CallbackScheduled)
    assert (event.data.preference, event.data.due_at, event.data.order_id) == (
        "green-tea",
        BIRTHDAY,
        None,
    )

"""The SLA timer on every pairing of log and store: a deadline that no fact stopped is
breached once the watermark passes it, and a late fact that happened in time settles it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from consumers.timer import ClockTimer
from domain.case import Case
from domain.clocks import Outcome
from domain.contact import Contact
from journey.bootstrap import Runtime
from tests.factories import contact_opened, source_event
from tests.integration.drive import ingest_everything, project_everything, publish

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTES_9 = timedelta(minutes=9)


def at(delta: timedelta) -> str:
    return (T0 + delta).isoformat()


def test_r_resp_01_is_breached_by_the_event_time_watermark_then_settled(
    runtime: Runtime,
) -> None:
    """R-RESP-01: no human answer within 30 s of the customer's first message (the chat
    opened with it) on an IM channel; the watermark (another customer's later event)
    breaches it; the reply, arriving late but stamped 20 s after opening, settles it as
    met."""
    waiting = contact_opened(
        customer_id="cust-a", contact_id="ka", occurred_at=at(timedelta(0)), first_message_id="m"
    )
    later = contact_opened(
        customer_id="cust-b",
        contact_id="kb",
        channel="email",
        occurred_at=at(timedelta(minutes=9)),
    )
    publish(runtime, [orjson.dumps(waiting)], key="cust-a")
    publish(runtime, [orjson.dumps(later)], key="cust-b")
    ingest_everything(runtime)
    project_everything(runtime)
    assert runtime.deadlines.watermark() == T0 + timedelta(minutes=9)
    contact_id = Contact.create_id("ka")

    assert runtime.clock_timer().run_once() == 1
    contact: Contact = runtime.app.repository.get(contact_id)
    breach = contact.outcomes()["R-RESP-01"]
    assert breach == Outcome("R-RESP-01", "R-RESP-01", timedelta(seconds=30), False, None)
    project_everything(runtime)
    assert runtime.clock_timer().run_once() == 0  # nothing else is due

    reply = source_event(
        "contact.replied",
        {"contact_id": "ka", "responder": "agent", "agent_id": "ag-1"},
        customer_id="cust-a",
        occurred_at=at(timedelta(seconds=20)),
    )
    publish(runtime, [orjson.dumps(reply)], key="cust-a")
    ingest_everything(runtime)
    reloaded: Contact = runtime.app.repository.get(contact_id)
    settled = reloaded.outcomes()["R-RESP-01"]
    assert settled == Outcome(
        "R-RESP-01", "R-RESP-01", timedelta(seconds=30), True, timedelta(seconds=20)
    )


def test_the_wall_clock_breaches_when_no_events_arrive(runtime: Runtime) -> None:
    """Live mode: with no later events the wall clock still moves the watermark."""
    waiting = contact_opened(
        customer_id="cust-a", contact_id="kw", occurred_at=at(timedelta(0)), first_message_id="m"
    )
    publish(runtime, [orjson.dumps(waiting)], key="cust-a")
    ingest_everything(runtime)
    project_everything(runtime)
    assert runtime.clock_timer().run_once() == 0  # event time alone has not moved on

    live = ClockTimer(runtime.app, runtime.deadlines, lambda: T0 + timedelta(days=3))
    # The contact's first reply (R-RESP-01), and the complaint case's response target for
    # an important case (R-PRI-02, 2 h) and first progress update (R-CMP-03, 24 h).
    assert live.run_once() == 3
    contact: Contact = runtime.app.repository.get(Contact.create_id("kw"))
    assert contact.outcomes()["R-RESP-01"].met is False
    case: Case = runtime.app.repository.get(Case.create_id("kw"))
    assert {k: o.met for k, o in case.outcomes().items()} == {
        "R-PRI-02:0": False,
        "R-CMP-03:1": False,
    }


def test_r_resp_01_a_chat_the_customer_never_wrote_in_is_not_breached(runtime: Runtime) -> None:
    """R-RESP-01 (issue 14): a chat opened before the customer writes has no clock, so
    the watermark moving far past 30 s breaches nothing; the customer's first message,
    arriving later, starts it there, and the timer breaches it past due + 5 min."""
    silent = contact_opened(customer_id="cust-a", contact_id="ks", occurred_at=at(timedelta(0)))
    later = contact_opened(
        customer_id="cust-b", contact_id="kb", channel="email", occurred_at=at(MINUTES_9)
    )
    publish(runtime, [orjson.dumps(silent)], key="cust-a")
    publish(runtime, [orjson.dumps(later)], key="cust-b")
    ingest_everything(runtime)
    project_everything(runtime)

    assert runtime.clock_timer().run_once() == 0
    contact: Contact = runtime.app.repository.get(Contact.create_id("ks"))
    assert contact.outcomes() == {}
    assert contact.clocks.open == {}

    wrote = source_event(
        "contact.message",
        {"contact_id": "ks", "message_id": "m-1"},
        customer_id="cust-a",
        occurred_at=at(timedelta(minutes=1)),
    )
    publish(runtime, [orjson.dumps(wrote)], key="cust-a")
    ingest_everything(runtime)
    project_everything(runtime)
    assert runtime.clock_timer().run_once() == 1
    wrote_in: Contact = runtime.app.repository.get(Contact.create_id("ks"))
    assert wrote_in.outcomes()["R-RESP-01"] == Outcome(
        "R-RESP-01", "R-RESP-01", timedelta(seconds=30), False, None
    )


def test_the_wall_clock_breaches_at_the_deadline(runtime: Runtime) -> None:
    """R-RESP-01, JOURNEY_CLOCK=wall_clock (issue 14): no allowed lateness — now at the
    due time breaches nothing, a second later the deadline is breached."""
    chat = contact_opened(
        customer_id="cust-a", contact_id="kd", occurred_at=at(timedelta(0)), first_message_id="m"
    )
    publish(runtime, [orjson.dumps(chat)], key="cust-a")
    ingest_everything(runtime)
    project_everything(runtime)
    due = T0 + timedelta(seconds=30)

    assert ClockTimer(runtime.app, runtime.deadlines, lambda: due).run_once() == 0
    assert ClockTimer(runtime.app, runtime.deadlines, lambda: due + SECOND).run_once() == 1
    contact: Contact = runtime.app.repository.get(Contact.create_id("kd"))
    assert contact.outcomes()["R-RESP-01"].met is False

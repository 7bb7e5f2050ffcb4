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


def at(delta: timedelta) -> str:
    return (T0 + delta).isoformat()


def test_r_resp_01_is_breached_by_the_event_time_watermark_then_settled(
    runtime: Runtime,
) -> None:
    """R-RESP-01: no human answer within 30 s on an IM channel; the watermark (another
    customer's later event) breaches it; the reply, arriving late but stamped 20 s after
    opening, settles it as met."""
    waiting = contact_opened(customer_id="cust-a", contact_id="ka", occurred_at=at(timedelta(0)))
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
    waiting = contact_opened(customer_id="cust-a", contact_id="kw", occurred_at=at(timedelta(0)))
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

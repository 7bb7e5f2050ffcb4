"""What a read model's row shows of an SLA clock, from the clock decision events (the
complaint ledger's and the orders and returns' rows): one place for the shape of a started
clock and of a breach, so the read models cannot drift apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.aggregate import JourneyAggregate
from domain.clocks import is_overdue


def utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


def started_clock(event: JourneyAggregate.DeadlineStarted) -> dict[str, Any]:
    """A clock just started: its rule, start, due time, target, ``open``."""
    return {
        "rule": event.rule,
        "started_at": utc(event.started_at),
        "due_at": utc(event.due_at),
        "target_s": (event.due_at - event.started_at).total_seconds(),
        "outcome": "open",
    }


def breach_entry(event: JourneyAggregate.DeadlineBreached) -> dict[str, Any]:
    """One entry of a row's ``breach_list``: which clock, its due time and target, the
    actual time if a fact stopped it, and how the breach was detected."""
    return {
        "rule": event.rule,
        "key": event.key,
        "due_at": utc(event.due_at),
        "target_s": event.target.total_seconds(),
        "actual_s": seconds(event.actual),
        "detected_by": event.detected_by,
    }


def judged_clocks(row: dict[str, Any], watermark: datetime | None) -> dict[str, Any]:
    """``row`` with its SLA clocks (``sla``) as they stand at ``watermark`` (the SLA
    timer's: the latest event time, or now in wall-clock mode): a clock still ``open``
    whose due time the watermark is past shows ``overdue`` — past due, not breached yet:
    inside the allowed lateness of its policy version, or waiting for the timer's next
    round (``domain.clocks.is_overdue``) — and ``overdue`` counts them. Judged when asked,
    never stored: the stored row stays what its events made it, so a rebuild equals the
    live copy; without a watermark nothing is overdue."""
    overdue = 0
    for clock in row["sla"].values():
        if clock.get("outcome") == "open" and is_overdue(
            datetime.fromisoformat(clock["due_at"]), watermark
        ):
            clock["outcome"] = "overdue"
            overdue += 1
    row["overdue"] = overdue
    return row

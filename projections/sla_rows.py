"""What a read model's row shows of an SLA clock, from the clock decision events (the
complaint ledger's and the orders and returns' rows): one place for the shape of a started
clock and of a breach, so the read models cannot drift apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.aggregate import JourneyAggregate


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

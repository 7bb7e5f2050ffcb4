"""Query parameters that parse a time, a number or a position, each refused with a 422 that
names it when the value is out of the range the stores and Python's datetime can hold.

Why: a value can parse and still break what reads it. ``0001-01-01T00:00:00+14:00`` is a
valid RFC 3339 time with no UTC instant (converting it overflows), a 20-digit number does
not fit the stores' 64-bit integers. Such values are refused here, at the edge, instead of
failing below it as a 500. (Text holding a NUL, which PostgreSQL cannot store, is refused
for every parameter by ``api.middleware.BodyGuard``.)

The types validate inside FastAPI's own request validation, so the answer is our
``invalid_request`` 422 whose ``problems`` name the parameter (``query.since``); a route
that parses a parameter itself with :func:`position` names it in its own 422.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator

from adapters.sourcelog.base import Coordinates

INT64_MAX = 2**63 - 1
"""The largest integer the stores hold (SQLite INTEGER, PostgreSQL BIGINT; Kafka offsets)."""
INT32_MAX = 2**31 - 1
"""The largest Kafka partition number."""

EARLIEST_DAY, LATEST_DAY = date(1970, 1, 1), date(9999, 1, 1)
"""Days outside ``[EARLIEST_DAY, LATEST_DAY)`` are refused: no event lies there (event
times start in 1970), and look-backs and look-aheads of a day (the anomaly rule's 3
consecutive days, R-KPI-06) must stay inside the calendar."""


def utc_instant(at: datetime) -> datetime:
    """``at`` in UTC; ValueError if it has no offset or no UTC instant (years 1 to 9999)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("give a time with a UTC offset")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            "no UTC instant: the time with its offset falls outside years 1 to 9999"
        ) from None


def _calendar_day(day: date) -> date:
    if not EARLIEST_DAY <= day < LATEST_DAY:
        raise ValueError(f"a day from {EARLIEST_DAY} to before {LATEST_DAY}")
    return day


Instant = Annotated[datetime, AfterValidator(utc_instant)]
"""A time with a UTC offset that has a UTC instant; the route receives it in UTC."""
UtcDay = Annotated[date, AfterValidator(_calendar_day)]
"""A UTC day from 1970-01-01 to 9998-12-31."""

_KAFKA_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
_DIGITS = re.compile(r"[0-9]+")


def _bounded(digits: str, largest: int) -> bool:
    significant = digits.lstrip("0")
    return len(significant) <= len(str(largest)) and int(significant or "0") <= largest


def position(text: str, topics: Collection[str]) -> Coordinates:
    """``topic:partition:offset`` of a record on one of ``topics`` (those events are
    published to), with a partition and an offset Kafka can hold; ValueError otherwise."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not _KAFKA_TOPIC.fullmatch(parts[0]):
        raise ValueError("expected topic:partition:offset")
    topic, partition, offset = parts
    if not (_DIGITS.fullmatch(partition) and _DIGITS.fullmatch(offset)):
        raise ValueError("expected topic:partition:offset, the numbers in ASCII digits")
    if not (_bounded(partition, INT32_MAX) and _bounded(offset, INT64_MAX)):
        raise ValueError(f"a partition up to {INT32_MAX} and an offset up to {INT64_MAX}")
    if topic not in topics:
        raise ValueError(f"{topic} is not a topic events are published to")
    return Coordinates(topic, int(partition), int(offset))


def _id_digits(text: str) -> str:
    if not (_DIGITS.fullmatch(text) and _bounded(text, INT64_MAX)):
        raise ValueError(f"digits of a number from 0 to {INT64_MAX}")
    return text


IdCursor = Annotated[str, AfterValidator(_id_digits)]
"""A cursor that is an id in digits (the access log's), at most :data:`INT64_MAX`."""

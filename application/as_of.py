"""The points of a case's history an auditor can ask for (``application.audit``): an event
time, a recorded time or a version, parsed from the query parameters ``as_of`` and
``recorded_as_of``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from application.json_ready import plain
from domain.errors import DomainError


class AsOfOutOfRange(DomainError):
    """``as_of`` names a version the case does not have, or a time without a zone."""


AsOfBasis = Literal["event_time", "recorded_time", "version"]


@dataclass(frozen=True)
class AsOf:
    """A point of a case's history: an event time, a recorded time or a version (the
    meaning of each: ``application.audit``)."""

    basis: AsOfBasis
    value: datetime | int

    def as_json(self) -> dict[str, Any]:
        return {"basis": self.basis, "value": plain(self.value)}


MAX_VERSION = 2**63 - 1
"""The largest version the event stores hold (a 64-bit integer)."""


def _instant(name: str, text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise AsOfOutOfRange(f"{name} {text!r} is not an ISO time") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise AsOfOutOfRange(f"{name} {text!r} has no UTC offset")
    try:
        at.astimezone(UTC)
    except OverflowError:
        raise AsOfOutOfRange(f"{name} {text!r} has no UTC instant (years 1 to 9999)") from None
    return at


def parse_as_of(text: str, report_tz: tzinfo = UTC) -> AsOf:
    """The ``as_of`` query parameter: a version (ASCII digits), an RFC 3339 time with an
    offset, or a date alone (the end of that day in ``report_tz``); a time is an event
    time."""
    if text.isascii() and text.isdigit():
        if len(text) > len(str(MAX_VERSION)) or int(text) > MAX_VERSION:
            raise AsOfOutOfRange(f"as_of: a version from 1 to {MAX_VERSION}")
        return AsOf("version", int(text))
    if len(text) == 10 and text.isascii():
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise AsOfOutOfRange(f"as_of {text!r} is not a date") from None
        try:
            end = datetime.combine(day + timedelta(days=1), time(), report_tz)
            return AsOf("event_time", end - timedelta(microseconds=1))
        except OverflowError:
            raise AsOfOutOfRange(f"as_of {text!r}: the last day has no end") from None
    return AsOf("event_time", _instant("as_of", text))


def parse_recorded_as_of(text: str) -> AsOf:
    """The ``recorded_as_of`` query parameter: an RFC 3339 time with an offset."""
    return AsOf("recorded_time", _instant("recorded_as_of", text))

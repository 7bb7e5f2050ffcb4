"""The date and time formats of the data sets, read into aware datetimes.

- Olist: ``2017-07-09 21:57:05`` (sometimes with microseconds), Brazilian local time
  without a zone: read in ``America/Sao_Paulo`` (with its daylight saving time of the
  period).
- CFPB: ``2021-10-24``, a date only: midnight UTC.
- ServiceNow: ``29/2/2016 01:16``, day/month/year and minutes, no zone: read as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

MISSING = frozenset({"", "?", "NA", "N/A", "nan"})


class BadTime(ValueError):
    pass


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_timestamp(text: str, zone_name: str) -> datetime | None:
    """An ISO-like local date-time without offset, in ``zone_name``; None when missing."""
    text = text.strip()
    if text in MISSING:
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise BadTime(f"not a date-time: {text!r}") from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=zone(zone_name))


def utc_date(text: str) -> datetime | None:
    """``yyyy-mm-dd`` as midnight UTC; None when missing."""
    text = text.strip()
    if text in MISSING:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise BadTime(f"not a yyyy-mm-dd date: {text!r}") from None


def day_month_year(text: str) -> datetime | None:
    """``d/m/yyyy HH:MM`` as UTC; None when missing (``?``)."""
    text = text.strip()
    if text in MISSING:
        return None
    try:
        return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=UTC)
    except ValueError:
        raise BadTime(f"not a d/m/yyyy HH:MM time: {text!r}") from None

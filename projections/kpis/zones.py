"""Days, ISO weeks and months in a report time zone, over facts dated by instants.

The KPI rows keep instants (``kpi_facts.at``, a Unix second; the counters' ``hour``, a
Unix hour), never days. A period asked for in a zone is an interval of instants, from the
zone's midnight starting its first day to the one ending its last; and within a stretch of
that interval where the zone's UTC offset does not change (a *segment*: the whole of it
for Asia/Shanghai, which has kept +08:00 since 1991; a piece between two clock changes
elsewhere) the local day of an instant ``s`` is ``(s + offset) // 86400`` days from
1970-01-01: integer arithmetic that SQLite and PostgreSQL do alike, so a store groups by
local day itself. A week or a month is made of its local days.

An hourly counter row can be grouped this way when its hour lies wholly inside one local
day: when the segment's offset and ends are whole hours (every zone but a few, such as
Asia/Kolkata +05:30 or Asia/Kathmandu +05:45). Otherwise the facts are summed instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")

EPOCH = date(1970, 1, 1)
DAY_S = 86_400
SHIFT_S = DAY_S
"""Added before dividing, so that the dividend is never negative (an offset goes down to
-12 h and instants start at 1970) and integer division is a floor in both stores."""


def offset_at(second: int, zone: tzinfo) -> int:
    """The zone's UTC offset, in seconds, at the Unix second ``second``."""
    delta = datetime.fromtimestamp(second, UTC).astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def start_of(day: date, zone: tzinfo) -> int:
    """The Unix second at which ``day`` begins in ``zone``."""
    return int(datetime.combine(day, time(), zone).timestamp())


def local_day(second: int, zone: tzinfo) -> date:
    return datetime.fromtimestamp(second, UTC).astimezone(zone).date()


def segments(low: int, high: int, zone: tzinfo) -> list[tuple[int, int, int]]:
    """``[low, high)`` cut where the zone's offset changes: (start, end, offset) each.
    Looked for a day at a time, then to the second (no zone changes twice in a day)."""
    found: list[tuple[int, int, int]] = []
    start, offset = low, offset_at(low, zone)
    probe = low
    while probe < high:
        step = min(probe + DAY_S, high)
        if step < high and offset_at(step, zone) == offset:
            probe = step
            continue
        if step == high and offset_at(high - 1, zone) == offset:
            break
        before, after = probe, step if step < high else high - 1
        while after - before > 1:  # the first second at another offset
            middle = (before + after) // 2
            if offset_at(middle, zone) == offset:
                before = middle
            else:
                after = middle
        found.append((start, after, offset))
        start, offset, probe = after, offset_at(after, zone), after
    found.append((start, high, offset))
    return found


def day_number(days: int) -> date:
    """The date ``days`` after 1970-01-01 (what a store's ``(s + shift) // 86400`` gives,
    less one for the shift)."""
    return EPOCH + timedelta(days=days)


def label(day: date, grain: Grain) -> str:
    """``2026-03-08`` for a day, ``2026-W10`` for its ISO week, ``2026-03`` for its month."""
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year:04d}-{day.month:02d}"


def local_iso(text: str | None, zone: tzinfo) -> str | None:
    """A stored UTC time (ISO text) as the same instant with the zone's offset."""
    if not text:
        return None
    return datetime.fromisoformat(text).astimezone(zone).isoformat()


def second_iso(second: int, zone: tzinfo) -> str:
    return datetime.fromtimestamp(second, UTC).astimezone(zone).isoformat()

"""Time, one way on every route (issue 15, item 1).

- **The zone.** Every protected route takes ``tz`` (an IANA name); without it, the report
  time zone (``JOURNEY_REPORT_TZ``, default Asia/Shanghai). :func:`request_zone` resolves it
  once per request (``api.auth.ProtectedRoute`` adds it to every route).
- **Answers.** :class:`ZonedJSONResponse` (every protected route's response class) renders
  every RFC 3339 time in the answer, however deep, with the zone's offset
  (``2026-03-05T10:00:00+08:00``): the same instant, one way on every route. A CSV export
  renders its rows with :func:`in_zone` the same way.
- **Parameters.** A time parameter takes an RFC 3339 time with an offset *or a date alone*,
  a date in the zone: :data:`From` (at or after: the start of that day), :data:`To`
  (before: a date alone includes that day, up to its end) and :data:`AsOf` (a point: the
  end of that day). A date-only parameter (KPI days) is a date in the zone too.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator, WithJsonSchema

from api.deps import services_of
from api.errors import ApiError
from api.params import utc_instant


@dataclass(frozen=True)
class Zone:
    """The zone a request is answered in."""

    tz: tzinfo
    name: str


_ZONE: ContextVar[Zone | None] = ContextVar("journey_request_zone", default=None)
"""The zone of the request being answered (set by :func:`request_zone`, which FastAPI
solves before the route's own parameters and before it renders the answer)."""

TZ_DESCRIPTION = (
    "An IANA time zone (`Asia/Shanghai`, `UTC`, `Europe/Paris`): every time in the answer"
    " carries its offset, and a date alone in a parameter is a date in it. Default: the"
    " report zone (`JOURNEY_REPORT_TZ`, Asia/Shanghai unless configured)."
)
Tz = Annotated[str | None, Query(max_length=64, description=TZ_DESCRIPTION)]


async def request_zone(request: Request, tz: Tz = None) -> Zone:
    """The request's zone (``tz``, or the report zone); 422 naming ``tz`` if unknown.
    Async on purpose: it sets the request's context, seen by the parameters parsed after
    it and by the answer's rendering. The report zone is read from the services here, not
    as a dependency of its own: every protected request solves this."""
    if tz is None:
        report_zone = services_of(request).report_zone
        zone = Zone(report_zone, str(report_zone))
    else:
        try:
            zone = Zone(ZoneInfo(tz), tz)
        except (ZoneInfoNotFoundError, ValueError):
            reason = "not an IANA time zone name (e.g. Asia/Shanghai, UTC)"
            raise ApiError(
                422,
                "invalid_request",
                f"tz: {reason}",
                problems=[{"field": "query.tz", "reason": reason}],
            ) from None
    _ZONE.set(zone)
    return zone


InZone = Depends(request_zone)
"""The dependency every protected route has (``api.auth.ProtectedRoute``)."""
ZoneDep = Annotated[Zone, InZone]


def current_zone() -> Zone | None:
    """The zone of the request being answered; None outside a protected route."""
    return _ZONE.get()


# -- answers -----------------------------------------------------------------------------------


def render_time(text: str, zone: tzinfo) -> str:
    """``text`` with ``zone``'s offset if it is an RFC 3339 time with an offset; else as is.
    Cheap checks first: most strings of an answer are not times."""
    if not (16 <= len(text) <= 40 and text[10:11] == "T" and text[4:5] == text[7:8] == "-"):
        return text
    try:
        at = datetime.fromisoformat(text)
        return text if at.tzinfo is None else at.astimezone(zone).isoformat()
    except (ValueError, OverflowError):  # not a time, or no instant in the zone's calendar
        return text


def in_zone(value: Any, zone: tzinfo) -> Any:
    """``value`` (JSON-like) with every time in it rendered in ``zone``."""
    if isinstance(value, str):
        return render_time(value, zone)
    if isinstance(value, dict):
        return {key: in_zone(item, zone) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [in_zone(item, zone) for item in value]
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(zone).isoformat()
    return value


class ZonedJSONResponse(JSONResponse):
    """JSON with every time in the request's zone (:func:`in_zone`)."""

    def render(self, content: Any) -> bytes:
        zone = current_zone()
        return super().render(content if zone is None else in_zone(content, zone.tz))


# -- parameters -------------------------------------------------------------------------------


def _when(name: str, day_to_time: Callable[[date], datetime]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if len(text) == 10:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError("a date (YYYY-MM-DD) or a time with an offset") from None
            try:
                return utc_instant(day_to_time(day))
            except OverflowError:
                raise ValueError(f"{day}: outside the calendar in this zone") from None
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("a date (YYYY-MM-DD) or an RFC 3339 time with an offset") from None
        return utc_instant(at)

    parse.__name__ = f"parse_{name}"
    return parse


def _zone_of_request() -> tzinfo:
    zone = current_zone()
    if zone is None:  # only a route outside ProtectedRoute could get here: a bug
        raise ValueError("no time zone for this request")
    return zone.tz


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), _zone_of_request())


def _after_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), _zone_of_request())


def _end(day: date) -> datetime:
    return _after_end(day) - timedelta(microseconds=1)


_DATE_OR_TIME = WithJsonSchema(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
)
From = Annotated[datetime, BeforeValidator(_when("from", _start)), _DATE_OR_TIME]
"""A lower bound (at or after): a time with an offset, or a date alone (from the start of
that day in the zone); the route receives it in UTC."""
To = Annotated[datetime, BeforeValidator(_when("to", _after_end)), _DATE_OR_TIME]
"""An upper bound (before): a time with an offset, or a date alone (that day included:
before the start of the next day in the zone); the route receives it in UTC."""
AsOf = Annotated[datetime, BeforeValidator(_when("as_of", _end)), _DATE_OR_TIME]
"""A point in time: a time with an offset, or a date alone (the end of that day in the
zone); the route receives it in UTC."""

DATE_NOTE = " A time with an offset, or a date alone: a date in the zone (`tz`)."

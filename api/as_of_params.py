"""The point in time an auditor asks a state at, declared once for every aggregate kind's
state route (a case's, and any aggregate's by the id its channel sent): ``as_of`` (an event
time, a date in the zone, or a version) or ``recorded_as_of`` (a recorded time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.errors import ApiError
from api.times import Zone
from application.as_of import AsOf, parse_as_of, parse_recorded_as_of

AsOfQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="An event time with offset, or a date alone (the end of that day in"
        " the zone, `tz`): the aggregate from what had happened by then. Or a version"
        " (digits). Default: as stored now.",
    ),
]
RecordedAsOfQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="A recorded time with offset: the aggregate as the system held it then"
        " (the events recorded by then). Not with as_of.",
    ),
]


def point_in_time(as_of: str | None, recorded_as_of: str | None, zone: Zone) -> AsOf | None:
    """The point asked for (None: as stored now); 422 when both are given."""
    if as_of is not None and recorded_as_of is not None:
        raise ApiError(422, "invalid_request", "as_of or recorded_as_of: give one")
    if as_of is not None:
        return parse_as_of(as_of, zone.tz)
    if recorded_as_of is not None:
        return parse_recorded_as_of(recorded_as_of)
    return None

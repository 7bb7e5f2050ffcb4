"""Bounded pages, one style everywhere (issue 15, item 6): ``limit`` is capped, and the next
page is asked with ``cursor``, the ``next_cursor`` of the previous page (None on the last).
Lists that are not read-model pages (a case history, the events behind a figure) have the
last position of the page as their cursor; the ledger's, orders', returns' and what-if's
cursors are opaque (a row's sort value and id), checked here before any store sees them.
Asked for CSV (``format=csv``), a paged list answers every row of every page
(``api.paged_csv``, ``api.csv_export``): an export is the whole list, ``cursor`` and
``limit`` ignored."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import orjson
from fastapi import Query

from api.csv_export import csv_asked
from api.errors import ApiError
from api.params import INT64_MAX, IdCursor, utc_instant
from api.schemas import ExplainOut
from projections.ledger import SortKey
from projections.parking import ParkedPosition

MAX_ITEMS = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_ITEMS, description=f"At most {MAX_ITEMS} per page.")]
Cursor = Annotated[
    IdCursor | None,
    Query(max_length=19, description="`next_cursor` of the previous page."),
]
"""The cursor of a list paged by position: the last position of the previous page."""

T = TypeVar("T")


def page_after(
    items: Sequence[T], position: Any, cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """The items (ordered by ``position(item)``) after the position ``cursor``, at most
    ``limit``; and the ``next_cursor`` of the following page, None when this is the last.
    Items sharing a
    position stay on one page (a page ends before a group it cannot hold whole, unless the
    group alone is longer than ``limit``: then the page holds that whole group). When the
    request asked for the list as CSV (``api.paged_csv``), the page holds the rest whole:
    the list is in memory already."""
    after = None if cursor is None else int(cursor)
    rest = [item for item in items if after is None or position(item) > after]
    if len(rest) <= limit or csv_asked():
        return rest, None
    end = limit
    while end > 0 and position(rest[end - 1]) == position(rest[end]):
        end -= 1
    if end == 0:  # one group longer than a page
        end = limit
        while end < len(rest) and position(rest[end]) == position(rest[end - 1]):
            end += 1
    shown = rest[:end]
    return shown, (str(position(shown[-1])) if end < len(rest) else None)


def explain_page(answer: dict[str, Any], cursor: str | None, limit: int) -> ExplainOut:
    """An explanation (``application.explain.explanation``) as one bounded page of its events,
    by notification id; ``count`` stays the whole count."""
    events, next_cursor = page_after(answer["events"], _notification, cursor, limit)
    return ExplainOut.model_validate({**answer, "events": events, "next_cursor": next_cursor})


def _notification(event: dict[str, Any]) -> int:
    return int(event["notification_id"])


def ledger_cursor(value: Any, case_id: str) -> str:
    """The cursor after a ledger row: its sort value and case id (``ComplaintLedger.cursor_of``)."""
    return base64.urlsafe_b64encode(orjson.dumps([value, case_id])).decode()


def read_ledger_cursor(cursor: str, sort: SortKey) -> tuple[str | int, str]:
    """The ``(sort value, case_id)`` of a cursor made by :func:`ledger_cursor` for ``sort``;
    422 for anything else: every value reaches the store's query as a parameter, so each is
    checked for the type and range its column holds (a time for ``opened_at``, a
    non-negative 64-bit integer otherwise; a case id is a UUID)."""
    try:
        value, case_id = _pair(cursor)
        if sort == "opened_at":
            _time(value)
        elif type(value) is not int or not 0 <= value <= INT64_MAX:
            raise ValueError
    except ValueError:
        raise _not_a_cursor(sort) from None
    return value, case_id


def read_time_cursor(cursor: str, sort: str) -> tuple[str, str]:
    """The ``(time, id)`` of a cursor made by :func:`ledger_cursor` after a row of a page
    ordered by a time column (``sort``: ``placed_at``, ``requested_at``), then by its id
    (a UUID); 422 for anything else, as :func:`read_ledger_cursor`."""
    try:
        value, row_id = _pair(cursor)
        return _time(value), row_id
    except ValueError:
        raise _not_a_cursor(sort) from None


def read_instant_cursor(cursor: str, sort: str) -> tuple[datetime, UUID]:
    """:func:`read_time_cursor`'s position as a UTC instant and a UUID, for a store that
    compares it as a time (a what-if's page, ``Auditor.what_if``); 422 for a time with no
    UTC instant too."""
    value, row_id = read_time_cursor(cursor, sort)
    try:
        return utc_instant(datetime.fromisoformat(value)), UUID(row_id)
    except ValueError:
        raise _not_a_cursor(sort) from None


def _not_a_cursor(sort: str) -> ApiError:
    return ApiError(
        422, "invalid_cursor", f"cursor: not a cursor of a previous page sorted by {sort}"
    )


def _pair(cursor: str) -> tuple[Any, str]:
    """A cursor's sort value and row id (a UUID); ValueError when it is not one."""
    decoded = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    value, row_id = decoded if isinstance(decoded, list) and len(decoded) == 2 else (None, None)
    if not isinstance(row_id, str) or str(UUID(row_id)) != row_id:
        raise ValueError
    return value, row_id


def _time(value: Any) -> str:
    if not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is None:
        raise ValueError
    return value


def parked_cursor(position: ParkedPosition) -> str:
    """The cursor after a parked event (``ParkedEvent.position``)."""
    at, event_id, lot_id = position
    return base64.urlsafe_b64encode(orjson.dumps([at.isoformat(), event_id, str(lot_id)])).decode()


def read_parked_cursor(cursor: str) -> ParkedPosition:
    """The position in a cursor made by :func:`parked_cursor`; 422 for anything else (a
    time with an offset and a UTC instant, an event id of 1 to 200 characters, a UUID)."""
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (isinstance(decoded, list) and len(decoded) == 3):
            raise ValueError
        at, event_id, lot_id = decoded
        if not isinstance(event_id, str) or not 1 <= len(event_id) <= 200:
            raise ValueError
        if not isinstance(lot_id, str) or str(UUID(lot_id)) != lot_id:
            raise ValueError
        return utc_instant(datetime.fromisoformat(_time(at))), event_id, UUID(lot_id)
    except ValueError:
        raise ApiError(
            422, "invalid_cursor", "cursor: not a cursor of a previous page of parked events"
        ) from None

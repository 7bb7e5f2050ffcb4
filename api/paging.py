"""Bounded pages for list answers that are not read-model pages: a case history, the events
behind a figure. ``limit`` is capped; ``after`` is the last position of the previous page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query

from api.schemas import ExplainOut

MAX_ITEMS = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_ITEMS, description=f"At most {MAX_ITEMS} per page.")]
After = Annotated[
    int | None,
    Query(ge=0, description="Continue after this position: `next_after` of the previous page."),
]

T = TypeVar("T")


def page_after(
    items: Sequence[T], position: Any, after: int | None, limit: int
) -> tuple[list[T], int | None]:
    """The items (ordered by ``position(item)``) after ``after``, at most ``limit``; and the
    ``next_after`` of the following page, None when this is the last. Items sharing a
    position stay on one page (a page ends before a group it cannot hold whole, unless the
    group alone is longer than ``limit``: then the page holds that whole group)."""
    rest = [item for item in items if after is None or position(item) > after]
    if len(rest) <= limit:
        return rest, None
    end = limit
    while end > 0 and position(rest[end - 1]) == position(rest[end]):
        end -= 1
    if end == 0:  # one group longer than a page
        end = limit
        while end < len(rest) and position(rest[end]) == position(rest[end - 1]):
            end += 1
    shown = rest[:end]
    return shown, (position(shown[-1]) if end < len(rest) else None)


def explain_page(answer: dict[str, Any], after: int | None, limit: int) -> ExplainOut:
    """An explanation (``application.explain.explanation``) as one bounded page of its events,
    by notification id; ``count`` stays the whole count."""
    events, next_after = page_after(answer["events"], _notification, after, limit)
    return ExplainOut.model_validate({**answer, "events": events, "next_after": next_after})


def _notification(event: dict[str, Any]) -> int:
    return int(event["notification_id"])

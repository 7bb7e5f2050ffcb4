"""CSV export, one way for every route that returns a list or a table (issue 15, item 6):
``format=csv`` streams every matching row (a read model's listing, page after page, or a
list already in hand), times rendered in the request's zone as in JSON (``api.times``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

from fastapi.responses import StreamingResponse

from api.schemas import ErrorOut
from api.times import current_zone, in_zone

CSV_PAGE = 1000
"""Rows read per query while exporting a read model's listing."""

Format = Literal["json", "csv"]
"""The ``format`` parameter of a route that can answer CSV."""

Flatten = Callable[[dict[str, Any]], Sequence[Any]]
"""A row (its times already in the zone) → its cells, in the export's column order."""


def answers(
    extra: dict[int | str, dict[str, Any]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that answers JSON, or CSV with ``format=csv``."""
    return {
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"},
        422: {"model": ErrorOut},
        503: {"model": ErrorOut},
        **(extra or {}),
    }


def cells(columns: Sequence[str]) -> Flatten:
    """The cells of a row that holds its columns by name (a list joined by spaces)."""

    def flatten(row: dict[str, Any]) -> list[Any]:
        return [
            " ".join(map(str, value)) if isinstance(value, list) else value
            for value in (row.get(column) for column in columns)
        ]

    return flatten


def export_pages(
    pages: Callable[[Any | None], list[dict[str, Any]]],
    after: Callable[[dict[str, Any]], Any],
    columns: Sequence[str],
    flatten: Flatten,
    name: str,
) -> StreamingResponse:
    """Every row of a listing: ``pages(after)`` reads up to :data:`CSV_PAGE` rows after the
    cursor ``after(last row)`` of the previous page (None for the first)."""

    def rows() -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = pages(cursor)
            yield from page
            if len(page) < CSV_PAGE:
                return
            cursor = after(page[-1])

    return export_rows(rows(), columns, flatten, name)


def export_rows(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], flatten: Flatten, name: str
) -> StreamingResponse:
    """``rows`` as a CSV attachment ``<name>.csv``, a header line first."""
    zone = current_zone()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for count, row in enumerate(rows, 1):
            writer.writerow(flatten(row if zone is None else in_zone(row, zone.tz)))
            if count % CSV_PAGE == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )

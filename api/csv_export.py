"""CSV export wherever a list or a table is returned (issue 15, item 6), ``format=csv``,
times rendered in the request's zone as in JSON (``api.times``):

- a read model's listing (the ledger, orders, returns) streams every matching row, page
  after page (:func:`export_pages`); a list in hand (a case's history, what-if's
  differences) is written whole (:func:`export_rows`), with columns chosen for it;
- any other answer that holds one list of rows (KPI rows, explanations, anomalies, the QA
  sample, admin lists...) gets ``format`` from ``api.auth.ProtectedRoute``
  (:func:`table_format`) and is written by :class:`AnswerResponse`: the rows of that list,
  one column per field of a row; a list answered a page at a time (with ``next_cursor``:
  dead letters, the access log, explanations...) is written whole, every row of every
  page, by ``api.paged_csv``."""

from __future__ import annotations

import csv
import io
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextvars import ContextVar
from typing import Annotated, Any, Literal, get_args, get_origin

import orjson
from fastapi import Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from api.schemas import ErrorOut
from api.times import ZonedJSONResponse, current_zone, in_zone

CSV_PAGE = 1000
"""Rows read per query while exporting a read model's listing."""

Format = Literal["json", "csv"]
"""The ``format`` parameter of a route that can answer CSV."""

Flatten = Callable[[dict[str, Any]], Sequence[Any]]
"""A row (its times already in the zone) → its cells, in the export's column order."""


CSV_TOO: dict[str, Any] = {
    "content": {"text/csv": {}},
    "description": "JSON, or CSV with format=csv",
}
"""The 200 answer's CSV beside its JSON, in OpenAPI."""


def answers(
    extra: dict[int | str, dict[str, Any]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that answers JSON, or CSV with ``format=csv``."""
    return {
        200: CSV_TOO,
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
    rows: Iterable[dict[str, Any]] | AsyncIterable[dict[str, Any]],
    columns: Sequence[str],
    flatten: Flatten,
    name: str,
) -> StreamingResponse:
    """``rows`` as a CSV attachment ``<name>.csv``, a header line first, written a batch of
    :data:`CSV_PAGE` rows at a time as they come (from a generator, or an asynchronous
    one that reads pages as the client takes the lines)."""
    sheet = _Sheet(columns, flatten)
    lines: Iterator[str] | AsyncIterator[str]
    if isinstance(rows, AsyncIterable):

        async def read_async() -> AsyncIterator[str]:
            async for row in rows:
                if sheet.add(row):
                    yield sheet.taken()
            yield sheet.taken()

        lines = read_async()
    else:

        def read() -> Iterator[str]:
            for row in rows:
                if sheet.add(row):
                    yield sheet.taken()
            yield sheet.taken()

        lines = read()
    return StreamingResponse(
        lines,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


class _Sheet:
    """CSV lines: the header, then each row added (its times in the request's zone)."""

    def __init__(self, columns: Sequence[str], flatten: Flatten) -> None:
        self.zone = current_zone()
        self.flatten = flatten
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)
        self.writer.writerow(columns)
        self.count = 0

    def add(self, row: dict[str, Any]) -> bool:
        """Write ``row``; True when a batch of :data:`CSV_PAGE` rows is ready to send."""
        self.writer.writerow(self.flatten(row if self.zone is None else in_zone(row, self.zone.tz)))
        self.count += 1
        return self.count % CSV_PAGE == 0

    def taken(self) -> str:
        """The lines written since the last call."""
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


# -- any other list: the answer's one list of rows, as CSV -------------------------------------

_TABLE: ContextVar[tuple[str, tuple[str, ...]] | None] = ContextVar(
    "journey_csv_table", default=None
)
"""When the request asked ``format=csv``: the answer's list field and its columns."""


def table_of(model: Any) -> tuple[str, tuple[str, ...]] | None:
    """The one field of a response model that is a list of rows (models), and the rows'
    columns; None if it has none or several (a view such as the customer 360 is not a
    table)."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    tables = []
    for name, field in model.model_fields.items():
        if get_origin(field.annotation) is list:
            [item] = get_args(field.annotation)
            if isinstance(item, type) and issubclass(item, BaseModel):
                tables.append((name, tuple(item.model_fields)))
    return tables[0] if len(tables) == 1 else None


def table_format(field: str, columns: tuple[str, ...], paged: bool = False) -> Any:
    """The dependency that adds ``format`` to a route whose answer is a table (``paged``:
    a page of it, ``api.paged_csv``)."""

    async def asked(format: Format = "json") -> None:
        _TABLE.set((field, columns) if format == "csv" else None)

    whole = " of every page, from the first (`cursor` and `limit` ignored)" if paged else ""
    described = Query(description=f"`csv`: the answer's `{field}`{whole} as CSV, one row each.")
    asked.__annotations__ = {"format": Annotated[Format, described], "return": None}
    return Depends(asked)


def csv_asked() -> bool:
    """Whether the request being answered asked for its table as CSV (``format=csv``)."""
    return _TABLE.get() is not None


def table_cells(columns: Sequence[str]) -> Flatten:
    """The cells of an answer's row: one per column, a nested value as JSON."""

    def flatten(row: dict[str, Any]) -> list[Any]:
        return [_cell(row.get(column)) for column in columns]

    return flatten


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


class AnswerResponse(ZonedJSONResponse):
    """JSON in the request's zone; or, when the request asked ``format=csv`` on a route
    whose answer is a table, that table as CSV (a nested value as JSON in its cell)."""

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.table = _TABLE.get() if 200 <= status_code < 300 else None
        if self.table is not None:
            media_type = "text/csv"
            disposition = f'attachment; filename="{self.table[0]}.csv"'
            headers = {**(headers or {}), "Content-Disposition": disposition}
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        if self.table is None:
            return super().render(content)
        field, columns = self.table
        sheet = _Sheet(columns, table_cells(columns))
        for row in content[field] if isinstance(content, dict) else []:
            sheet.add(row)
        return sheet.taken().encode()

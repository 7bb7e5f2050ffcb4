"""``format=csv`` on a list answered a page at a time: every row of every page, not only the
page asked (issue 15, item 6).

Declared once, for every route: ``api.auth.ProtectedRoute`` gives each GET route whose
answer is a table (``api.csv_export.table_of``) with a ``next_cursor`` (:func:`paged_table`)
the endpoint :func:`every_page` makes of its own. Asked for JSON, that endpoint is the
route's. Asked for CSV, it answers from the first page whatever ``cursor`` says (an export
is the whole list, as the ledger's is), reading each next page with the previous page's
``next_cursor`` and the route's largest ``limit`` (at most ``api.csv_export.CSV_PAGE``),
and streams the rows of each page as it comes: a list read from a store is read a page at a
time, never held whole. A list paged in memory (``api.paging.page_after``) is whole
already: asked for CSV, its first page holds every row."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from api import csv_export
from api.csv_export import csv_asked, export_rows, table_cells, table_of

Endpoint = Callable[..., Coroutine[Any, Any, Any]]


@dataclass(frozen=True)
class PagedTable:
    """A response model that is a page of a table: its list field and the rows' columns."""

    model: type[BaseModel]
    field: str
    columns: tuple[str, ...]


def paged_table(model: Any) -> PagedTable | None:
    """``model`` as a page of a table if it is one (a table with a ``next_cursor``)."""
    table = table_of(model)
    if table is None or "next_cursor" not in model.model_fields:
        return None
    return PagedTable(model, *table)


def largest_limit(endpoint: Endpoint) -> int:
    """The largest ``limit`` the route takes (its ``le``); TypeError for a paged route whose
    ``cursor`` or bounded ``limit`` is missing: it could not be read to its end."""
    parameters = inspect.signature(endpoint, eval_str=True).parameters
    limit = parameters.get("limit")
    if "cursor" in parameters and limit is not None:
        for extra in getattr(limit.annotation, "__metadata__", ()):
            for bound in getattr(extra, "metadata", ()):  # Query(le=...)'s annotated_types.Le
                most = getattr(bound, "le", None)
                if isinstance(most, int):
                    return most
    raise TypeError(f"{endpoint.__qualname__}: a paged list takes `cursor` and a bounded `limit`")


def every_page(endpoint: Endpoint, table: PagedTable) -> Endpoint:
    """``endpoint``, which answers every row of every page as CSV when CSV was asked
    (TypeError for an endpoint that is not ``async``: it is called again for each page)."""
    if not inspect.iscoroutinefunction(endpoint):
        raise TypeError(f"{endpoint.__qualname__}: a paged list's endpoint is async")
    largest = largest_limit(endpoint)
    model, field, columns = table.model, table.field, table.columns

    @functools.wraps(endpoint)
    async def answer(**values: Any) -> Any:
        if not csv_asked():
            return await endpoint(**values)
        size = min(largest, csv_export.CSV_PAGE)

        async def page(cursor: str | None) -> dict[str, Any] | Response:
            answered = await endpoint(**{**values, "cursor": cursor, "limit": size})
            if isinstance(answered, Response):
                return answered
            dumped: dict[str, Any] = model.model_validate(answered).model_dump(mode="json")
            return dumped

        first = await page(None)  # before the answer starts: its errors answered as such
        if isinstance(first, Response):
            return first

        async def rows() -> AsyncIterator[dict[str, Any]]:
            shown: dict[str, Any] | Response = first
            while isinstance(shown, dict):
                for row in shown[field]:
                    yield row
                if shown["next_cursor"] is None:
                    return
                shown = await page(shown["next_cursor"])

        return export_rows(rows(), columns, table_cells(columns), field)

    return answer

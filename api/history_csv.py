"""A history of stored events answered one way for every aggregate kind — a case's
(``/v1/cases/{case_ref}/history``) and any aggregate's (``/v1/audit/{kind}/{ref}/history``):
a page of it after a version (``cursor``), or all of it as CSV."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import StreamingResponse

from api.csv_export import Format, export_rows
from api.paging import page_after

HISTORY_CSV = (
    "version", "type", "kind", "occurred_at", "recorded_at", "event_id", "position",
    "caused_by", "data",
)  # fmt: skip


def history_cells(entry: dict[str, Any]) -> list[Any]:
    source = entry.get("source") or {}
    position = f"{source['topic']}:{source['partition']}:{source['offset']}" if source else None
    caused_by = entry.get("caused_by")
    return [
        entry["version"],
        entry["type"],
        entry["kind"],
        entry.get("occurred_at"),
        entry.get("recorded_at"),
        source.get("event_id"),
        position,
        orjson.dumps(caused_by).decode() if caused_by else None,
        orjson.dumps(entry["data"]).decode(),
    ]


def history_answer(
    events: list[dict[str, Any]], format: Format, cursor: str | None, limit: int, name: str
) -> StreamingResponse | dict[str, Any]:
    """Every event as CSV (``<name>.csv``), or the page after ``cursor``: ``events`` and
    ``next_cursor``, for the route's own answer model."""
    if format == "csv":
        return export_rows(events, HISTORY_CSV, history_cells, name)
    shown, next_cursor = page_after(events, lambda e: e["version"], cursor, limit)
    return {"events": shown, "next_cursor": next_cursor}

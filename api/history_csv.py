"""A history of stored events as CSV, one way for every aggregate kind: a case's
(``/v1/cases/{case_ref}/history``) and any aggregate's (``/v1/audit/{kind}/{ref}/history``)."""

from __future__ import annotations

from typing import Any

import orjson

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

"""What SQLite plans for the queries a read model asks: record them, then ask for the plan
of each (``EXPLAIN QUERY PLAN``), to prove a query reads the index it was made for."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.readstore import Params, ReadStore, Row

Asked = list[tuple[str, Params | None]]


def recording(store: ReadStore, monkeypatch: pytest.MonkeyPatch) -> Asked:
    """The queries ``store`` is asked from now on (for this test), in order."""
    asked: Asked = []
    query: Callable[..., list[Row]] = store.query

    def recorded(sql: str, params: Params | None = None) -> list[Row]:
        asked.append((sql, params))
        return query(sql, params)

    monkeypatch.setattr(store, "query", recorded)
    return asked


def plans(store: ReadStore, asked: Asked, table: str) -> list[str]:
    """SQLite's plan of each recorded query that reads ``table`` (its details joined)."""
    query = type(store).query
    return [
        " ".join(str(row["detail"]) for row in query(store, "EXPLAIN QUERY PLAN " + sql, params))
        for sql, params in asked
        if table in sql
    ]

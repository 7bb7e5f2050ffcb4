"""The event store's table written behind the application's back, on SQLite or PostgreSQL:
how the tamper and API tests damage stored history (tests/integration/test_tamper.py,
tests/integration/test_api_extremes.py)."""

from __future__ import annotations

import sqlite3
from typing import Any
from uuid import UUID

from journey.bootstrap import Runtime


class EventTable:
    """The event store's table, written behind the application's back."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.table: str = getattr(runtime.app.recorder, "events_table_name")  # noqa: B009

    def _run(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        settings = self.runtime.settings
        if settings.store_backend == "sqlite":
            lite = sqlite3.connect(settings.data_dir / "events.sqlite")
            try:
                with lite:
                    return lite.execute(sql.replace("%s", "?"), params).fetchall()
            finally:
                lite.close()
        import psycopg

        with psycopg.connect(
            settings.postgres_conninfo(), options=f"-c search_path={settings.postgres_schema}"
        ) as conn:
            cursor = conn.execute(sql.encode(), params)
            return cursor.fetchall() if cursor.description else []

    def _id(self, aggregate_id: UUID) -> str | UUID:
        # SQLite stores the id as hex text, PostgreSQL as uuid.
        return aggregate_id.hex if self.runtime.settings.store_backend == "sqlite" else aggregate_id

    def row(self, aggregate_id: UUID, version: int) -> tuple[str, bytes]:
        rows = self._run(
            f"SELECT topic, state FROM {self.table}"
            " WHERE originator_id = %s AND originator_version = %s",
            (self._id(aggregate_id), version),
        )
        return str(rows[0][0]), bytes(rows[0][1])

    def state(self, aggregate_id: UUID, version: int) -> bytes:
        return self.row(aggregate_id, version)[1]

    def insert(self, aggregate_id: UUID, version: int, topic: str, state: bytes) -> None:
        self._run(
            f"INSERT INTO {self.table} (originator_id, originator_version, topic, state)"
            " VALUES (%s, %s, %s, %s)",
            (self._id(aggregate_id), version, topic, state),
        )

    def set_state(self, aggregate_id: UUID, version: int, state: bytes) -> None:
        self._run(
            f"UPDATE {self.table} SET state = %s"
            " WHERE originator_id = %s AND originator_version = %s",
            (state, self._id(aggregate_id), version),
        )

    def delete(self, aggregate_id: UUID, version: int) -> None:
        self._run(
            f"DELETE FROM {self.table} WHERE originator_id = %s AND originator_version = %s",
            (self._id(aggregate_id), version),
        )

"""The parked index on PostgreSQL lists what waits as it does on SQLite
(tests/unit/test_lot_keeper.py), and forgets what the keeper dead-lettered."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.readstore import PostgresReadStore
from application.service import JourneyApplication
from tests.builders.parking import T0, WINDOW, Setting, index_lists_what_waits
from tests.services import PostgresServer


@pytest.mark.postgres
def test_the_index_on_postgres(
    postgres_server: PostgresServer, postgres_schema: str, app: JourneyApplication, tmp_path: Path
) -> None:
    import psycopg

    conninfo = psycopg.conninfo.make_conninfo(
        host=postgres_server.host,
        port=postgres_server.port,
        dbname=postgres_server.db,
        user=postgres_server.user,
        password=postgres_server.password,
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {postgres_schema}")
    made = Setting(app, tmp_path, PostgresReadStore(conninfo, postgres_schema, max_size=2))
    try:
        index_lists_what_waits(made)
        assert made.keeper.run_once(T0 + 2 * WINDOW) == 2
        made.project()
        assert made.index.count() == 0
    finally:
        made.store.close()

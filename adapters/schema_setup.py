"""Processes starting together (e.g. several ``journey ingest``) create the PostgreSQL
schema, tables and functions one at a time: PostgreSQL refuses concurrent ``CREATE OR
REPLACE FUNCTION`` ("tuple concurrently updated")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_SETUP_LOCK = 7_451_020_626  # any constant; names our schema-setup advisory lock


@contextmanager
def one_setup_at_a_time(conninfo: str, schema: str) -> Iterator[None]:
    """Holds the setup advisory lock, with ``schema`` created, while the block runs."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
        try:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))

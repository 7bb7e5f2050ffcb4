"""docs/read-models.md's SQL schema for BI equals what the projections create on
PostgreSQL (issue 15, item 7): every table, column, type, nullability and primary key,
read from PostgreSQL's catalogue (the SQLite side: tests/unit/test_read_model_schema_doc.py)."""

from __future__ import annotations

import os
from pathlib import Path
from unittest.mock import patch

from journey.bootstrap import build
from journey.settings import Settings
from tests.builders.schema_doc import (
    DOC,
    NOT_FOR_BI,
    Column,
    comparable,
    documented,
)
from tests.services import PostgresServer

COLUMNS = """
SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, k.ordinal_position AS pk
FROM information_schema.columns c
LEFT JOIN information_schema.table_constraints t
  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
 AND t.constraint_type = 'PRIMARY KEY'
LEFT JOIN information_schema.key_column_usage k
  ON k.constraint_name = t.constraint_name AND k.table_schema = c.table_schema
 AND k.table_name = c.table_name AND k.column_name = c.column_name
WHERE c.table_schema = :schema
ORDER BY c.table_name, c.ordinal_position
"""
TYPES = {"text": "TEXT", "integer": "INTEGER", "bigint": "BIGINT"}


def test_the_documented_schema_is_postgres_schema(
    tmp_path: Path, postgres_server: PostgresServer, postgres_schema: str
) -> None:
    env = {"JOURNEY_DATA_DIR": str(tmp_path), **postgres_server.settings_env(postgres_schema)}
    with patch.dict(os.environ, env):
        runtime = build(Settings())
    try:
        rows = runtime.read_models.quarantine.store.query(COLUMNS, {"schema": postgres_schema})
    finally:
        runtime.close()
    real: dict[str, list[Column]] = {}
    for row in rows:
        if row["table_name"] in NOT_FOR_BI:
            continue
        real.setdefault(row["table_name"], []).append(
            Column(
                row["column_name"],
                TYPES.get(row["data_type"]) or str(row["data_type"]),
                row["is_nullable"] == "YES" and not row["pk"],
                row["pk"] or 0,
                "",
            )
        )
    doc = comparable(documented(DOC.read_text()))
    created = comparable(real)
    assert sorted(doc) == sorted(created), "tables documented vs created"
    for table, columns in created.items():
        assert doc[table] == columns, table

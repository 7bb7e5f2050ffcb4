"""docs/read-models.md documents the read models' tables as a stable SQL schema for BI
tools (issue 15, item 7): this test compares every documented table, column, type,
nullability and primary key with the tables the projections create (SQLite), so the doc
cannot drift. A table in the read store that the doc leaves out fails it too, unless it is
one BI must never read (``NOT_FOR_BI``). PostgreSQL's catalogue is compared by
``tests/integration/test_read_model_schema_postgres.py``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from unittest.mock import patch

import pytest

from adapters.readstore import ReadStore
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.builders.schema_doc import (
    DOC,
    NOT_FOR_BI,
    SECTION,
    Column,
    comparable,
    documented,
)


def sqlite_schema(store: ReadStore) -> dict[str, list[Column]]:
    tables: dict[str, list[Column]] = {}
    for row in store.query("SELECT name FROM sqlite_master WHERE type = 'table'"):
        name = row["name"]
        if name in NOT_FOR_BI:
            continue
        tables[name] = [
            Column(c["name"], c["type"], not (c["notnull"] or c["pk"]), c["pk"], "")
            for c in store.query(f"PRAGMA table_info({name})")
        ]
    return tables


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    folder = tmp_path_factory.mktemp("schema-doc")
    env = {
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_DATA_DIR": str(folder / "data"),
    }
    with patch.dict(os.environ, env):
        made = build(Settings())
    yield made
    made.close()


def test_the_documented_schema_is_the_schema_the_projections_create(runtime: Runtime) -> None:
    store = runtime.read_models.quarantine.store
    doc = comparable(documented(DOC.read_text()))
    real = comparable(sqlite_schema(store))
    assert sorted(doc) == sorted(real), "tables documented vs created"
    for table, columns in real.items():
        assert doc[table] == columns, table


def test_every_documented_column_has_a_meaning_and_a_stability() -> None:
    text = DOC.read_text()
    tables = documented(text)
    assert len(tables) >= 20
    for table, columns in tables.items():
        assert columns, table
        for column in columns:
            assert column.stability in {"stable", "internal"}, (table, column)
    for line in text.split(SECTION, 1)[1].splitlines():
        if line.startswith("| `"):
            assert len([c for c in line.strip("|").split("|") if c.strip()]) >= 5, line

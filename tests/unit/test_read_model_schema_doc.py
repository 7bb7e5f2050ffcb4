"""docs/read-models.md documents the read models' tables as a stable SQL schema for BI
tools (issue 15, item 7): this test compares every documented table, column, type,
nullability and primary key with the tables the projections create (SQLite), so the doc
cannot drift. A table in the read store that the doc leaves out fails it too, unless it is
one BI must never read (``NOT_FOR_BI``). PostgreSQL's catalogue is compared by
``tests/integration/test_read_model_schema_postgres.py``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import pytest

from adapters.readstore import ReadStore
from journey.bootstrap import Runtime, build
from journey.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "read-models.md"
SECTION = "## The SQL schema, for BI tools"
NOT_FOR_BI = frozenset(
    {"customer_keys", "api_keys", "access_log", "journey_events", "journey_tracking"}
    | {"sqlite_sequence"}
)
"""Tables in the same store that are not read models: keys of personal data, API keys,
the access log, and on PostgreSQL the event store's own tables (docs: "Never on ...")."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    pk: int
    """Its place in the primary key (1, 2, ...), 0 if not in it."""
    stability: str


def documented(text: str) -> dict[str, list[Column]]:
    """Table → its columns, from the doc's section on the SQL schema."""
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    tables: dict[str, list[Column]] = {}
    current: list[str] = []
    for line in section.splitlines():
        if line.startswith("### "):
            current = re.findall(r"`([a-z0-9_]+)`", line)
            for name in current:
                tables[name] = []
        elif line.startswith("| `") and current:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            names = re.findall(r"`([a-z0-9_]+)`", cells[0])
            key = cells[3]
            pk = 0 if not key else int(key.split()[1]) if " " in key else 1
            for index, table in enumerate(current):
                name = names[index] if len(names) == len(current) else names[0]
                tables[table].append(
                    Column(name, cells[1], cells[2] == "yes", pk, cells[5].split()[0])
                )
    return tables


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


def comparable(tables: dict[str, list[Column]]) -> dict[str, list[tuple[str, str, bool, int]]]:
    return {
        table: [(c.name, c.type.upper(), c.nullable, c.pk) for c in columns]
        for table, columns in tables.items()
    }


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

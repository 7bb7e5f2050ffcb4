"""The SQL schema docs/read-models.md documents for BI, read back from the doc (issue 15,
item 7): compared with SQLite's tables by tests/unit/test_read_model_schema_doc.py and with
PostgreSQL's by tests/integration/test_read_model_schema_postgres.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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


def comparable(tables: dict[str, list[Column]]) -> dict[str, list[tuple[str, str, bool, int]]]:
    return {
        table: [(c.name, c.type.upper(), c.nullable, c.pk) for c in columns]
        for table, columns in tables.items()
    }

"""``domain/`` is pure (STYLE.md practice 1): it imports only the standard library,
``eventsourcing.domain`` and itself, never Kafka, FastAPI, SQL or the application."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "domain"


def is_allowed(module: str) -> bool:
    top = module.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or top in ("__future__", "domain")
        or module == "eventsourcing.domain"
        or module.startswith("eventsourcing.domain.")
    )


def forbidden_imports(path: Path) -> list[str]:
    """Each import of ``path`` that leaves the allowed set, as ``file:line: statement``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offences: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:  # relative: inside the domain package
                continue
            module = node.module or ""
            if module == "eventsourcing":
                names = [f"eventsourcing.{alias.name}" for alias in node.names]
            else:
                names = [module]
        else:
            continue
        for name in names:
            if not is_allowed(name):
                offences.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    return offences


def domain_files() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_domain_package_has_modules() -> None:
    names = {path.name for path in domain_files()}
    assert {"__init__.py", "case.py", "ids.py", "provenance.py", "errors.py"} <= names


@pytest.mark.parametrize("path", domain_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_domain_module_imports_only_stdlib_and_eventsourcing_domain(path: Path) -> None:
    offences = forbidden_imports(path)
    assert not offences, "domain/ must stay pure; forbidden imports:\n" + "\n".join(offences)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sqlite3\nimport orjson\n", ":2: import orjson"),
        ("from pydantic import BaseModel\n", ":1: from pydantic import BaseModel"),
        (
            "from eventsourcing.application import Application\n",
            ":1: from eventsourcing.application import Application",
        ),
        ("from eventsourcing import persistence\n", ":1: from eventsourcing import persistence"),
        (
            "from contracts.envelope import SourceEvent\n",
            ":1: from contracts.envelope import SourceEvent",
        ),
        ("def f():\n    import kafka\n", ":2: import kafka"),
        ("import os, fastapi\n", ":1: import os, fastapi"),
    ],
)
def test_checker_reports_file_and_offending_import(
    tmp_path: Path, source: str, expected: str
) -> None:
    path = tmp_path / "bad.py"
    path.write_text(source)

    assert forbidden_imports(path) == [f"{path}{expected}"]


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations\n",
        "import datetime, uuid\nfrom dataclasses import dataclass\n",
        "from eventsourcing.domain import Aggregate, event\n",
        "from eventsourcing import domain\n",
        "from domain.errors import DomainError\nfrom . import ids\n",
        "import collections.abc\n",
    ],
)
def test_checker_allows_stdlib_eventsourcing_domain_and_itself(tmp_path: Path, source: str) -> None:
    path = tmp_path / "good.py"
    path.write_text(source)

    assert forbidden_imports(path) == []

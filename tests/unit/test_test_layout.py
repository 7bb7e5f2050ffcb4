"""The test suite's own layout: no module under ``tests/`` imports a test module
(``test_*``) or a conftest.

Builders shared by test modules live in helper modules (``tests/builders``,
``tests/factories.py``, ``tests/services.py``, a tier's own helpers such as
``tests/unit/feeding.py`` or ``tests/integration/drive.py``) and fixtures shared by tiers
in plugins (``tests/fixtures``, registered by ``pytest_plugins`` in ``tests/conftest.py``).
A test module imported elsewhere ties its tests to the importer's (a test function or a
fixture imported is collected or defined twice), and a conftest is pytest's to load."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def modules() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(TESTS.parent).parent.parts)


def imported(tree: ast.AST, package: str) -> Iterator[tuple[int, str]]:
    """Every module name an import of ``tree`` names (and every name imported from a
    module, as ``module.name``: it may be a submodule), with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = node.module or ""
            if node.level:
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def forbidden(module: str) -> bool:
    return any(part.startswith("test_") or part == "conftest" for part in module.split("."))


def violations(source: str, package: str) -> list[tuple[int, str]]:
    return [(line, name) for line, name in imported(ast.parse(source), package) if forbidden(name)]


def test_no_module_of_the_suite_imports_a_test_module_or_a_conftest() -> None:
    found = {
        f"{path.relative_to(TESTS.parent)}:{line}": name  # the first name of each import
        for path in modules()
        for line, name in reversed(violations(path.read_text(encoding="utf-8"), package_of(path)))
    }
    assert found == {}, "\n".join(f"{where} imports {name}" for where, name in found.items())


def test_every_test_module_and_conftest_is_checked() -> None:
    names = {path.relative_to(TESTS).as_posix() for path in modules()}
    assert {"conftest.py", "unit/conftest.py", "integration/conftest.py"} <= names
    assert "unit/test_test_layout.py" in names
    assert sum(Path(name).name.startswith("test_") for name in names) > 50


@pytest.mark.parametrize(
    "source",
    [
        "from tests.unit.test_contact import Journey",
        "import tests.unit.test_contact",
        "import tests.unit.test_contact as contact",
        "from tests.unit import test_contact",
        "from . import test_contact",
        "from .test_contact import Journey",
        "from ..integration.test_erasure import publish_journeys",
        "from tests.conftest import PostgresServer",
        "from tests.unit.conftest import make_app",
        "from tests import conftest",
        "from .conftest import make_app",
        "import importlib\nimportlib.import_module('tests.unit.test_contact')",
        "def f():\n    from tests.e2e.conftest import Auth",
    ],
)
def test_an_import_of_a_test_module_or_a_conftest_is_found(source: str) -> None:
    assert violations(source, "tests.unit") != []


@pytest.mark.parametrize(
    "source",
    [
        "from tests.unit.feeding import Feed",
        "from tests.builders.ingest import batch",
        "from . import feeding",
        "from .through_handlers import Journey",
        "from tests.services import PostgresServer",
        "from fastapi.testclient import TestClient",
        "import unittest.mock",
        "from hypothesis.stateful import rule",
    ],
)
def test_an_import_of_a_helper_is_allowed(source: str) -> None:
    assert violations(source, "tests.unit") == []

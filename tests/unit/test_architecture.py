"""The shape of the code (issue 12): small modules outside ``domain/``, no ``assert
isinstance`` casts in production code, and a composition package that holds only the
composition root, settings and the CLI. The layer contract itself is import-linter's, run by
``make lint`` (``[tool.importlinter]`` in pyproject.toml)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = (
    "contracts",
    "adapters",
    "projections",
    "application",
    "consumers",
    "api",
    "tools",
    "journey",
)
MAX_LINES = 400


def production_modules() -> list[Path]:
    return sorted(p for layer in PRODUCTION for p in (ROOT / layer).rglob("*.py"))


def asserted_isinstance(path: Path) -> list[int]:
    """Lines of ``assert isinstance(...)``: a cast that ``python -O`` removes."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Assert)
        and isinstance(node.test, ast.Call)
        and isinstance(node.test.func, ast.Name)
        and node.test.func.id == "isinstance"
    ]


def test_every_layer_of_the_contract_is_a_production_folder() -> None:
    """The contract and this test name the same layers, so neither forgets a folder."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    named = {name.strip() for layer in layers for name in layer.split("|")}
    assert named == {*PRODUCTION, "domain"}
    folders = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert folders - {"tests", "bench"} == named


@pytest.mark.parametrize("path", production_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_production_modules_outside_the_domain_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_no_production_code_casts_with_assert_isinstance() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for path in production_modules()
        if (lines := asserted_isinstance(path))
    }
    assert found == {}


def test_the_finder_sees_an_assert_isinstance(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f(x: object) -> int:\n    assert isinstance(x, int)\n    return x\n")
    assert asserted_isinstance(sample) == [2]


def test_the_composition_package_holds_the_root_settings_and_the_cli_only() -> None:
    top = {p.name for p in (ROOT / "journey").iterdir() if p.name != "__pycache__"}
    assert top == {"__init__.py", "bootstrap.py", "settings.py", "cli"}

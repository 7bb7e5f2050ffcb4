"""Every library the shipped code imports is installed by ``make run``: a dependency of the
project itself (``[project] dependencies`` in pyproject.toml), or one of theirs, not only a
test tool (``dev``). The test tier installs ``dev`` too, so without this check a runtime
import of a test-only library passes every test and ``make run`` fails on a clean clone:
``journey`` imported httpx (``adapters.http_publisher``), which only ``dev`` installed."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SHIPPED = frozenset(
    pattern.rstrip("*")
    for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
)
"""The packages ``make run`` installs, as pyproject.toml lists them."""


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def runtime_closure() -> set[str]:
    """The project's runtime requirements and, recursively, theirs (with the extras asked
    for), as normalised distribution names."""
    pending = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()  # psycopg[binary] and psycopg[pool] differ
    while pending:
        requirement = pending.pop()
        asked = (_name(requirement.name), frozenset(requirement.extras))
        if asked in seen:
            continue
        seen.add(asked)
        for text in metadata.requires(requirement.name) or ():
            nested = Requirement(text)
            extras = requirement.extras or {""}
            if nested.marker is None or any(nested.marker.evaluate({"extra": e}) for e in extras):
                pending.append(nested)
    return {name for name, _ in seen}


def imported_distributions() -> dict[str, str]:
    """Each third-party distribution the shipped packages import, with one file that does."""
    owners = metadata.packages_distributions()
    found: dict[str, str] = {}
    for package in sorted(SHIPPED):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.partition(".")[0]
                    if top in sys.stdlib_module_names or top in SHIPPED:
                        continue
                    for distribution in owners.get(top, [top]):
                        found.setdefault(_name(distribution), str(path.relative_to(ROOT)))
    return found


def test_what_the_shipped_code_imports_is_a_runtime_dependency() -> None:
    runtime = runtime_closure()
    missing = {d: where for d, where in imported_distributions().items() if d not in runtime}
    assert not missing, f"imported, not installed by `make run` (add to dependencies): {missing}"


def test_the_check_sees_a_test_only_library() -> None:
    # The check can fail: pytest is installed here (dev) and no runtime dependency needs it.
    runtime = runtime_closure()
    assert "pytest" not in runtime
    assert "starlette" in runtime  # fastapi's, found through it

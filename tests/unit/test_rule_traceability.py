"""Every service rule can be traced to its code and its proof: ``docs/rules.md`` has one
row per rule of ``SOP_RULES.md``, and what a row names exists and names the rule."""

from __future__ import annotations

import ast
import os
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULE = re.compile(r"R-[A-Z]+-\d+")
ROW = re.compile(r"^\| (R-[A-Z]+-\d+) \| (\w[\w ]*) \| .*? \| (.*) \| (.*) \|$")
LOCATION = re.compile(r"`([\w/]+\.py): ([\w.]+)`")
TEST_FILE = re.compile(r"`([\w/]+\.py)`")


def sop_rules() -> list[str]:
    shared = Path(os.environ.get("JOURNEY_SHARED", ROOT.parent / "shared"))
    path = shared / "SOP_RULES.md"
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: the rules cannot be checked")
        pytest.skip(f"{path} is not here (the team's shared folder)")
    return sorted(set(RULE.findall(path.read_text())))


@cache
def rows() -> dict[str, tuple[str, str, str]]:
    found: dict[str, tuple[str, str, str]] = {}
    for line in (ROOT / "docs/rules.md").read_text().splitlines():
        match = ROW.match(line)
        if match:
            rule, owner, where, tests = match.groups()
            assert rule not in found, f"{rule} has two rows"
            found[rule] = (owner, where, tests)
    return found


def source_of(path: str, qualname: str) -> str:
    """The source of the function or class ``qualname`` (dotted) in ``path``."""
    text = (ROOT / path).read_text()
    nodes: list[ast.AST] = [ast.parse(text)]
    for name in qualname.split("."):
        children: list[ast.AST] = [
            child
            for node in nodes
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and child.name == name
        ]
        assert children, f"{path} has no {qualname}"
        nodes = children
    return "\n".join(ast.get_source_segment(text, node) or "" for node in nodes)


def test_every_rule_has_exactly_one_row() -> None:
    assert sorted(rows()) == sop_rules()


@pytest.mark.parametrize("rule", sorted(rows()))
def test_the_named_code_names_the_rule(rule: str) -> None:
    owner, where, _ = rows()[rule]
    locations = LOCATION.findall(where)
    assert locations, f"{rule}: no code named"
    for path, qualname in locations:
        assert rule in source_of(path, qualname), f"{path}: {qualname} does not name {rule}"
    if owner == "domain":
        assert any(path.startswith("domain/") for path, _ in locations), rule


@pytest.mark.parametrize("rule", sorted(rows()))
def test_the_listed_tests_name_the_rule(rule: str) -> None:
    owner, _, tests = rows()[rule]
    files = TEST_FILE.findall(tests)
    assert files, f"{rule}: no test named"
    slug = rule.lower().replace("-", "_")
    for name in files:
        text = (ROOT / "tests" / name).read_text()
        assert rule in text or slug in text, f"tests/{name} does not name {rule}"
    if owner == "domain":
        assert any(name.startswith("unit/") for name in files), f"{rule}: no unit test"

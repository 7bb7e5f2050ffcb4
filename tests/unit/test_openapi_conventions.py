"""The API's conventions, read from its OpenAPI document (issue 15, item 6): every answer
typed, operation ids that say what they do (unique, snake_case), one tag per audience, one
pagination style (a cursor), CSV beside the lists that are tables."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from api.main import create_api
from api.routing import AUDIENCES
from journey.bootstrap import build
from journey.settings import Settings

SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
VERBS = (
    "get", "list", "explain", "verify", "replay", "draw", "create", "revoke", "erase",
    "start", "publish", "check", "count",
)  # fmt: skip
NOT_JSON = {"/metrics"}
"""Answers that are not JSON by their nature (the Prometheus text format)."""


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder: Path = tmp_path_factory.mktemp("openapi")
    env = {
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_DATA_DIR": str(folder / "data"),
    }
    with patch.dict(os.environ, env):
        runtime = build(Settings())
    yield create_api(runtime, workers=set()).openapi()
    runtime.close()


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def component(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    assert ref.startswith("#/components/schemas/"), schema
    return dict(openapi["components"]["schemas"][ref.rsplit("/", 1)[1]])


def test_no_answer_is_untyped(openapi: dict[str, Any]) -> None:
    """Every 2xx JSON answer is a named schema with its properties listed."""
    checked = 0
    for method, path, operation in operations(openapi):
        for status, answer in operation["responses"].items():
            if not status.startswith("2") or path in NOT_JSON:
                continue
            schema = answer["content"]["application/json"]["schema"]
            named = component(openapi, schema)
            assert named.get("type") == "object", (method, path)
            assert named.get("properties"), (method, path)
            checked += 1
    assert checked >= 35


def test_operation_ids_say_what_they_do_unique_and_snake_case(openapi: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(openapi)]
    assert len(ids) == len(set(ids)), sorted(ids)
    for operation_id in ids:
        assert SNAKE.fullmatch(operation_id), operation_id
        assert operation_id.split("_")[0] in VERBS, operation_id


def test_one_tag_per_audience(openapi: dict[str, Any]) -> None:
    assert [tag["name"] for tag in openapi["tags"]] == list(AUDIENCES)
    for method, path, operation in operations(openapi):
        [tag] = operation["tags"]
        assert tag in AUDIENCES, (method, path)


def test_one_pagination_style_a_cursor(openapi: dict[str, Any]) -> None:
    """No offset, page number or ``after``: a paged list takes ``cursor`` and ``limit`` and
    answers ``next_cursor``."""
    paged = 0
    for method, path, operation in operations(openapi):
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert not names & {"offset", "page", "page_size", "after", "skip"}, (method, path)
        if "cursor" in names:
            paged += 1
            answer = operation["responses"].get("200", {}).get("content", {})
            schema = component(openapi, answer["application/json"]["schema"])
            assert "next_cursor" in schema["properties"], (method, path)
            assert "limit" in names, (method, path)
    assert paged >= 10


def test_lists_and_tables_export_csv(openapi: dict[str, Any]) -> None:
    """Every read whose answer holds a list of rows answers it as CSV too (``format=csv``):
    found from the schema, so a new list cannot escape."""
    tables = 0
    for method, path, operation in operations(openapi):
        answer = operation["responses"].get("200", {}).get("content", {})
        if method != "get" or "application/json" not in answer:
            continue
        schema = component(openapi, answer["application/json"]["schema"])
        lists = [
            name
            for name, field in schema["properties"].items()
            if field.get("type") == "array" and "$ref" in field.get("items", {})
        ]
        if len(lists) != 1 and not path.endswith(("/history", "/what-if")):
            continue  # not a table (the customer 360 is a view of several lists)
        tables += 1
        names = {p["name"] for p in operation["parameters"]}
        assert "format" in names, path
        assert "text/csv" in answer, path
    assert tables >= 18

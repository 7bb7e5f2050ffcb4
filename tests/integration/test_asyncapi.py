"""The channels' Kafka contract (issue 17, item 8): the AsyncAPI document the service
serves is valid against AsyncAPI's own JSON Schema (3.0.0, from the npm package
@asyncapi/specs that scripts/asyncapi_spec.sh fetches), names every event type of the
registry on its family's topic with the deployment's addresses, and describes the
dead-letter topic; every event type's JSON Schema is served, and a valid example of it
validates against it while a broken one does not. Without the AsyncAPI schema file these
tests fail in CI (CI=true) and skip elsewhere."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from api.main import create_api
from contracts.asyncapi import event_json_schema
from contracts.schemas import EVENT_TYPES
from journey.bootstrap import Runtime

ROOT = Path(__file__).resolve().parents[2]


def asyncapi_schema() -> dict[str, Any]:
    given = os.environ.get("JOURNEY_TEST_ASYNCAPI_SCHEMA")
    found = sorted((ROOT / ".run" / "asyncapi").glob("*/package/schemas/3.0.0-without-$id.json"))
    path = Path(given) if given else (found[-1] if found else None)
    if path is None or not path.is_file():
        reason = "the AsyncAPI JSON Schema is missing (scripts/asyncapi_spec.sh fetches it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; it is required in CI")
        pytest.skip(reason)
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def client(runtime: Runtime) -> Iterator[tuple[TestClient, dict[str, str]]]:
    key = runtime.api_keys.create("channel").secret_text
    with TestClient(create_api(runtime, workers=set())) as made:
        yield made, {"Authorization": f"Bearer {key}"}


def test_the_asyncapi_document_is_valid_and_covers_every_event_type(
    runtime: Runtime, client: tuple[TestClient, dict[str, str]]
) -> None:
    http, auth = client
    answer = http.get("/v1/schemas/asyncapi", headers=auth)
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    validator = jsonschema.Draft7Validator(asyncapi_schema())
    assert [e.message for e in validator.iter_errors(doc)] == []

    listed = {
        name: channel["address"]
        for channel in doc["channels"].values()
        for name in channel["messages"]
    }
    expected = {t.name: runtime.topics.for_type(t.name) for t in EVENT_TYPES}
    assert {k: v for k, v in listed.items() if k != "dead_letter"} == expected
    assert listed["dead_letter"] == runtime.topics.dead_letters
    assert "R-<rule>" in doc["channels"]["dead_letters"]["description"]
    # The validator does refuse a broken document (it is not vacuous).
    broken = {**doc, "operations": {"x": {"action": "publish", "channel": {}}}}
    assert list(validator.iter_errors(broken))


def test_the_event_types_are_listed_and_an_unknown_one_is_a_404(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    http, auth = client
    items = http.get("/v1/schemas/events", headers=auth).json()["items"]
    assert sorted(i["type"] for i in items) == sorted(t.name for t in EVENT_TYPES)
    served = http.get("/v1/schemas/events/contact.opened", headers=auth).json()
    assert served == event_json_schema(EVENT_TYPES["contact.opened"])
    missing = http.get("/v1/schemas/events/contact.teleported", headers=auth)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert http.get("/v1/schemas/asyncapi").status_code == 401

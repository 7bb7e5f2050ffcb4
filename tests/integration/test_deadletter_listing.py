"""Listing dead letters (issue 13, items 9 and 10), on every pairing of log and store:
records of any shape are listed without crashing, masked or opaque, never in clear."""

from __future__ import annotations

import os
from typing import Any
from unittest.mock import patch

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.sourcelog.base import OutgoingRecord
from api.main import create_api
from journey.bootstrap import Runtime
from journey.cli import main
from tests.factories import contact_opened, unique
from tests.integration.drive import env_of, ingest_everything

DEPTH = 500


def deeply(opening: bytes, middle: bytes, closing: bytes) -> bytes:
    return opening * DEPTH + middle + closing * DEPTH


def cli_list(runtime: Runtime, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    with patch.dict(os.environ, env_of(runtime.settings)):
        code = main(["deadletters", "list", "--json", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return orjson.loads(captured.out)


def test_records_nested_hundreds_deep_or_not_json_are_listed_opaque(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = unique("c-deep-")
    topic = runtime.topics.for_type("contact.opened")
    envelope = orjson.dumps(contact_opened(customer_id=customer))
    nested_field = envelope[:-1] + b',"extra":' + deeply(b'{"a":', b'"Deep Secret"', b"}") + b"}"
    keyed = [
        deeply(b"[", b"", b"]"),
        deeply(b'{"a":', b"1", b"}"),
        nested_field,
        deeply(b"[", b'"Deep Secret"', b"]") * 3,  # deeper than the JSON parser reads
    ]
    keyless = b'{"name": "Deep Secret", "phone": "+86 139 0000'  # cut short, and no key
    runtime.publisher.publish_many(
        [
            *(OutgoingRecord(topic, customer.encode(), body) for body in keyed),
            OutgoingRecord(topic, None, keyless),
        ]
    )
    ingest_everything(runtime)

    admin = {"Authorization": f"Bearer {runtime.api_keys.create('admin').secret_text}"}
    with TestClient(create_api(runtime, workers=set())) as client:
        answer = client.get("/v1/admin/deadletters", headers=admin)
    assert answer.status_code == 200, answer.text
    items = {item["original_bytes"]: item for item in answer.json()["items"]}
    assert sorted(items) == sorted(len(body) for body in [*keyed, keyless])
    assert "Deep Secret" not in answer.text
    assert "139" not in answer.text
    assert {item["original_shown"] for item in items.values()} == {"opaque"}
    # What the bytes tell beyond their depth is still read: the envelope's event id.
    assert items[len(nested_field)]["event_id"] == orjson.loads(envelope)["event_id"]
    assert items[len(keyless)]["original"] == '{"•••": "••• •••", "•••": "+••• ••• •••'

    listed = cli_list(runtime, capsys)
    assert sorted(letter["original_bytes"] for letter in listed["dead_letters"]) == sorted(items)
    assert "Deep Secret" not in orjson.dumps(listed).decode()

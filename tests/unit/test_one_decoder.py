"""One decoder for every path (issue 13, items 4 and 6): the ingest from the log and the
HTTP edge judge a record by the same strict JSON and the same text rules, and any bytes
give a source event or a refusal naming the field, never another exception."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import InvalidEvent, SourceEvent, control_characters, decode
from tests.factories import contact_opened

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LIMITS: dict[str, Any] = {"now": NOW, "max_future": timedelta(minutes=5), "max_bytes": 65536}


def refusal(raw: bytes) -> str:
    with pytest.raises(InvalidEvent) as refused:
        decode(raw, **LIMITS)
    return str(refused.value)


def test_a_key_written_twice_is_refused_on_the_log_as_over_http() -> None:
    """orjson keeps the last ``customer_id``: a record keyed for one customer would be
    applied to another."""
    body = orjson.dumps(contact_opened(customer_id="cust-a")).decode()
    twice = body[:-1] + ', "customer_id": "cust-b"}'
    assert orjson.loads(twice)["customer_id"] == "cust-b"
    assert refusal(twice.encode()) == "body: not JSON: duplicate key 'customer_id' in an object"


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (lambda b: b.update(event_id="ev\x00-1"), "event_id"),
        (lambda b: b.update(customer_id="cust\x1b[31m"), "customer_id"),
        (lambda b: b["data"].update(contact_id="ct\x7f"), "data.contact_id"),
        (lambda b: b["data"].update({"x\x00": 1}), "data"),
    ],
    ids=["NUL in an id", "escape in an id", "DEL in data", "NUL in a key"],
)
def test_control_characters_are_refused_naming_the_field(where: Any, field: str) -> None:
    body = contact_opened()
    where(body)
    assert refusal(orjson.dumps(body)).startswith(f"{field}: ")


def test_tabs_and_line_breaks_in_text_are_kept() -> None:
    assert control_characters({"note": ["line one\nline two\tand a tab\r\n"]}) == []
    assert [str(p) for p in control_characters({"note": ["ok", "b\x00"]})] == [
        "note.1: control character U+0000 not allowed"
    ]


def test_nesting_beyond_what_a_parser_holds_is_refused_not_raised() -> None:
    assert refusal(b"[" * 5000 + b"]" * 5000).startswith("body: not JSON")
    deep = b'{"a":' * 600 + b"1" + b"}" * 600
    assert refusal(deep)  # refused (for its missing fields), not raised


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_an_event_or_a_refusal(raw: bytes) -> None:
    with contextlib.suppress(InvalidEvent):
        assert isinstance(decode(raw, **LIMITS), SourceEvent)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(contact_opened())), json_values), json_values)
def test_any_json_shaped_like_an_envelope_gives_an_event_or_a_refusal(
    fields: dict[str, Any], data: Any
) -> None:
    body = contact_opened() | fields
    body["data"] = data if isinstance(data, dict) else body["data"]
    with contextlib.suppress(InvalidEvent):
        decode(json.dumps(body).encode(), **LIMITS)

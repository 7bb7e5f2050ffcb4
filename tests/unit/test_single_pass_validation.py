"""Validation without a second pass (issue 18): the shortcuts that spare the stdlib's
second parse (duplicate keys) and the walk for control characters decide exactly as the
full checks do, on any JSON text, including keys written twice, colons in strings and
escapes that write a colon or a control character."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import control_characters, may_hold_controls
from contracts.strict_json import DuplicateKey, _no_duplicates, no_key_dropped, strict_json

# Strings likely to hold what matters here: colons, escapes, controls, DEL, non-ASCII.
texts = st.text(alphabet=st.sampled_from(list('ab:"\\\x00\x01\x1f\x7f\té€:')), max_size=6)


@st.composite
def json_texts(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text, its objects written member by member, so a key may come twice; each
    string written with or without ``\\u`` escapes."""

    def string(value: str) -> str:
        return json.dumps(value, ensure_ascii=draw(st.booleans()))

    kind = draw(
        st.sampled_from(
            ["scalar", "string", "list", "object"] if depth < 3 else ["scalar", "string"]
        )
    )
    if kind == "scalar":
        return draw(st.sampled_from(["1", "-2.5e3", "true", "null", "0"]))
    if kind == "string":
        return string(draw(texts))
    if kind == "list":
        items = draw(st.lists(json_texts(depth + 1), max_size=3))
        return "[" + ",".join(items) + "]"
    keys: list[str] = draw(st.lists(texts, max_size=4))
    twice: bool = draw(st.booleans())
    if keys and twice:
        keys.append(draw(st.sampled_from(keys)))  # a key written twice
    members = [f"{string(k)}:{draw(json_texts(depth + 1))}" for k in keys]
    return "{" + ",".join(members) + "}"


def reference(body: bytes) -> Any:
    """What strict_json decided before: orjson, then always the stdlib's second parse."""
    value = orjson.loads(body)
    if isinstance(value, dict | list):
        json.loads(body.decode(), object_pairs_hook=_no_duplicates)
    return value


@settings(max_examples=1500, deadline=None)
@given(json_texts())
def test_strict_json_decides_as_the_second_parse_did(text: str) -> None:
    body = text.encode()
    try:
        expected = reference(body)
    except DuplicateKey:
        with pytest.raises(ValueError, match="duplicate key"):
            strict_json(body)
        assert not no_key_dropped(body, orjson.loads(body))
        return
    assert strict_json(body) == expected


@settings(max_examples=1500, deadline=None)
@given(json_texts())
def test_without_a_backslash_or_del_no_string_holds_a_control_character(text: str) -> None:
    body = text.encode()
    if not may_hold_controls(body):
        assert control_characters(orjson.loads(body)) == []


def test_the_shortcut_takes_the_common_case_and_leaves_the_rest() -> None:
    assert no_key_dropped(
        b'{"a":"10:00","b":{"c:d":[1]}}', orjson.loads(b'{"a":"10:00","b":{"c:d":[1]}}')
    )
    twice = b'{"a":"x:y","a":"z"}'
    assert not no_key_dropped(twice, orjson.loads(twice))
    escaped = b'{"a":"\\u003a","a":1}'
    assert not no_key_dropped(escaped, orjson.loads(escaped))  # unsure: parsed again
    assert may_hold_controls(b'{"a":"\\u0000"}')
    assert may_hold_controls(b'{"a":"\x7f"}')

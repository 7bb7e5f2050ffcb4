"""How refused records are shown (adapters/privacy/records.py): personal fields masked at any
depth a source event has, records nested deeper shown opaque without walking them whole."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from adapters.privacy.records import MASK, MAX_DEPTH, masked, opaque, shown


def test_personal_fields_are_masked_wherever_they_are() -> None:
    record = {
        "data": {
            "personal": {"name": "Li Wei", "nmae": "Li Wei", "email": None},
            "changes": {"address": "88 Nanjing Rd"},
            "items": [{"member_id": "m-1", "sku": "KT-1"}],
            "note": "call after 18:00, ask for Li",
        }
    }
    assert masked(record) == {
        "data": {
            "personal": {"name": MASK, "nmae": MASK, "email": None},
            "changes": {"address": MASK},
            "items": [{"member_id": MASK, "sku": "KT-1"}],
            "note": MASK,
        }
    }


def test_a_record_nested_deeper_than_any_event_is_opaque() -> None:
    for raw in (
        b"[" * 500 + b"]" * 500,
        b'{"a":' * 500 + b'"Li Wei"' + b"}" * 500,
        b"[" * 5000 + b"]" * 5000,  # deeper than the JSON parser itself reads
    ):
        text, how = shown(raw)
        assert how == "opaque"
        assert "Li" not in text
    just_deep_enough = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert shown(just_deep_enough) == (just_deep_enough.decode(), "masked")


def test_bytes_that_are_not_json_are_opaque() -> None:
    """They cannot be masked field by field, and nothing ties them reliably to a customer
    (a key can be absent or another customer's): no role sees them in clear."""
    cut = b'{"name": "Li Wei", "phone": "+86 138'
    for raw in (b"{not json", cut, "李伟".encode(), b"\xff\xfe"):
        text, how = shown(raw)
        assert how == "opaque"
        assert [word for word in ("Li", "138", "李") if word in text] == []


def test_opaque_keeps_the_shape_and_nothing_of_the_content() -> None:
    raw = '{"name":"Mei Lin-Wu","phone":"+86 139 5555","city":"杭州"'.encode() + b"\xff"
    assert opaque(raw) == '{"•••":"••• •••-•••","•••":"+••• ••• •••","•••":"•••"•••'


@given(st.text())
def test_opaque_shows_no_letter_or_digit(text: str) -> None:
    assert not any(c.isalnum() for c in opaque(text.encode()))


SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
)


@given(JSON)
def test_any_json_is_shown_masked_or_opaque_without_error(value: object) -> None:
    text, how = shown(orjson.dumps(value))
    assert how in {"masked", "opaque"}
    assert isinstance(text, str)

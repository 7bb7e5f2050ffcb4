"""One orjson encode per stored event (issue 18) writes exactly the bytes eventsourcing's
stdlib encoder wrote: on any value (hypothesis), and on every event of the golden store
written at d0a78b9, so old stores and new ones hold one form, and both decode alike."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.transcoding import FastJSONTranscoder
from application.service import JourneyApplication
from domain.provenance import SourceRef

STORED = Path(__file__).resolve().parents[1] / "fixtures" / "events-d0a78b9.sqlite"


def transcoders() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    """The stdlib transcoder and ours, with the same transcodings registered."""
    app = JourneyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stdlib = JSONTranscoder()
    app.register_transcodings(stdlib)
    fast = app.mapper.transcoder
    assert isinstance(fast, FastJSONTranscoder)
    return stdlib, fast


STDLIB, FAST = transcoders()


def outcome(step: Callable[[Any], Any], value: Any) -> tuple[str, Any]:
    """What one transcoder's ``encode`` or ``decode`` gives for ``value``, or the kind of
    error it raises."""
    try:
        return ("gave", step(value))
    except Exception as error:
        return ("raised", type(error).__name__)


leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**64 + 2)
    | st.floats()
    | st.text()
    | st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2030), max_size=8)
    | st.uuids()
    | st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-5))]))
    | st.decimals(allow_nan=False)
    | st.timedeltas()
    | st.builds(
        SourceRef,
        st.text(max_size=8),
        st.text(max_size=8),
        st.integers(0, 99),
        st.integers(0, 2**40),
    )
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.dictionaries(st.integers(), inner, max_size=2)
    ),
    max_leaves=25,
)


@settings(max_examples=2000, deadline=None)
@given(st.dictionaries(st.text(max_size=10), values, max_size=6))
def test_the_fast_encoder_writes_the_stdlib_encoders_bytes(state: dict[str, Any]) -> None:
    assert outcome(FAST.encode, state) == outcome(STDLIB.encode, state)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=10), values, max_size=6))
def test_what_either_writes_decodes_the_same(state: dict[str, Any]) -> None:
    try:
        stored = STDLIB.encode(state)
    except Exception:
        return
    assert FAST.decode(FAST.encode(state)) == STDLIB.decode(stored) == FAST.decode(stored)


def test_every_event_of_the_golden_store_encodes_to_its_stored_bytes(tmp_path: Path) -> None:
    """The store written at d0a78b9 (stdlib encoder): each event's state, decoded and
    encoded again with the fast encoder, is the very bytes stored. (Read from a copy:
    opening it in place would leave SQLite's -wal and -shm files beside the fixture.)"""
    copy = tmp_path / "golden.sqlite"
    shutil.copyfile(STORED, copy)
    conn = sqlite3.connect(copy)
    try:
        rows = conn.execute("SELECT state FROM stored_events").fetchall()
    finally:
        conn.close()
    assert len(rows) > 500
    for (state,) in rows:
        assert FAST.encode(FAST.decode(state)) == state


@pytest.mark.parametrize(
    "value",
    [
        {"when": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "id": UUID(int=7)},
        {"amount": Decimal("12.50"), "took": timedelta(hours=2), "note": 'a "q" \n\x01é'},
        {"tuple": (1, "a"), "nested": [{"x": [None, True]}]},
    ],
)
def test_typical_states_take_the_fast_path(value: dict[str, Any]) -> None:
    assert FAST._plain(value) is not None
    assert FAST.encode(value) == STDLIB.encode(value)
    assert json.loads(FAST.encode(value))  # plain JSON


# Stored bytes of any shape, not only what an encoder writes: objects whose keys are often
# the transcodings' markers, with the registered names (and others) and data of any kind.
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**64 + 2)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        ["datetime_iso", "uuid_hex", "decimal_str", "timedelta_us", "source_ref", "nope"]
    )
    | st.sampled_from(["2026-01-02T03:04:05+00:00", "0" * 32, "12.50", "not a value"])
    | st.text(max_size=6)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["_type_", "_data_", "k", "event_id"]), inner, max_size=3)
        | st.fixed_dictionaries({"_type_": inner, "_data_": inner}, optional={"k": inner})
    ),
    max_leaves=12,
)


@settings(max_examples=3000, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=4))
@example({"v": {"_type_": "uuid_hex", "_data_": "0" * 32, "k": 1}})  # a marker, not a value
@example({"v": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"}})
def test_any_stored_bytes_decode_as_the_stdlib_decoder_decodes_them(
    state: dict[str, Any],
) -> None:
    """Issue 18: the fast decoder's shortcut for registered values nested in a stored
    event decides as the stdlib decoder does: the same value, of the same types (``repr``:
    an amount is not a float, an id not a text), or an error in both. Unlike the round
    trips above (test_notification_reader.py too), the bytes here are not an encoder's."""
    data = json.dumps(state).encode()
    expected = outcome(STDLIB.decode, data)
    got = outcome(FAST.decode, data)
    assert got == expected
    assert repr(got) == repr(expected)

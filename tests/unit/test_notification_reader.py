"""The notification reader's fast decoder gives exactly what the event store's mapper gives,
and leaves every case it cannot decode (unknown events included) to the mapper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import JSONTranscoder, Notification
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.fast_decoding import FastDecoder
from adapters.transcoding import FastJSONTranscoder
from application.service import JourneyApplication
from domain.provenance import SourceRef
from projections.runner import NotificationReader, UnknownEvent
from tests.unit.complaint_specs import SPECS, ingest


@cache
def _codecs() -> tuple[JSONTranscoder, FastJSONTranscoder, FastDecoder]:
    """eventsourcing's stdlib transcoder and the application's, both with the
    application's transcodings, and the reader's fast decoder over the latter."""
    app = JourneyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    plain = JSONTranscoder()
    app.register_transcodings(plain)
    fast = app.mapper.transcoder
    assert isinstance(fast, FastJSONTranscoder)
    return plain, fast, FastDecoder(fast)


_zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))])
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.datetimes(timezones=_zones),
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.timedeltas(),
    st.builds(SourceRef, st.text(), st.text(), st.integers(0, 99), st.integers(0, 2**40)),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["_type_", "_data_", "a", "b", "c"]), inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_the_application_transcoder_reads_and_writes_as_the_stdlib_one(
    state: dict[str, Any],
) -> None:
    """The stored format is unchanged: the same bytes written, and what either wrote reads
    the same with either (or fails with both)."""
    plain, fast, _ = _codecs()
    try:
        stored = plain.encode(state)
    except Exception:
        with pytest.raises(Exception):  # noqa: B017, PT011
            fast.encode(state)
        return
    assert fast.encode(state) == stored
    try:
        expected = plain.decode(stored)
    except Exception as error:
        with pytest.raises(type(error)):
            fast.decode(stored)
        return
    decoded = fast.decode(stored)
    assert decoded == expected
    assert _types(decoded) == _types(expected)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_fast_decoding_equals_the_transcoder_for_any_state(state: dict[str, Any]) -> None:
    plain, _, reader_fast = _codecs()
    try:
        stored = plain.encode(state)
    except Exception:
        return
    try:
        expected = plain.decode(stored)
    except Exception:
        # e.g. a plain dict with "_type_" and "_data_" keys: the mapper cannot decode it
        # either; the fast decoder must not make something of it.
        with pytest.raises(Exception):  # noqa: B017, PT011
            reader_fast.event(_notification(stored))
        return
    try:
        decoded = reader_fast.event(_notification(stored)).__dict__
    except Exception:
        return  # the reader then asks the mapper (tested below)
    for key in ("originator_id", "originator_version"):
        expected[key] = decoded[key]
    assert decoded == expected
    assert _types(decoded) == _types(expected)


def test_what_orjson_reads_otherwise_the_stdlib_decoder_reads() -> None:
    _, fast, _ = _codecs()
    big = b'{"big":-9223372036854775809,"list":[18446744073709551616]}'
    assert isinstance(orjson.loads(big)["big"], float)
    assert fast.decode(big) == {"big": -9223372036854775809, "list": [18446744073709551616]}
    assert fast.decode(b"123456789012345678901234567890") == 123456789012345678901234567890
    nan = fast.decode(b'{"nan":NaN}')["nan"]
    assert nan != nan


def _notification(state: bytes) -> Notification:
    return Notification(
        id=1,
        originator_id=UUID(int=1),
        originator_version=1,
        topic="domain.provenance:SourceRef",  # any class: the state is what is tested
        state=state,
    )


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value)


def test_reader_decodes_the_store_as_the_mapper_does(app: JourneyApplication) -> None:
    ingest(app, SPECS)
    reader = NotificationReader(app.process_recorder, app.mapper)
    stored = app.process_recorder.select_notifications(start=None, limit=1000)
    assert stored
    read = reader.read(0, 1000, strict=True)
    assert [nid for nid, _ in read] == [n.id for n in stored]
    for (_, event), notification in zip(read, stored, strict=True):
        expected = app.mapper.to_domain_event(notification)
        assert type(event) is type(expected)
        assert event.__dict__ == expected.__dict__
        assert _types(event.__dict__) == _types(expected.__dict__)


def _like(notification: Notification, state: bytes, topic: str | None = None) -> Notification:
    return Notification(
        id=notification.id,
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=topic or notification.topic,
        state=state,
    )


def test_what_orjson_refuses_is_decoded_by_the_mapper(app: JourneyApplication) -> None:
    """NaN and integers beyond 64 bits: the stdlib decoder reads them; orjson refuses NaN
    and would read such an integer as a float."""
    ingest(app, SPECS[:1])
    reader = NotificationReader(app.process_recorder, app.mapper)
    first = app.process_recorder.select_notifications(start=None, limit=1)[0]
    state = orjson.loads(first.state)
    big = orjson.dumps(state)[:-1] + b',"big":-9223372036854775809}'
    assert isinstance(orjson.loads(big)["big"], float)
    _, event = reader._decode(_like(first, big), strict=True)
    assert event.big == -9223372036854775809
    nan = orjson.dumps(state)[:-1] + b',"nan":NaN}'
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(nan)
    _, event = reader._decode(_like(first, nan), strict=True)
    assert event.nan != event.nan
    assert isinstance(event.originator_id, UUID)


def test_unknown_events_stay_strict_in_a_rebuild_and_lenient_live(app: JourneyApplication) -> None:
    ingest(app, SPECS[:1])
    first = app.process_recorder.select_notifications(start=None, limit=1)[0]
    unknown = _like(first, first.state, topic="domain.case:Case.FromTheFuture")
    seen: list[UnknownEvent] = []
    reader = NotificationReader(app.process_recorder, app.mapper, on_unknown=seen.append)
    with pytest.raises(UnknownEvent):
        reader._decode(unknown, strict=True)
    assert reader._decode(unknown, strict=False) == (first.id, None)
    assert reader.unknown == 1
    assert len(seen) == 1


def test_fast_decoder_only_without_cipher_or_compressor(app: JourneyApplication) -> None:
    assert FastDecoder.for_mapper(app.mapper) is not None
    ciphered = JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.popo",
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    )
    assert FastDecoder.for_mapper(ciphered.mapper) is None


def test_known_transcodings_decode_to_their_types() -> None:
    at = datetime(2026, 3, 6, 20, 9, 22, tzinfo=timezone(timedelta(hours=8)))
    state = {
        "at": at,
        "id": UUID(int=7),
        "amount": Decimal("12.30"),
        "actual": timedelta(seconds=153),
        "source": SourceRef("ev-1", "t", 1, 2),
        "nested": [{"at": at}],
    }
    plain, fast, _ = _codecs()
    decoded = fast.decode(plain.encode(state))
    assert decoded == state
    assert str(decoded["amount"]) == "12.30"

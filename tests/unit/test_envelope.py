"""Source-event envelope validation (DESIGN.md "Source event envelope").

A record is either decoded into a ``SourceEvent`` or refused with ``InvalidEvent`` whose
problems name the field at fault; never any other exception.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import InvalidEvent, SourceEvent, decode
from contracts.schemas.contacts import ContactOpened, ContactOpenedV1

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
MAX_FUTURE = timedelta(minutes=5)
MAX_BYTES = 4096


def envelope(**changes: Any) -> dict[str, Any]:
    """A valid ``contact.opened`` v1 envelope, with top-level fields replaced by
    ``changes`` (a value of ``...`` removes the field)."""
    body: dict[str, Any] = {
        "event_id": "evt-1",
        "type": "contact.opened",
        "occurred_at": "2024-05-01T19:30:00+08:00",
        "channel": "mini_program",
        "customer_id": "cust-1",
        "source": "mini-program-backend",
        "schema_version": 1,
        "data": {
            "contact_id": "contact-1",
            "classification": "complaint",
            "topic": "after_sales",
            "store_id": "store-7",
        },
        "correlation_id": "corr-1",
    }
    for name, value in changes.items():
        if value is ...:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def with_data(**changes: Any) -> dict[str, Any]:
    """A valid envelope whose ``data`` fields are replaced (``...`` removes one)."""
    data = dict(envelope()["data"])
    for name, value in changes.items():
        if value is ...:
            data.pop(name, None)
        else:
            data[name] = value
    return envelope(data=data)


def run_decode(raw: bytes, now: datetime = NOW) -> SourceEvent:
    return decode(raw, now=now, max_future=MAX_FUTURE, max_bytes=MAX_BYTES)


def refusal(raw: bytes, now: datetime = NOW) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        run_decode(raw, now)
    assert caught.value.problems, "an InvalidEvent must carry at least one problem"
    return caught.value


def outcome(raw: bytes) -> SourceEvent | InvalidEvent:
    """The decoded event, or the refusal (any other exception propagates)."""
    try:
        return run_decode(raw)
    except InvalidEvent as error:
        return error


def fields(error: InvalidEvent) -> set[str]:
    return {problem.field for problem in error.problems}


def test_valid_contact_opened_decodes() -> None:
    event = run_decode(orjson.dumps(envelope()))

    assert event.event_id == "evt-1"
    assert event.type == "contact.opened"
    assert event.customer_id == "cust-1"
    assert event.envelope.channel == "mini_program"
    assert event.envelope.schema_version == 3  # upcast from v1
    assert event.envelope.correlation_id == "corr-1"
    assert event.envelope.causation_id is None
    assert event.occurred_at == datetime(2024, 5, 1, 11, 30, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(hours=8)
    assert isinstance(event.data, ContactOpened)  # v1 upcast to the latest version
    assert event.data.contact_id == "contact-1"
    assert event.data.case_id is None
    assert event.data.classification == "complaint"
    assert event.data.topic == "after_sales"
    assert event.data.store_id == "store-7"
    assert event.data.agent_group is None


@pytest.mark.parametrize(
    "channel", ["app", "mini_program", "web", "phone", "store", "social", "marketplace", "email"]
)
def test_every_channel_of_r_ch_01_is_accepted(channel: str) -> None:
    """R-CH-01: all channels publish into the one hub."""
    assert run_decode(orjson.dumps(envelope(channel=channel))).envelope.channel == channel


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param(b"{not json", "body", id="not-json"),
        pytest.param(b"", "body", id="empty"),
        pytest.param(b"\xff\xfe{}", "body", id="not-utf8"),
        pytest.param(b"[" * 2000, "body", id="too-deep"),
        pytest.param(b"[1, 2]", "body", id="array-not-object"),
        pytest.param(b'"text"', "body", id="string-not-object"),
        pytest.param(b"null", "body", id="null-not-object"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(raw: bytes, field: str) -> None:
    assert fields(refusal(raw)) == {field}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(envelope(event_id=...), "event_id", id="missing-event_id"),
        pytest.param(envelope(event_id=""), "event_id", id="empty-event_id"),
        pytest.param(envelope(customer_id=...), "customer_id", id="missing-customer_id"),
        pytest.param(envelope(data=...), "data", id="missing-data"),
        pytest.param(envelope(data=["x"]), "data", id="data-not-object"),
        pytest.param(envelope(schema_version="1"), "schema_version", id="version-as-string"),
        pytest.param(envelope(schema_version=True), "schema_version", id="version-as-bool"),
        pytest.param(envelope(schema_version=1.5), "schema_version", id="version-as-float"),
        pytest.param(envelope(schema_version=0), "schema_version", id="version-zero"),
        pytest.param(envelope(type="contact.vanished"), "type", id="unknown-type"),
        pytest.param(envelope(schema_version=99), "schema_version", id="unknown-version"),
        pytest.param(envelope(channel="fax"), "channel", id="channel-outside-R-CH-01"),
        pytest.param(envelope(channel="APP"), "channel", id="channel-wrong-case"),
        pytest.param(envelope(unexpected="x"), "unexpected", id="extra-field"),
        pytest.param(envelope(customer_id=42), "customer_id", id="customer_id-as-number"),
        pytest.param(with_data(classification="rant"), "data.classification", id="data-enum"),
        pytest.param(with_data(classification=...), "data.classification", id="data-missing"),
        pytest.param(with_data(topic=3), "data.topic", id="data-type"),
        pytest.param(with_data(mood="angry"), "data.mood", id="data-extra-field"),
        pytest.param(
            envelope(occurred_at="2024-05-01T12:00:00"), "occurred_at", id="time-without-offset"
        ),
        pytest.param(envelope(occurred_at=1714564800), "occurred_at", id="time-as-number"),
        pytest.param(envelope(occurred_at="yesterday"), "occurred_at", id="time-not-a-date"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    error = refusal(orjson.dumps(body))

    assert fields(error) == {field}
    assert field in str(error)


def test_every_faulty_envelope_field_is_reported() -> None:
    """Several faults in the envelope are all reported, one problem per field."""
    error = refusal(orjson.dumps(envelope(event_id=..., source=..., channel="fax")))

    assert fields(error) == {"event_id", "source", "channel"}


def test_bad_channel_names_r_ch_01_channels_in_the_reason() -> None:
    """R-CH-01: a channel outside the list is refused, and the reason lists the channels."""
    (problem,) = refusal(orjson.dumps(envelope(channel="carrier_pigeon"))).problems

    assert problem.field == "channel"
    assert "mini_program" in problem.reason


def test_record_over_the_size_limit_is_refused_before_parsing() -> None:
    raw = orjson.dumps(envelope(source="s" * MAX_BYTES))
    assert len(raw) > MAX_BYTES

    error = refusal(raw)

    assert fields(error) == {"body"}
    assert str(MAX_BYTES) in error.problems[0].reason


def test_record_exactly_at_the_size_limit_is_accepted() -> None:
    raw = orjson.dumps(envelope())
    padded = raw[:-1] + b" " * (MAX_BYTES - len(raw)) + b"}"
    assert len(padded) == MAX_BYTES

    assert run_decode(padded).event_id == "evt-1"
    assert fields(refusal(padded[:-1] + b" }")) == {"body"}


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [
        pytest.param(timedelta(0), True, id="now"),
        pytest.param(-timedelta(days=400), True, id="long-ago"),
        pytest.param(MAX_FUTURE - timedelta(seconds=1), True, id="inside-skew"),
        pytest.param(MAX_FUTURE, True, id="exactly-at-limit"),
        pytest.param(MAX_FUTURE + timedelta(microseconds=1), False, id="a-microsecond-over"),
        pytest.param(MAX_FUTURE + timedelta(seconds=1), False, id="a-second-over"),
        pytest.param(timedelta(days=1), False, id="a-day-ahead"),
    ],
)
def test_occurred_at_may_be_at_most_the_allowed_skew_after_now(
    ahead: timedelta, accepted: bool
) -> None:
    occurred = NOW + ahead
    raw = orjson.dumps(envelope(occurred_at=occurred.isoformat()))

    if accepted:
        assert run_decode(raw).occurred_at == occurred
    else:
        error = refusal(raw)
        assert fields(error) == {"occurred_at"}
        assert str(MAX_FUTURE) in error.problems[0].reason


def test_skew_is_judged_on_the_instant_not_the_wall_clock_digits() -> None:
    """12:05:01+08:00 is 04:05:01 UTC, long before ``now``; 11:05:01-01:00 is 12:05:01 UTC,
    one second past the limit."""
    early = NOW.replace(tzinfo=timezone(timedelta(hours=8))) + MAX_FUTURE + timedelta(seconds=1)
    late = NOW.astimezone(timezone(timedelta(hours=-1))) + MAX_FUTURE + timedelta(seconds=1)

    assert run_decode(orjson.dumps(envelope(occurred_at=early.isoformat()))).occurred_at == early
    assert fields(refusal(orjson.dumps(envelope(occurred_at=late.isoformat())))) == {"occurred_at"}


@pytest.mark.parametrize(
    "occurred_at",
    ["0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z", "1970-01-01T08:59:59+09:00"],
)
def test_event_times_before_the_earliest_instant_are_refused(occurred_at: str) -> None:
    """Every accepted event time has a UTC instant SLA clocks can compare; before
    1970-01-01T00:00:00Z (or with no UTC instant at all) it is refused, naming the field."""
    assert fields(refusal(orjson.dumps(envelope(occurred_at=occurred_at)))) == {"occurred_at"}


def test_the_earliest_instant_itself_is_accepted() -> None:
    event = run_decode(orjson.dumps(envelope(occurred_at="1970-01-01T09:00:00+09:00")))
    assert event.occurred_at.astimezone(UTC) == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(envelope(), id="full"),
        pytest.param(envelope(correlation_id=..., causation_id="cause-1"), id="causation"),
        pytest.param(with_data(case_id="case-9", store_id=..., agent_group="ag-2"), id="join"),
        pytest.param(envelope(occurred_at="2024-05-01T03:00:00Z"), id="zulu"),
    ],
)
def test_to_json_round_trips_through_decode(body: dict[str, Any]) -> None:
    event = run_decode(orjson.dumps(body))

    again = run_decode(event.to_json())

    assert again == event
    assert again.occurred_at.utcoffset() == event.occurred_at.utcoffset()
    assert orjson.loads(again.to_json()) == orjson.loads(event.to_json())


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
FIELD_VALUES = (
    st.sampled_from(
        [
            "contact.opened",
            "app",
            "2024-05-01T12:00:00+00:00",
            "0001-01-01T00:00:00-12:00",
            "9999-12-31T23:59:59+14:00",
            1,
            2,
        ]
    )
    | JSON_VALUES
)
ENVELOPE_KEYS = [*sorted(envelope()), "causation_id"]
DATA_KEYS = sorted(ContactOpenedV1.model_fields)
NEAR_ENVELOPES = st.fixed_dictionaries(
    {},
    optional={key: FIELD_VALUES for key in ENVELOPE_KEYS},
)


def decodes_or_refuses(raw: bytes) -> None:
    result = outcome(raw)

    if isinstance(result, InvalidEvent):
        assert result.problems
        assert all(problem.field and problem.reason for problem in result.problems)
    else:
        assert isinstance(result, SourceEvent)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_any_json_value_decodes_or_is_refused(value: object) -> None:
    decodes_or_refuses(orjson.dumps(value))


@settings(max_examples=300, deadline=None)
@given(NEAR_ENVELOPES, st.dictionaries(st.sampled_from(DATA_KEYS), FIELD_VALUES))
def test_any_near_envelope_decodes_or_is_refused(
    body: dict[str, Any], data_changes: dict[str, Any]
) -> None:
    """Envelope-shaped objects with arbitrary field values reach the deeper checks."""
    if data_changes:
        body = {**body, "data": {**envelope()["data"], **data_changes}}
    decodes_or_refuses(orjson.dumps(body))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_decode_or_are_refused(raw: bytes) -> None:
    decodes_or_refuses(raw)

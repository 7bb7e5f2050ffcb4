"""A record's time as the log gives it, whatever integer it carries (issue 13, item 2):
a time no datetime holds is a refusal naming ``timestamp``, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.sourcelog.base import Record
from consumers.ingest import log_time
from contracts.envelope import InvalidEvent


def record(timestamp_ms: int) -> Record:
    return Record("t", 0, 0, None, b"{}", (), timestamp_ms)


def test_a_time_in_range_is_read() -> None:
    assert log_time(record(1_700_000_000_000)) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize("ms", [-1, -(2**63), 2**62, 2**63 - 1, 253_402_300_800_000])
def test_a_time_no_datetime_holds_is_refused_naming_the_timestamp(ms: int) -> None:
    with pytest.raises(InvalidEvent, match=r"^timestamp: "):
        log_time(record(ms))


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_any_64_bit_time_is_read_or_refused(ms: int) -> None:
    try:
        read = log_time(record(ms))
    except InvalidEvent as error:
        refused = str(error)
        assert refused.startswith("timestamp: ")
    else:
        assert read.tzinfo is UTC

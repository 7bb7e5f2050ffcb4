"""Pages of dead letters (consumers/deadletter_reading.py) on an embedded log: paging through
with any page size sees every letter the filter admits once, in the order of one listing
of them all, and letters written between pages come on later pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sourcelog.base import OutgoingRecord, TopicSpec
from adapters.sourcelog.embedded import EmbeddedLog
from application.deadletter_query import DeadLetterFilter, InvalidCursor
from consumers.deadletter_reading import decode_cursor, encode_cursor, read_page
from consumers.deadletters import named_in

TOPIC = "t.deadletters"


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EmbeddedLog]:
    made = EmbeddedLog(tmp_path / "log.sqlite")
    made.admin().create_topics([TopicSpec(TOPIC, 3)])
    yield made
    made.close()


def letter(key: str, n: int, reason: str = "body: not JSON") -> OutgoingRecord:
    return OutgoingRecord(
        TOPIC,
        key.encode(),
        b'{"type": "contact.opened", "n": %d}' % n,
        (
            ("reason", reason.encode()),
            ("source_topic", b"t.contacts"),
            ("source_partition", b"0"),
            ("source_offset", str(n).encode()),
        ),
    )


def every_page(log: EmbeddedLog, where: DeadLetterFilter, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = read_page(log, TOPIC, where, cursor, limit, idle_s=1)
        pages.append([str(item.record.coordinates) for item in page.items])
        assert len(page.items) <= limit
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@settings(
    max_examples=15,
    deadline=None,
    # One log for every example: each example lists what it adds after what was there.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    batches=st.lists(st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=6), max_size=5),
    limit=st.integers(1, 7),
)
def test_paging_sees_every_letter_once_in_order(
    log: EmbeddedLog, batches: list[list[str]], limit: int
) -> None:
    everything = read_page(log, TOPIC, DeadLetterFilter(), idle_s=1).items
    for batch in batches:  # one append each: one timestamp, several partitions
        log.append([letter(key, n) for n, key in enumerate(batch)])
    listed = read_page(log, TOPIC, DeadLetterFilter(), idle_s=1)
    assert listed.next_cursor is None
    assert listed.written == len(listed.items)
    new = [str(item.record.coordinates) for item in listed.items[len(everything) :]]
    assert len(new) == sum(map(len, batches))
    order = [(i.record.timestamp_ms, i.record.partition, i.record.offset) for i in listed.items]
    assert order == sorted(order)
    pages = every_page(log, DeadLetterFilter(), limit)
    assert [c for page in pages for c in page] == [str(i.record.coordinates) for i in listed.items]


def test_letters_written_between_pages_come_later(log: EmbeddedLog) -> None:
    log.append([letter("a", 0), letter("b", 1), letter("c", 2)])
    first = read_page(log, TOPIC, DeadLetterFilter(), None, 2, idle_s=1)
    log.append([letter("a", 3)])
    second = read_page(log, TOPIC, DeadLetterFilter(), first.next_cursor, 10, idle_s=1)
    assert second.next_cursor is None
    offsets = [
        [int(i.record.header("source_offset") or b"") for i in p.items] for p in (first, second)
    ]
    assert sorted(offsets[0] + offsets[1]) == [0, 1, 2, 3]
    # On the next page; not always last: the merge by time may put it before an earlier
    # letter of another partition written in the same millisecond.
    assert 3 in offsets[1]


def test_filters_and_rules_named_in_reasons(log: EmbeddedLog) -> None:
    log.append(
        [
            letter("a", 0, "data.classification: Input should be 'complaint'"),
            letter("b", 1, "R-CUS-02: personal data needs service consent"),
            letter("a", 2, "data.items.0.sku: Field required; occurred_at: too far"),
        ]
    )

    def offsets(**where: str) -> list[int]:
        items = read_page(log, TOPIC, DeadLetterFilter(**where), idle_s=1).items  # type: ignore[arg-type]
        return sorted(int(i.record.header("source_offset") or b"") for i in items)

    assert offsets(rule="data") == [0, 2]
    assert offsets(rule="data.items") == [2]
    assert offsets(rule="occurred_at") == [2]
    assert offsets(rule="R-CUS-02") == [1]
    assert offsets(rule="R-CUS") == []
    assert offsets(customer="a") == [0, 2]
    assert offsets(type="contact.opened", topic="t.contacts") == [0, 1, 2]
    assert offsets(topic="t.orders") == []
    assert named_in("unknown contact 'x'") == []
    assert named_in("body: not JSON: unexpected character: line 1") == ["body"]


@pytest.mark.parametrize("cursor", ["e30", "!!", "bm90IGpzb24", "Wy0xXQ", "W3RydWVd"])
def test_a_cursor_no_page_gave_is_refused(cursor: str) -> None:
    """``{}``, not base64, ``not json``, ``[-1]``, ``[true]``."""
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_cursors_round_trip() -> None:
    assert decode_cursor(encode_cursor({0: 3, 2: 7})) == {0: 3, 1: 0, 2: 7}

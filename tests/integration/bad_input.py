"""One customer's records, good and bad, in publishing order, and what each must become;
and the check that it became so (tests/integration/test_bad_input.py: every refusal of
the envelope and the rules; tests/integration/test_hostile_input.py: every class of
hostile input, record shapes included)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from adapters.sourcelog.base import Coordinates
from adapters.sourcelog.embedded import partition_for
from journey.bootstrap import Runtime
from tests.builders.raw_records import Header, RawRecord
from tests.factories import unique
from tests.integration.processes import dead_letters, source_coordinates, stored_facts


@dataclass(frozen=True)
class Sent:
    label: str
    record: RawRecord
    event_id: str | None = None
    facts: tuple[str, ...] = ()
    """For a good record: the facts it must store."""
    reason: tuple[str, ...] = ()
    """For a bad record: what its dead-letter reason must name."""


def customer_on(partition: int, partitions: int) -> str:
    """A new customer whose key the partitioner places on ``partition`` — where a record
    without a key lands on the embedded log (Kafka's producers spread those)."""
    while partition_for((customer := unique("cust-")).encode(), partitions) != partition:
        pass
    return customer


class Scenario:
    """One customer's records, in publishing order."""

    def __init__(self, customer: str | None = None) -> None:
        self.customer = customer or unique("cust-")
        self.case = f"{self.customer}-case"
        self.joined = f"{self.customer}-contact-2"
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        self.minute = 0
        self.sent: list[Sent] = []

    def envelope(self, event_type: str, data: dict[str, Any], version: int = 1) -> dict[str, Any]:
        self.minute += 1
        return {
            "event_id": unique(f"{self.customer}-ev-"),
            "type": event_type,
            "occurred_at": (self.start + timedelta(minutes=self.minute)).isoformat(),
            "channel": "app",
            "customer_id": self.customer,
            "source": "bad-input-test",
            "schema_version": version,
            "data": data,
        }

    def record(
        self,
        value: bytes | None,
        *,
        keyless: bool = False,
        headers: tuple[Header, ...] = (),
        timestamp_ms: int | None = None,
    ) -> RawRecord:
        """The customer's record (keyed by them unless ``keyless``) as a producer wrote it."""
        return RawRecord(None if keyless else self.customer.encode(), value, headers, timestamp_ms)

    def good(self, label: str, body: dict[str, Any], *facts: str, **shape: Any) -> dict[str, Any]:
        self.sent.append(
            Sent(label, self.record(orjson.dumps(body), **shape), body["event_id"], facts)
        )
        return body

    def bad(
        self, label: str, body: bytes | dict[str, Any] | None, *reason: str, **shape: Any
    ) -> None:
        raw = body if isinstance(body, bytes | None) else orjson.dumps(body)
        self.sent.append(Sent(label, self.record(raw, **shape), reason=reason))

    def again(self, label: str, body: dict[str, Any]) -> None:
        """The same record again (a producer's retry): same ``event_id``, no effect."""
        self.sent.append(Sent(label, self.record(orjson.dumps(body)), body["event_id"]))


def check_outcome(runtime: Runtime, written: Sequence[tuple[Coordinates, Sent]]) -> None:
    """Every bad record ``written`` is on the dead-letter topic once, with its bytes and a
    reason naming what it must name; every good one stored its facts, once, each with its
    own source record; a record sent again had no effect; nothing else was stored."""
    at = {c.offset: sent for c, sent in written}
    ((topic, partition),) = {(c.topic, c.partition) for c, _ in written}
    got = dead_letters(runtime)
    letters = {source_coordinates(letter).offset: letter for letter in got}
    assert len(letters) == len(got), "one dead letter per bad record"
    assert {(c.topic, c.partition) for c in map(source_coordinates, got)} <= {(topic, partition)}
    expected_bad = {offset: sent for offset, sent in at.items() if sent.reason}
    assert sorted(at[offset].label for offset in letters) == sorted(
        sent.label for sent in expected_bad.values()
    )

    def reason(offset: int) -> str:
        return (letters[offset].header("reason") or b"").decode()

    unnamed = {
        sent.label: reason(offset)
        for offset, sent in expected_bad.items()
        if not all(fragment in reason(offset) for fragment in sent.reason)
    }
    assert unnamed == {}, "reasons that do not name the field or rule expected"
    kept = {offset: (letters[offset].key, letters[offset].value) for offset in expected_bad}
    assert kept == {o: (s.record.key, s.record.value or b"") for o, s in expected_bad.items()}

    facts = stored_facts(runtime.app)
    assert sorted((f.type, f.event_id) for f in facts) == sorted(
        (fact, sent.event_id or "")
        for sent in at.values()
        if not sent.reason
        for fact in sent.facts
    )
    good_offsets = {sent.event_id: offset for offset, sent in at.items() if sent.facts}
    assert all(
        (f.topic, f.partition, f.offset) == (topic, partition, good_offsets[f.event_id])
        for f in facts
    )

"""Every class of hostile input beside good neighbours on one partition of one customer's
key (issue 13), on every pairing of log and store, ingested by the ingest worker of a
served API: each good record is applied once, each bad one dead-lettered once with its
bytes and a reason naming the field or rule, the event waiting for its prerequisite is
parked and then applied, the worker never fails, and ``/readyz`` answers ready.

The classes, by the issue's numbers:

- 2, records that used to stop a worker: a tombstone (null value), no key, headers with
  null values, empty or control-character names or names that are not UTF-8, timestamps
  no date holds (the log's append time replaces a producer's), bytes that are not JSON;
  and a record whose handler raises what no rule names.
- 3, future skew judged against the log's time: ``occurred_at`` a day ahead, stamped two
  days ahead by its producer, is refused; the watermark stays where the good ones put it.
- 4, control characters in an id and in text; an id and a text over their bounds; a
  record over the size limit.
- 6, JSON naming ``customer_id`` twice.
- 1, a contact joining a case that opens later: parked, then applied.
- and a rule's refusal (R-CMP-01).

The envelope's other refusals (not an object, wrong types, missing fields, unknown type or
version) are in test_bad_input.py; any bytes, any record shape and any timestamp, by
property, in tests/unit/test_record_decoder.py and test_one_decoder.py.

The embedded log cannot hold a tombstone or the header shapes only Kafka's wire carries
(tests/integration/raw_producers.py says why): there they are left out, by name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.sourcelog.base import TopicPartition
from adapters.sourcelog.embedded import EmbeddedLog
from api.main import create_api
from domain.case import Case
from domain.parking import ParkingLot
from journey.bootstrap import Runtime
from tests.builders.ingest import raising_on_open
from tests.integration.bad_input import Scenario, check_outcome, customer_on
from tests.integration.drive import project_everything, until
from tests.integration.processes import stored_facts
from tests.integration.raw_producers import raw_producer

PARTITION = 0
"""Where the customer's records go: where a record without a key lands on the embedded
log (Kafka's takes the partition its producer names)."""

ODD_HEADERS = ((b"", b""), ("tab\t, NUL \x00 and é".encode(), b"\xff\x00"), (b"x", b"\x00" * 300))
WIRE_ONLY_HEADERS = ((b"\xff\xfe not UTF-8", b"v"), (b"no value", None))
WIRE_ONLY = ["a tombstone", "headers only Kafka's wire carries"]
JOINS = "joins a case that opens later"
BOOM = "boom"
"""The contact whose case the handler fails to open (``raising_on_open``)."""


class Hostile(Scenario):
    def contact(self, contact_id: str, **data: Any) -> dict[str, Any]:
        fields = {"contact_id": contact_id, "classification": "complaint", "topic": "order"}
        return self.envelope("contact.opened", fields | data, version=2)

    def reply(self, contact_id: str, responder: str) -> dict[str, Any]:
        return self.envelope("contact.replied", {"contact_id": contact_id, "responder": responder})

    def occurred(self) -> list[datetime]:
        """The event times of the good records sent."""
        return [
            datetime.fromisoformat(orjson.loads(sent.record.value or b"")["occurred_at"])
            for sent in self.sent
            if sent.facts
        ]


def hostile_beside_good(max_record_bytes: int, partitions: int) -> Hostile:
    s = Hostile(customer_on(PARTITION, partitions))
    c = s.customer
    opened = ("Contact.Opened", "Case.Opened")
    s.good("opens its case", s.contact(s.case), *opened)
    s.bad("a tombstone", None, "value", "null (a tombstone)")
    s.good(
        "a reply without a key",
        s.reply(s.case, "agent"),
        "Contact.Replied",
        "Case.Responded",
        keyless=True,
    )
    s.bad(
        "bytes that are not JSON, without a key", b"\xff\xfe\x00{", "body", "not JSON", keyless=True
    )
    s.good("odd headers", s.contact(f"{c}-c1"), *opened, headers=ODD_HEADERS)
    s.good(WIRE_ONLY[1], s.contact(f"{c}-c2"), *opened, headers=WIRE_ONLY_HEADERS)
    s.good("stamped 2**62 ms by its producer", s.contact(f"{c}-c3"), *opened, timestamp_ms=2**62)
    s.good("stamped before 1970 by its producer", s.contact(f"{c}-c4"), *opened, timestamp_ms=-5)
    s.good(
        "options are offered",
        s.envelope("case.options_offered", {"case_id": s.case, "options": ["replace", "refund"]}),
        "Case.OptionsOffered",
    )
    twice = orjson.dumps(s.contact(f"{c}-c5"))[:-1] + b',"customer_id":"someone-else"}'
    s.bad("customer_id written twice", twice, "body", "duplicate key 'customer_id'")
    s.bad("NUL in an id", s.contact(f"{c}\x00c6"), "data.contact_id", "control character U+0000")
    s.bad(
        "escape in text",
        s.contact(f"{c}-c7", demand="a \x1b[31mred\x1b[0m demand"),
        "data.demand",
        "control character U+001B",
    )
    s.bad("an id over its bound", s.contact("x" * 201), "data.contact_id", "at most 200")
    s.bad(
        "a text over its bound",
        s.contact(f"{c}-c8", demand="x" * 4001),
        "data.demand",
        "at most 4000",
    )
    s.bad(
        "over the record size limit",
        s.contact(f"{c}-c9", demand="x" * max_record_bytes),
        "body",
        f"over the limit of {max_record_bytes}",
    )
    now = datetime.now(UTC)
    ahead = s.contact(f"{c}-c10") | {"occurred_at": (now + timedelta(days=1)).isoformat()}
    s.bad(
        "occurred_at a day ahead, stamped two days ahead",
        ahead,
        "occurred_at",
        "after",
        timestamp_ms=int((now + timedelta(days=2)).timestamp() * 1000),
    )
    later = s.contact(f"{c}-later")  # opens in event time before the contact joins it
    s.good(
        JOINS,
        s.contact(f"{c}-c11", case_id=f"{c}-later"),
        "Contact.Opened",
        "Case.ContactJoined",
    )
    s.bad(
        "its handler raises",
        s.contact(f"{c}-{BOOM}"),
        "record: unexpected ZeroDivisionError",
        "while applying contact.opened",
    )
    s.good("opens the later case", later, *opened)
    s.bad(
        "resolved on an option never offered",
        s.envelope("case.resolved", {"case_id": s.case, "option": "teleport"}),
        "R-CMP-01",
        "never offered",
    )
    s.good("a bot replies on the later case", s.reply(f"{c}-later", "bot"), "Contact.Replied")
    return s


def test_every_class_of_hostile_input_beside_good_neighbours_on_one_partition(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    s = hostile_beside_good(runtime.settings.max_record_bytes, runtime.settings.topic_partitions)
    raising_on_open(monkeypatch, f"{s.customer}-{BOOM}", lambda: ZeroDivisionError("boom"))
    topic = runtime.topics.for_type("contact.opened")
    producer = raw_producer(runtime)
    left_out = [sent.label for sent in s.sent if producer.cannot_carry(sent.record)]
    assert left_out == (WIRE_ONLY if isinstance(runtime.log, EmbeddedLog) else [])

    api = create_api(runtime, workers={"ingest"})
    with TestClient(api) as client:
        try:
            written = [
                (producer.produce(topic, PARTITION, sent.record), sent)
                for sent in s.sent
                if sent.label not in left_out
            ]
        finally:
            producer.close()
        end = written[-1][0].offset + 1
        until(
            lambda: runtime.app.next_offset(TopicPartition(topic, PARTITION)) >= end,
            "the served ingest stored the partition's end offset",
        )
        ready = client.get("/readyz")
        alive = [t.name for t in api.state.workers.threads if t.is_alive()]

    assert (ready.status_code, ready.json()["ready"]) == (200, True), ready.json()
    assert alive == ["ingest"]
    failed = [r.getMessage() for r in caplog.records if r.name == "consumers.supervision"]
    assert failed == [], "the ingest worker failed and was restarted"
    check_outcome(runtime, written)

    # Parked, not refused, then let in and applied with its own record once the case opened.
    (joins,) = [sent.event_id for sent in s.sent if sent.label == JOINS]
    later_case = Case.create_id(f"{s.customer}-later")
    lot = runtime.app.repository.event_store.get(ParkingLot.create_id(later_case))
    assert [
        (type(e).__qualname__, getattr(e, "event_id", getattr(e, "event_ids", None))) for e in lot
    ] == [
        ("ParkingLot.Opened", None),
        ("ParkingLot.Parked", joins),
        ("ParkingLot.Released", [joins]),
    ]
    order = [(f.type, f.originator_id) for f in stored_facts(runtime.app)]
    assert order.index(("Case.Opened", str(later_case))) < order.index(
        ("Case.ContactJoined", str(later_case))
    )

    # The record a day ahead moved no clock: the watermark is the good ones' latest time.
    project_everything(runtime)
    assert runtime.deadlines.watermark() == max(s.occurred())

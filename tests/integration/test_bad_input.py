"""Bad input, each kind beside good events on the same partition (one customer, one key):
each bad record lands on the dead-letter topic with its original bytes and a reason naming
the field or the rule; a re-sent ``event_id`` is simply ignored; every good neighbour is
applied. On the embedded log with SQLite, and on Kafka with SQLite and with PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime
from tests.factories import unique
from tests.integration.drive import ingest_everything, project_everything
from tests.integration.processes import dead_letters, source_coordinates, stored_facts


@dataclass(frozen=True)
class Sent:
    label: str
    body: bytes
    event_id: str | None = None
    facts: tuple[str, ...] = ()
    """For a good record: the facts it must store."""
    reason: tuple[str, ...] = ()
    """For a bad record: what its dead-letter reason must name."""


class Scenario:
    """One customer's records, in publishing order."""

    def __init__(self) -> None:
        self.customer = unique("cust-")
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

    def good(self, label: str, body: dict[str, Any], *facts: str) -> dict[str, Any]:
        self.sent.append(Sent(label, orjson.dumps(body), body["event_id"], facts))
        return body

    def bad(self, label: str, body: bytes | dict[str, Any], *reason: str) -> None:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        self.sent.append(Sent(label, raw, reason=reason))

    def again(self, label: str, body: dict[str, Any]) -> None:
        """The same record again (a producer's retry): same ``event_id``, no effect."""
        self.sent.append(Sent(label, orjson.dumps(body), body["event_id"]))


def bad_input_beside_good(max_record_bytes: int) -> Scenario:
    s = Scenario()
    opened = s.good(
        "opens its case",
        s.envelope(
            "contact.opened",
            {"contact_id": s.case, "classification": "complaint", "topic": "order"},
            version=2,
        ),
        "Contact.Opened",
        "Case.Opened",
    )
    s.bad("not JSON", b'{"event_id": "half a record", "type": ', "body", "not JSON")
    replied = s.good(
        "an agent replies",
        s.envelope("contact.replied", {"contact_id": s.case, "responder": "agent"}),
        "Contact.Replied",
        "Case.Responded",
    )
    s.bad("JSON array", b'[{"event_id": "in an array"}]', "body", "expected a JSON object")
    s.bad("JSON number", b"42", "body", "expected a JSON object")
    s.good(
        "a contact on the phone joins the case",
        {
            **s.envelope(
                "contact.opened",
                {
                    "contact_id": s.joined,
                    "case_id": s.case,
                    "classification": "complaint",
                    "topic": "order",
                },
                version=2,
            ),
            "channel": "phone",
        },
        "Contact.Opened",
        "Case.ContactJoined",
    )
    no_channel = s.envelope("contact.replied", {"contact_id": s.case, "responder": "bot"})
    del no_channel["channel"]
    s.bad("missing envelope field", no_channel, "channel", "required")
    s.bad(
        "missing data field",
        s.envelope("contact.replied", {"contact_id": s.case}),
        "data.responder",
        "required",
    )
    s.good(
        "an owner is assigned",
        s.envelope(
            "case.owner_assigned",
            {
                "case_id": s.case,
                "owner": "ag-17",
                "due_at": (s.start + timedelta(days=2)).isoformat(),
                "acceptance_criteria": "the customer confirms the replacement",
            },
        ),
        "Case.OwnerAssigned",
    )
    s.bad(
        "wrong type in the envelope",
        {**s.envelope("case.progress_update_sent", {"case_id": s.case}), "schema_version": "1"},
        "schema_version",
        "integer",
    )
    s.bad(
        "wrong type in data",
        s.envelope("contact.replied", {"contact_id": 7, "responder": "agent"}),
        "data.contact_id",
        "string",
    )
    s.bad(
        "unknown type",
        s.envelope("contact.teleported", {"contact_id": s.case}),
        "type",
        "unknown type 'contact.teleported'",
    )
    s.good(
        "options are offered",
        s.envelope("case.options_offered", {"case_id": s.case, "options": ["replace", "refund"]}),
        "Case.OptionsOffered",
    )
    s.bad(
        "unknown schema version",
        s.envelope("contact.replied", {"contact_id": s.case, "responder": "bot"}, version=9),
        "schema_version",
        "unknown version 9",
    )
    oversized = s.envelope(
        "contact.opened",
        {
            "contact_id": f"{s.customer}-big",
            "classification": "complaint",
            "topic": "order",
            "demand": "x" * max_record_bytes,
        },
        version=2,
    )
    s.bad("oversized", oversized, "body", f"over the limit of {max_record_bytes}")
    future = s.envelope("contact.replied", {"contact_id": s.case, "responder": "agent"})
    future["occurred_at"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    s.bad("occurred_at far in the future", future, "occurred_at", "after")
    s.bad(
        "resolved on an option never offered",
        s.envelope("case.resolved", {"case_id": s.case, "option": "teleport"}),
        "R-CMP-01",
        "never offered",
    )
    s.bad(
        "chose an option never offered",
        s.envelope("case.option_chosen", {"case_id": s.case, "option": "teleport"}),
        "R-CMP-01",
        "never offered",
    )
    s.good(
        "the customer chooses",
        s.envelope("case.option_chosen", {"case_id": s.case, "option": "replace"}),
        "Case.OptionChosen",
    )
    s.again("the agent's reply again", replied)
    s.good(
        "the case is resolved",
        s.envelope("case.resolved", {"case_id": s.case, "option": "replace"}),
        "Case.Resolved",
    )
    s.again("the opening contact again", opened)
    s.good(
        "a bot replies on the phone contact",
        s.envelope("contact.replied", {"contact_id": s.joined, "responder": "bot"}),
        "Contact.Replied",
    )
    return s


def test_each_bad_record_is_dead_lettered_with_its_reason_beside_applied_neighbours(
    runtime: Runtime,
) -> None:
    s = bad_input_beside_good(runtime.settings.max_record_bytes)
    topic = runtime.topics.for_type("contact.opened")
    placed = runtime.publisher.publish_many(
        [OutgoingRecord(topic, s.customer.encode(), sent.body) for sent in s.sent]
    )
    assert len({c.partition for c in placed}) == 1, "everything on one partition"
    partition = placed[0].partition
    at = {c.offset: sent for c, sent in zip(placed, s.sent, strict=True)}

    ingest_everything(runtime)

    # Every bad record on the dead-letter topic, once, with its bytes and its reason.
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
    assert all(letters[offset].value == sent.body for offset, sent in expected_bad.items())

    # Every good neighbour applied, once; the re-sent event_ids had no effect.
    facts = stored_facts(runtime.app)
    assert sorted((f.type, f.event_id) for f in facts) == sorted(
        (fact, sent.event_id or "")
        for sent in at.values()
        if not sent.reason
        for fact in sent.facts
    )
    good_offsets = {sent.event_id: offset for offset, sent in at.items() if sent.facts}
    assert all(f.offset == good_offsets[f.event_id] for f in facts)

    project_everything(runtime)
    rows = runtime.ledger.page(limit=10)
    assert [(r["case_ref"], r["contacts"], r["channels"]) for r in rows] == [
        (s.case, 2, ["app", "phone"])
    ]

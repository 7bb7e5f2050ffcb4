"""Bad input, each kind beside good events on the same partition (one customer, one key):
each bad record lands on the dead-letter topic with its original bytes and a reason naming
the field or the rule; a re-sent ``event_id`` is simply ignored; every good neighbour is
applied. On the embedded log with SQLite, and on Kafka with SQLite and with PostgreSQL.
Every other class of hostile input (record shapes, duplicate keys, control characters,
events waiting for their prerequisite...) is in test_hostile_input.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime
from tests.integration.bad_input import Scenario, check_outcome
from tests.integration.drive import ingest_everything, project_everything


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
    s.bad(
        "a source attribute that is not declared (issue 15: never personal data)",
        {
            **s.envelope("contact.replied", {"contact_id": s.case, "responder": "agent"}),
            "attributes": {"zip_code": "90210"},
        },
        "attributes.zip_code",
        "not a declared source attribute",
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
        [OutgoingRecord(topic, sent.record.key, sent.record.value or b"") for sent in s.sent]
    )
    assert len({c.partition for c in placed}) == 1, "everything on one partition"

    ingest_everything(runtime)

    check_outcome(runtime, list(zip(placed, s.sent, strict=True)))
    project_everything(runtime)
    rows = runtime.ledger.page(limit=10)
    assert [(r["case_ref"], r["contacts"], r["channels"]) for r in rows] == [
        (s.case, 2, ["app", "phone"])
    ]

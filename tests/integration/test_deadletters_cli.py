"""``journey deadletters list`` and ``replay`` through the command line, on every pairing
of log and store: each refused record is listed with the reason naming its field, personal
fields masked; a record refused for a reason that no longer holds is applied once when
replayed; one still invalid is simply dead-lettered again. (A record naming what is not
known yet is parked, not refused; the clock timer dead-letters it once its window passed:
here a reply whose contact opens only later, after that.)"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from adapters.sourcelog.base import Coordinates, OutgoingRecord, Record, TopicPartition
from domain.aggregate import is_fact
from journey.bootstrap import Runtime
from tests.factories import contact_opened, source_event, unique
from tests.integration.cli import run, run_cli
from tests.integration.drive import ingest_everything, project_everything, until


def position(c: Coordinates) -> str:
    return f"{c.topic}:{c.partition}:{c.offset}"


def record_at(runtime: Runtime, at: str) -> Record:
    """The record at ``topic:partition:offset``, read by a consumer group of its own."""
    topic, partition, offset = at.rsplit(":", 2)
    wanted = TopicPartition(topic, int(partition))
    consumer = runtime.log.consumer(unique("reader-"))

    def seek(assigned: list[TopicPartition]) -> None:
        if wanted in assigned:
            consumer.seek(wanted, int(offset))

    consumer.subscribe([topic], seek, lambda _: None)
    found: list[Record] = []

    def arrived() -> bool:
        records = consumer.poll(0.2, 100).get(wanted, [])
        found.extend(r for r in records if r.offset == int(offset))
        return bool(found)

    until(arrived, f"the record at {at} arrived")
    consumer.close()
    return found[0]


def dead_letters_now(runtime: Runtime) -> list[Any]:
    listed: list[Any] = runtime.all_dead_letters()
    return listed


def facts_of(runtime: Runtime, event_id: str) -> list[tuple[str, int]]:
    """(fact type, source offset) of every stored fact caused by ``event_id``."""
    app = runtime.app
    notifications = app.process_recorder.select_notifications(start=None, limit=100_000)
    events = [app.mapper.to_domain_event(n) for n in notifications]
    sources = [(type(e).__qualname__, getattr(e, "source")) for e in events if is_fact(e)]  # noqa: B009
    return sorted((kind, s.offset) for kind, s in sources if s.event_id == event_id)


def test_dead_letters_are_listed_with_reasons_and_replayed_once_fixed(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = runtime.topics.for_type("contact.opened")
    customer = unique("cust-")
    late_contact = unique("contact-")
    good = contact_opened(customer_id=customer, contact_id=unique("contact-"))
    replied = source_event(
        "contact.replied",
        {"contact_id": late_contact, "responder": "agent", "agent_id": "ag-17"},
        customer_id=customer,
        occurred_at="2026-03-02T10:00:00+08:00",
    )
    registered = source_event(
        "customer.registered",
        {"consents": "all", "personal": {"name": "Li Wei", "phone": "+86 138 0000 0000"}},
        customer_id=customer,
    )
    # (bytes, the field or fact its reason names); all on one key, between good records.
    bad = [
        (b"{not json", "body"),
        (
            orjson.dumps(contact_opened(customer_id=customer, classification="angry")),
            "data.classification",
        ),
        (
            orjson.dumps({**contact_opened(customer_id=customer), "type": "contact.teleported"}),
            "type",
        ),
        (orjson.dumps(registered), "data.consents"),
        (
            orjson.dumps(replied),
            f"unknown contact {late_contact!r}; not arrived within 24h (parked at"
            f" {replied['occurred_at']})",
        ),
    ]
    bodies = [orjson.dumps(good), *(raw for raw, _ in bad), orjson.dumps(good)]
    placed = runtime.publisher.publish_many(
        [OutgoingRecord(topic, customer.encode(), body) for body in bodies]
    )
    bad_at = placed[1:-1]
    ingest_everything(runtime)
    # The reply waits for its contact (parked, no dead letter yet) until, past its window
    # in event time (a later fact of the customer), the clock timer dead-letters it.
    assert len(dead_letters_now(runtime)) == len(bad) - 1
    later = contact_opened(customer_id=customer, occurred_at="2026-03-03T11:00:00+08:00")
    runtime.publisher.publish(OutgoingRecord(topic, customer.encode(), orjson.dumps(later)))
    ingest_everything(runtime)
    project_everything(runtime)
    assert runtime.clock_timer().run_once() >= 1

    listed = run_cli(runtime, capsys, "deadletters", "list", "--json")
    assert listed["count"] == len(bad)
    letters = listed["dead_letters"]
    assert [letter["source"] for letter in letters] == [position(c) for c in bad_at]
    for letter, (raw, named), at in zip(letters, bad, bad_at, strict=True):
        assert named in letter["reason"], letter["reason"]
        assert (letter["source_topic"], letter["source_partition"], letter["source_offset"]) == (
            at.topic,
            at.partition,
            at.offset,
        )
        assert letter["original_bytes"] == len(raw)
    assert (letters[0]["event_id"], letters[0]["type"]) == (None, None)
    # Bytes that are not JSON cannot be masked field by field: their shape only.
    assert (letters[0]["original"], letters[0]["original_shown"]) == ("{••• •••", "opaque")
    assert (letters[4]["event_id"], letters[4]["type"]) == (replied["event_id"], "contact.replied")
    assert (letters[3]["event_id"], letters[3]["type"]) == (
        registered["event_id"],
        "customer.registered",
    )
    # Personal fields are masked in listings.
    assert not letters[3]["truncated"]
    assert orjson.loads(letters[3]["original"])["data"]["personal"] == {
        "name": "***",
        "phone": "***",
    }
    assert "Li Wei" not in orjson.dumps(listed).decode()
    limited = run_cli(runtime, capsys, "deadletters", "list", "--limit", "2", "--json")
    assert limited["count"] == len(bad)
    assert [letter["source"] for letter in limited["dead_letters"]] == [
        position(c) for c in bad_at[:2]
    ]

    # The fix: the contact the reply was for is opened (too late for the parked reply:
    # nothing waits for it any more); then the reply is replayed.
    runtime.publisher.publish(
        OutgoingRecord(
            topic,
            customer.encode(),
            orjson.dumps(contact_opened(customer_id=customer, contact_id=late_contact)),
        )
    )
    ingest_everything(runtime)
    assert facts_of(runtime, replied["event_id"]) == []
    replayed = run_cli(
        runtime, capsys, "deadletters", "replay", "--source", position(bad_at[4]), "--json"
    )["replayed"]
    assert [(r["source"], r["event_id"]) for r in replayed] == [
        (position(bad_at[4]), replied["event_id"])
    ]
    replayed_to = replayed[0]["replayed_to"]
    assert replayed_to.startswith(f"{topic}:{bad_at[4].partition}:")  # same key, same partition
    again_there = record_at(runtime, replayed_to)
    assert (again_there.key, again_there.value) == (customer.encode(), orjson.dumps(replied))
    assert set(again_there.headers) == {
        ("event_id", replied["event_id"].encode()),
        ("type", b"contact.replied"),
        ("schema_version", b"1"),
    }
    ingest_everything(runtime)
    offset = int(replayed_to.rsplit(":", 1)[1])
    assert facts_of(runtime, replied["event_id"]) == [
        ("Case.Responded", offset),
        ("Contact.Replied", offset),
    ]

    # Replaying everything from the topic: the still invalid ones are dead-lettered again,
    # the reply (same event_id, already applied) has no further effect.
    again = run_cli(runtime, capsys, "deadletters", "replay", "--all-from", topic, "--json")
    assert sorted(r["source"] for r in again["replayed"]) == sorted(position(c) for c in bad_at)
    ingest_everything(runtime)
    assert facts_of(runtime, replied["event_id"]) == [
        ("Case.Responded", offset),
        ("Contact.Replied", offset),
    ]
    listed = run_cli(runtime, capsys, "deadletters", "list", "--json")
    assert listed["count"] == len(bad) + len(bad) - 1
    by_source = {letter["source"]: letter for letter in listed["dead_letters"]}
    for r in again["replayed"]:
        if r["event_id"] == replied["event_id"]:
            assert r["replayed_to"] not in by_source
            continue
        first, repeat = by_source[r["source"]], by_source[r["replayed_to"]]
        assert repeat["reason"] == first["reason"]
        assert (repeat["event_id"], repeat["original_bytes"]) == (
            first["event_id"],
            first["original_bytes"],
        )


def test_replay_refuses_coordinates_without_a_dead_letter(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = runtime.topics.for_type("contact.opened")
    runtime.publisher.publish(OutgoingRecord(topic, b"k", b"[1, 2]"))
    ingest_everything(runtime)
    assert run(runtime, "deadletters", "replay", "--source", f"{topic}:0:999") == 1
    assert f"no dead letter comes from {topic}:0:999" in capsys.readouterr().err

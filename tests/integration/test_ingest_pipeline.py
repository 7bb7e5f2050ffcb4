"""Log → ingest → event store → complaint ledger, on every pairing of log and store.

The same scenario runs on the embedded log with SQLite, and on a real Kafka broker with
SQLite and with a real PostgreSQL: good records are applied once, bad ones are refused to
the dead-letter topic with a reason naming the field or rule, and a consumer that resumes
without the log's committed offsets (as after a crash between the store commit and the
log commit) resumes from the store and applies nothing twice.
"""

from __future__ import annotations

import orjson

from adapters.sourcelog.base import Record
from domain.aggregate import is_fact
from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything, project_everything, publish, until


def dead_letters(runtime: Runtime, count: int) -> list[Record]:
    consumer = runtime.log.consumer(unique("dlq-reader-"))
    consumer.subscribe([runtime.topics.dead_letters], lambda _: None, lambda _: None)
    got: list[Record] = []

    def arrived() -> bool:
        for records in consumer.poll(0.2, 100).values():
            got.extend(records)
        return len(got) >= count

    until(arrived, f"{count} dead letters arrived")
    consumer.close()
    return sorted(got, key=lambda r: int(r.header("source_offset") or b"-1"))


def stored_facts(runtime: Runtime) -> list[tuple[str, str]]:
    """(fact type, source event_id) of every stored fact, in notification order."""
    app = runtime.app
    notifications = app.process_recorder.select_notifications(start=None, limit=100_000)
    events = [app.mapper.to_domain_event(n) for n in notifications]
    return [(type(e).__qualname__, getattr(e, "source").event_id) for e in events if is_fact(e)]  # noqa: B009


def test_good_records_are_applied_once_and_bad_ones_dead_lettered(runtime: Runtime) -> None:
    customers = [f"cust-{i}" for i in range(4)]
    # Each customer's first contact opens the case "<customer>-case"; the others join it.
    good = [
        contact_opened(
            customer_id=c,
            contact_id=f"{c}-case" if n == 0 else f"{c}-contact-{n}",
            case_id=None if n == 0 else f"{c}-case",
            channel=ch,
        )
        for c in customers
        for n, ch in enumerate(["app", "phone", "web"])
    ]
    bad = {
        "not json": (b"{not json", "body"),
        "wrong field": (
            orjson.dumps(contact_opened(customer_id="cust-0", classification="angry")),
            "data.classification",
        ),
        "unknown type": (
            orjson.dumps({**contact_opened(customer_id="cust-0"), "type": "contact.teleported"}),
            "type",
        ),
        "other customer's case": (
            orjson.dumps(contact_opened(customer_id="cust-0", case_id="cust-1-case")),
            "R-CH-01",
        ),
    }
    # Everything on one key, hence one partition: bad records sit between good ones.
    bodies = [orjson.dumps(g) for g in good[:6]]
    bodies += [raw for raw, _ in bad.values()]
    bodies += [orjson.dumps(g) for g in good[6:]]
    bodies.append(orjson.dumps(good[0]))  # the same event_id again: no effect
    publish(runtime, bodies, key="one-key")

    ingest_everything(runtime)
    project_everything(runtime)

    rows = runtime.ledger.page(limit=100)
    assert sorted(r["case_ref"] for r in rows) == sorted(f"{c}-case" for c in customers)
    assert {r["contacts"] for r in rows} == {3}
    assert all(r["channels"] == ["app", "phone", "web"] for r in rows)
    # Each good contact.opened is one Contact.Opened and one Case.Opened or ContactJoined.
    facts = stored_facts(runtime)
    assert sorted(facts) == sorted(
        [("Contact.Opened", g["event_id"]) for g in good]
        + [
            ("Case.Opened" if "case_id" not in g["data"] else "Case.ContactJoined", g["event_id"])
            for g in good
        ]
    )
    notifications = runtime.app.process_recorder.max_notification_id()

    letters = dead_letters(runtime, len(bad))
    assert len(letters) == len(bad)
    for letter, (raw, named) in zip(letters, bad.values(), strict=True):
        assert letter.value == raw
        reason = (letter.header("reason") or b"").decode()
        assert named in reason, reason
        assert letter.header("source_topic") == runtime.topics.for_type("contact.opened").encode()

    # A member with no committed log offsets at all resumes from the store's positions.
    assert ingest_everything(runtime, group=unique("fresh-group-")) == 0
    project_everything(runtime)
    assert stored_facts(runtime) == facts
    assert runtime.app.process_recorder.max_notification_id() == notifications
    assert runtime.ledger.page(limit=100) == rows

"""One read model that cannot apply an event stops none of the others (issue 13, item 5), on
every pairing of log and store: the customer 360 raises on one customer's events (as a read
model with a bug would), the projections worker quarantines them for the customer 360 alone
and carries on; every other read model applies everything; ``/readyz`` answers 200
``degraded``, ``/metrics``, ``journey status`` and ``GET /v1/admin/quarantine`` show what is
held and why; a rebuild once the bug is fixed applies it and the service is ``ready``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from types import MethodType

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.readstore import Cursor
from adapters.sourcelog.base import OutgoingRecord, TopicPartition
from api.main import create_api
from domain.contact import Contact
from domain.provenance import SourceRef
from journey.bootstrap import Runtime
from projections.base import Notified, Projection
from projections.customer360 import Customer360
from projections.ledger import ComplaintLedger
from tests.factories import contact_opened, unique
from tests.integration.cli import run, run_cli
from tests.integration.drive import ingest_everything, project_everything
from tests.integration.metrics_text import samples
from tests.unit.complaint_specs import source_event


def poison(projection: Projection, originators: set[str]) -> None:
    """Make this read model raise on every batch that holds an event of ``originators``."""
    original = projection.apply_batch

    def apply_batch(self: Projection, cursor: Cursor, batch: Sequence[Notified]) -> None:
        if any(str(getattr(e, "originator_id", "")) in originators for _, e in batch):
            raise LookupError("the read model's bug, for the test")
        original(cursor, batch)

    projection.apply_batch = MethodType(apply_batch, projection)  # type: ignore[method-assign]


def test_a_read_model_that_cannot_apply_an_event_holds_it_and_the_others_keep_up(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = runtime.topics.for_type("contact.opened")
    healthy, unlucky = unique("cust-"), unique("cust-")
    contacts = {c: [unique(f"{c}-k") for _ in range(3)] for c in (healthy, unlucky)}
    runtime.publisher.publish_many(
        [
            OutgoingRecord(
                topic,
                customer.encode(),
                orjson.dumps(contact_opened(customer_id=customer, contact_id=contact)),
            )
            for customer, ids in contacts.items()
            for contact in ids
        ]
    )
    ingest_everything(runtime)
    held_back = {str(Contact.create_id(contact)) for contact in contacts[unlucky]}
    poison(runtime.customers, held_back)

    project_everything(runtime)

    # Every read model reached the head; the customer 360 holds back the unlucky one's
    # contacts, each once, with the reason; the others applied them.
    quarantine = runtime.quarantine
    held = quarantine.page()
    assert {q.originator_id for q in held} == held_back
    assert {q.read_model for q in held} == {Customer360.name}
    assert all(q.reason.startswith("LookupError: ") for q in held)
    assert all("the read model's bug, for the test" in q.reason for q in held)
    refs = {row["case_ref"] for row in runtime.ledger.page(100)}
    assert set(contacts[healthy]) | set(contacts[unlucky]) <= refs
    assert runtime.customers.view(healthy) is not None
    partial = runtime.customers.view(unlucky)

    admin = {"Authorization": f"Bearer {runtime.api_keys.create('admin').secret_text}"}
    analyst = {"Authorization": f"Bearer {runtime.api_keys.create('analyst').secret_text}"}
    with TestClient(create_api(runtime, workers=set())) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "degraded"
        assert set(ready.json()["degraded"]) == {Customer360.name}
        assert ready.json()["ready"] is True

        got = samples(client.get("/metrics").text)
        gauge = "journey_read_model_quarantined_events"
        assert got[(gauge, frozenset({("read_model", Customer360.name)}))] == len(held)
        assert got[(gauge, frozenset({("read_model", ComplaintLedger.name)}))] == 0

        listed, cursor = [], None
        while True:
            params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            page = client.get("/v1/admin/quarantine", params=params, headers=admin)
            assert page.status_code == 200, page.text
            listed += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert [i["notification_id"] for i in listed] == [q.notification_id for q in held]
        assert page.json()["counts"] == {Customer360.name: len(held)}
        assert client.get("/v1/admin/quarantine", headers=analyst).status_code == 403
        hostile = client.get("/v1/admin/quarantine", params={"cursor": "x\x00:1"}, headers=admin)
        assert hostile.status_code == 422

        status = run_cli(runtime, capsys, "status", "--json")
        assert status["quarantined"][Customer360.name] == len(held)

        # The bug fixed (a rebuild builds fresh instances of the read model's class), the
        # rebuild applies what was held and the quarantine is empty.
        assert run(runtime, "rebuild", Customer360.name) == 0
        assert quarantine.counts() == {}
        assert runtime.customers.view(unlucky) != partial
        after = client.get("/readyz").json()
        assert (after["status"], after["degraded"]) == ("ready", {})


def test_a_stored_id_no_store_can_hold_is_held_by_the_read_models_that_store_it(
    runtime: Runtime,
) -> None:
    """A stored event from before validation refused control characters (issue 13, item 4):
    its contact id holds a NUL. PostgreSQL cannot hold that in text, so on PostgreSQL the
    read models that keep the id (the ledger's case reference, the audit chain's subject)
    hold the event in quarantine, naming the NUL, and every read model, those included,
    goes on to the events after it; SQLite holds it, and nothing is held. A rebuild
    completes either way."""
    partition = TopicPartition(runtime.topics.for_type("contact.opened"), 0)
    customer = unique("cust-")
    specs = [(unique("ev-"), customer, unique(f"{customer}-k"), None, "web") for _ in range(3)]
    start = runtime.app.next_offset(partition)
    events = []
    for i, spec in enumerate(specs):
        event = source_event(spec, minute=i)
        if i == 1:  # as an older release let it in
            event = replace(event, data=event.data.model_copy(update={"contact_id": "k\x00nul"}))
        ref = SourceRef(spec[0], partition.topic, partition.partition, start + i)
        events.append((ref, event))
    runtime.app.prepare_batch(partition, events, next_offset=start + len(events)).commit()

    project_everything(runtime)
    for _ in range(3):  # the audit chain follows in the same worker
        runtime.projection_runner.run_once()

    head = runtime.app.process_recorder.max_notification_id() or 0
    assert runtime.audit_chain.position() == head
    held = runtime.quarantine.page()
    assert all("NUL" in q.reason for q in held)
    refs = {row["case_ref"] for row in runtime.ledger.page(100)}
    assert {specs[0][2], specs[2][2]} <= refs
    if runtime.settings.store_backend == "postgres":
        assert {ComplaintLedger.name, "audit_chain"} <= {q.read_model for q in held}
    else:
        assert held == []
        assert "k\x00nul" in refs
    before = runtime.read_models.quarantined()
    assert run(runtime, "rebuild", ComplaintLedger.name) == 0
    assert runtime.read_models.quarantined() == before

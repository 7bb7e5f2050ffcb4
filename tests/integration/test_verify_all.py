"""Verify covers every aggregate kind, not cases only (issue 13, item 11), on each pairing of
log and store (embedded + SQLite, Kafka + SQLite, Kafka + PostgreSQL).

A scripted journey (customer, order, case, two contacts, return, survey, callback) is
published over HTTP, ingested, projected and chained. Then: every aggregate verifies by the
id its channel sent through ``GET /v1/audit/{kind}/{ref}/verify``, and a case answers there
as on its own route; unknown kinds and hostile ids are 4xx; an order's stored event changed
in SQL is found by the route and by ``journey verify`` (exit code 1, the summary names it),
and both failures are counted in ``/metrics`` — the command's from another runtime, as it
would be from another process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_api
from domain.order import Order
from domain.registry import kind_named
from journey.bootstrap import Runtime
from tests.e2e.journey_script import Journey, script
from tests.integration.cli import run
from tests.integration.drive import ingest_everything, project_everything, until
from tests.integration.event_table import EventTable


@dataclass
class Served:
    runtime: Runtime
    client: TestClient
    journey: Journey
    auditor: dict[str, str]

    def verify(self, kind: str, ref: str) -> Any:
        return self.client.get(f"/v1/audit/{q(kind)}/{q(ref)}/verify", headers=self.auditor)


def bearer(runtime: Runtime, role: str) -> dict[str, str]:
    secret = runtime.api_keys.create(role).secret_text  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def served(runtime: Runtime) -> Iterator[Served]:
    journey = script()
    with TestClient(create_api(runtime, workers=set()), raise_server_exceptions=False) as client:
        published = client.post(
            "/v1/events", json=journey.events, headers=bearer(runtime, "channel")
        )
        assert published.status_code == 202, published.text
        ingest_everything(runtime)
        project_everything(runtime)
        chain, head = runtime.audit_chain, runtime.app.process_recorder.max_notification_id()
        until(lambda: chain.run_once() >= 0 and chain.position() >= (head or 0), "chained")
        yield Served(runtime, client, journey, bearer(runtime, "auditor"))


def references(j: Journey) -> list[tuple[str, str]]:
    return [
        ("cases", j.case),
        ("contacts", j.case),
        ("contacts", j.phone_contact),
        ("customers", j.customer),
        ("orders", j.order),
        ("returns", j.return_id),
        ("surveys", j.survey),
        ("callbacks", j.callback),
    ]


def failures_in_metrics(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        s.labels["kind"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "journey_audit_verification_failures_total"
    }


def test_every_kind_verifies_by_the_id_its_channel_sent(served: Served) -> None:
    for kind, ref in references(served.journey):
        answer = served.verify(kind, ref)
        assert answer.status_code == 200, (kind, ref, answer.text)
        body = answer.json()
        assert (body["kind"], body["ref"], body["ok"], body["problem"]) == (kind, ref, True, None)
        assert body["aggregate_id"] == str(kind_named(kind).id_of(ref))
        assert body["events_checked"] == body["stored"] == body["chained"] > 0
    case = served.client.get(f"/v1/cases/{served.journey.case}/verify", headers=served.auditor)
    generic = served.verify("cases", served.journey.case).json()
    assert case.json() == {k: v for k, v in generic.items() if k not in ("kind", "ref")}
    assert set(failures_in_metrics(served.client).values()) == {0}


def q(text: str) -> str:
    return quote(text, safe="")


@pytest.mark.parametrize(
    ("kind", "ref", "status"),
    [
        ("order", "o-1", 404),  # a kind is plural, as in the URL of its resource
        ("ParkingLot", "o-1", 404),
        (q("k" * 65), "o-1", 422),
        ("orders", q("o" * 201), 422),
        ("orders", q("a\x00b"), 422),
        ("orders%00", "o-1", 422),
        ("orders", q("💥"), 404),
        ("orders", "%ED%A0%80", 404),  # a surrogate in UTF-8: not text, no such order
        ("orders", "%FF%FE", 404),
        ("orders", q(".."), 404),
        ("orders", q("'; DROP TABLE audit_chain; --"), 404),
    ],
)
def test_unknown_kinds_and_hostile_ids_are_4xx_problems(
    served: Served, kind: str, ref: str, status: int
) -> None:
    """Path segments as sent, percent-encoded."""
    answer = served.client.get(f"/v1/audit/{kind}/{ref}/verify", headers=served.auditor)
    assert answer.status_code == status, answer.text
    assert {"type", "status", "error", "detail", "problems"} <= set(answer.json())


def test_an_altered_order_is_found_by_the_route_by_journey_verify_and_in_metrics(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime, journey = served.runtime, served.journey
    order_id = Order.create_id(journey.order)
    table = EventTable(runtime)
    original = table.state(order_id, 1)
    assert b"store-sh-07" in original
    table.set_state(order_id, 1, original.replace(b"store-sh-07", b"store-sh-66"))

    answer = served.verify("orders", journey.order)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["ok"], body["problem"]["version"], body["problem"]["kind"]) == (
        False,
        1,
        "altered",
    )
    assert failures_in_metrics(served.client)["orders"] == 1

    capsys.readouterr()
    assert run(runtime, "verify", "--json") == 1
    captured = capsys.readouterr()
    summary = orjson.loads(captured.out)
    assert summary["ok"] is False
    # Events that arrived before what they refer to were parked: their lots are checked too.
    checked = {kind: tally["aggregates"] for kind, tally in summary["kinds"].items()}
    checked.pop("ParkingLot", None)
    assert checked == {
        "cases": 1, "contacts": 2, "customers": 1, "orders": 1, "returns": 1, "surveys": 1,
        "callbacks": 1,
    }  # fmt: skip
    assert summary["total"]["failed"] == summary["kinds"]["orders"]["failed"] == 1
    assert summary["failures"] == [
        {
            "kind": "orders",
            "ref": journey.order,
            "aggregate_id": str(order_id),
            "version": 1,
            "problem": "altered",
            "detail": "the stored event differs from the one chained",
        }
    ]
    assert f"audit verification failed: orders {journey.order}" in captured.err

    assert run(runtime, "verify", "--quiet", "--kind", "cases") == 0
    # The command ran in a runtime of its own; the server's /metrics counts its failure.
    assert failures_in_metrics(served.client)["orders"] == 2
    (kept,) = runtime.audit_chain.recorded_failures()
    assert (kept.aggregate_id, kept.kind, kept.ref, kept.times) == (
        order_id,
        "orders",
        journey.order,
        2,
    )


def test_every_kind_answers_its_history_and_state_by_the_id_its_channel_sent(
    served: Served,
) -> None:
    """Issue 15, item 3: history and as-of for every aggregate kind by the id its channel
    sent (an order id no longer answers 404 naming an internal uuid); each read by an
    auditor is in the access log under ``<kind>:<ref>``."""
    client, auditor = served.client, served.auditor
    for kind, ref in references(served.journey):
        base = f"/v1/audit/{q(kind)}/{q(ref)}"
        history = client.get(f"{base}/history", headers=auditor)
        assert history.status_code == 200, (kind, ref, history.text)
        body = history.json()
        versions = [e["version"] for e in body["events"]]
        assert (body["kind"], body["ref"], body["next_cursor"]) == (kind, ref, None)
        assert versions, kind
        assert versions == list(range(1, len(versions) + 1)), (kind, versions)
        state = client.get(base, headers=auditor)
        assert state.status_code == 200, (kind, ref, state.text)
        assert state.json()["aggregate_id"] == str(kind_named(kind).id_of(ref))
        assert (state.json()["version"], state.json()["as_of"]) == (versions[-1], None)
        first = client.get(base, params={"as_of": "1"}, headers=auditor).json()
        assert (first["version"], first["as_of"]) == (1, {"basis": "version", "value": 1})
        then = body["events"][0]["occurred_at"]
        by_then = client.get(base, params={"as_of": then}, headers=auditor)
        assert by_then.status_code == 200, (kind, ref, by_then.text)
        assert by_then.json()["as_of"]["basis"] == "event_time"
        recorded = body["events"][-1]["recorded_at"]
        held = client.get(base, params={"recorded_as_of": recorded}, headers=auditor)
        assert (held.status_code, held.json()["version"]) == (200, versions[-1]), held.text
        csv_rows = client.get(f"{base}/history", params={"format": "csv"}, headers=auditor)
        assert csv_rows.status_code == 200
        assert len(csv_rows.text.strip().splitlines()) == len(versions) + 1
    case = served.journey.case
    own = client.get(f"/v1/cases/{case}/history", headers=auditor).json()
    generic = client.get(f"/v1/audit/cases/{case}/history", headers=auditor).json()
    assert own["events"] == generic["events"]

    for path in ("/v1/audit/order/o-1", "/v1/audit/orders/never-sent/history"):
        refused = client.get(path, headers=auditor)
        assert refused.status_code == 404, refused.text
    analyst = bearer(served.runtime, "analyst")
    order = f"/v1/audit/orders/{q(served.journey.order)}"
    assert client.get(order, headers=analyst).status_code == 403
    log = client.get(
        "/v1/admin/access-log", params={"limit": 500}, headers=bearer(served.runtime, "admin")
    )
    assert log.status_code == 200, log.text
    subjects = {item["subject"] for item in log.json()["items"]}
    assert f"orders:{served.journey.order}" in subjects

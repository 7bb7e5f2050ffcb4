"""Erasure end to end (issue 6; DESIGN.md "Privacy"; R-CUS-04), on every pairing of log
and store: personal data is sealed at rest, masked for analysts, and after an erasure it
appears nowhere — no route, CSV export, dead-letter listing, log line or rebuilt read
model — while cases, orders and KPI counts stay the same."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.privacy.tokens import ERASED
from adapters.publishing import record_of
from api.auth import PUBLIC_PATHS
from api.main import create_api
from contracts.envelope import validate
from journey.bootstrap import Runtime
from projections.rebuild import rebuild
from tests.factories import source_event, unique
from tests.integration.drive import ingest_everything, project_everything
from tests.integration.personal_journeys import (
    KEPT,
    LATE_NOTE,
    NEW_ADDRESS,
    PERSONAL,
    publish_journeys,
)

SECRETS = [
    *PERSONAL.values(),
    NEW_ADDRESS,
    "Erasable",
    "5555 0101",
    "199001014321",
    "Lakeside-Lin",
    "Riverbend-Lin",
]


def leaks(text: str, secrets: list[str] = SECRETS) -> list[str]:
    return [secret for secret in secrets if secret in text]


def files_text(runtime: Runtime) -> str:
    """The bytes of every file under the data folder (the embedded log and its write-ahead
    log included), as text."""
    folder = runtime.settings.data_dir
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    return "\n".join(path.read_bytes().decode("latin-1") for path in files)


def stored_text(runtime: Runtime) -> str:
    """Every stored event's bytes and every read-model row, as text."""
    recorder = runtime.app.process_recorder
    head = recorder.max_notification_id() or 0
    states = [n.state for n in recorder.select_notifications(start=1, limit=head + 1)]
    text = "\n".join(state.decode(errors="replace") for state in states)
    store = runtime.read_store
    if store.dialect == "sqlite":
        tables = [
            r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")
        ]
    else:
        tables = [
            r["table_name"]
            for r in store.query(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        ]
    rows = [str(store.query(f"SELECT * FROM {table}")) for table in tables]
    return text + "\n".join(rows)


def sample(name: str, schema: dict[str, Any]) -> str:
    if schema.get("format") == "date":
        return {"start": "2026-03-01", "end": "2026-03-31"}.get(name, "2026-03-01")
    if schema.get("format") == "date-time":
        return "2026-03-10T00:00:00+00:00"
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("type") == "integer":
        return str(max(1, schema.get("minimum", 1)))
    return "x"


def read_routes(client: TestClient, values: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """(url, body text) of every GET route of the API, its path filled from ``values``."""
    spec = client.app.openapi()  # type: ignore[attr-defined]
    for path, operations in spec["paths"].items():
        if "get" not in operations or path in PUBLIC_PATHS or path == "/metrics":
            continue
        query = {
            p["name"]: sample(p["name"], p["schema"])
            for p in operations["get"].get("parameters", [])
            if p["in"] == "query" and p.get("required")
        }
        url = re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "x"), path)
        yield url, query


def everything_shown(client: TestClient, key: str, values: dict[str, str]) -> str:
    """The bodies of every read route and the CSV export, for one key."""
    headers = {"Authorization": f"Bearer {key}"}
    shown = []
    for url, query in read_routes(client, values):
        answer = client.get(url, params=query, headers=headers)
        assert answer.status_code < 500, (url, answer.text)
        shown.append(f"{url} {answer.status_code} {answer.text}")
    csv = client.get("/v1/complaints", params={"format": "csv"}, headers=headers)
    assert csv.status_code == 200
    shown.append(csv.text)
    return "\n".join(shown)


def figures(client: TestClient, key: str) -> list[Any]:
    """Counts that an erasure must not change."""
    headers = {"Authorization": f"Bearer {key}"}
    kpis = client.get(
        "/v1/kpis", params={"start": "2026-03-01", "end": "2026-03-31"}, headers=headers
    )
    complaints = client.get("/v1/complaints", headers=headers)
    assert kpis.status_code == complaints.status_code == 200
    return [kpis.json(), complaints.json()["items"]]


def dead_letter_listing(client: TestClient, key: str, keyless: str = "opaque") -> str:
    """What an admin sees of the dead letters (as ``journey deadletters list``); the
    keyless one is never in clear: ``opaque``, or ``erased`` once the log blanked it."""
    answer = client.get("/v1/admin/deadletters", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == 3, "the malformed records were dead-lettered"
    shown = [i["original_shown"] for i in answer.json()["items"] if i["customer_id"] is None]
    assert shown == [keyless]
    return answer.text


def test_erasure_end_to_end(runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # kafka-python's DEBUG lines print record values
    for ours in ("journey", "consumers", "projections", "api"):
        caplog.set_level(logging.DEBUG, logger=ours)
    erased, kept = unique("c-erase-"), unique("c-keep-")
    keys = {
        role: runtime.api_keys.create(role).secret_text for role in ("analyst", "auditor", "admin")
    }
    publish_journeys(runtime, erased, kept)
    ingest_everything(runtime)
    project_everything(runtime)

    # At rest, sealed: no stored event and no read-model row holds a clear personal value.
    assert leaks(stored_text(runtime), [*SECRETS, *KEPT.values()]) == []
    if runtime.settings.log_backend == "embedded":  # the source log holds them as sent
        assert leaks(files_text(runtime)) != []

    with TestClient(create_api(runtime, workers=set())) as client:
        case_ref = client.get(
            "/v1/complaints", headers={"Authorization": f"Bearer {keys['admin']}"}
        ).json()["items"][0]["case_id"]
        values = {"customer_id": erased, "case_ref": case_ref}
        # R-CUS-04: the auditor sees the profile in clear, the analyst nowhere.
        auditor_view = client.get(
            f"/v1/customers/{erased}", headers={"Authorization": f"Bearer {keys['auditor']}"}
        ).json()
        assert auditor_view["profile"]["personal"] == PERSONAL
        analyst_view = client.get(
            f"/v1/customers/{erased}", headers={"Authorization": f"Bearer {keys['analyst']}"}
        ).json()
        assert set(analyst_view["profile"]["personal"]) == set(PERSONAL)
        assert leaks(everything_shown(client, keys["analyst"], values)) == []
        before = figures(client, keys["admin"])
        assert leaks(dead_letter_listing(client, keys["admin"])) == []

        # In flight when the erasure comes: applied after it, then forgotten by the log.
        late = source_event(
            "customer.note_added", {"note": LATE_NOTE, "author": "ag-17"}, customer_id=erased
        )
        runtime.publisher.publish(
            record_of(
                runtime.topics, validate(late, now=datetime.now(UTC), max_future=timedelta(0))
            )
        )
        answer = client.post(
            f"/v1/admin/customers/{erased}/erasure",
            json={"reason": "customer asked"},
            headers={"Authorization": f"Bearer {keys['admin']}"},
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["had_key"] is True
        ingest_everything(runtime)
        project_everything(runtime)
        # No file of the data folder holds them any more: the embedded log blanked the
        # customer's records and dead letters (the late note once the ingest applied it)
        # and left no trace in free pages or its write-ahead log.
        assert leaks(files_text(runtime)) == []

        for role, key in keys.items():
            assert leaks(everything_shown(client, key, values)) == [], role
        view = client.get(
            f"/v1/customers/{erased}", headers={"Authorization": f"Bearer {keys['auditor']}"}
        ).json()
        assert set(view["profile"]["personal"].values()) == {ERASED}
        assert view["profile"]["member_id"] == ERASED
        assert view["profile"]["erasure_requested_at"] is not None
        other = client.get(
            f"/v1/customers/{kept}", headers={"Authorization": f"Bearer {keys['auditor']}"}
        ).json()
        assert other["profile"]["personal"] == KEPT  # only the erased customer's key is gone
        assert figures(client, keys["admin"]) == before
        # The embedded log blanked the keyless letter too: it names the customer's id.
        blanked = "erased" if runtime.settings.log_backend == "embedded" else "opaque"
        assert leaks(dead_letter_listing(client, keys["admin"], blanked)) == []

        for projection in runtime.projections:
            rebuild(projection, runtime.projection_runner.reader)
        for role, key in keys.items():
            assert leaks(everything_shown(client, key, values)) == [], f"{role} after rebuild"
        assert figures(client, keys["admin"]) == before

        again = client.post(
            f"/v1/admin/customers/{erased}/erasure",
            headers={"Authorization": f"Bearer {keys['admin']}"},
        )
        assert again.status_code == 202
        assert again.json()["had_key"] is False
        assert (
            client.post(
                "/v1/admin/customers/nobody/erasure",
                headers={"Authorization": f"Bearer {keys['admin']}"},
            ).status_code
            == 404
        )

    assert leaks(stored_text(runtime), [*SECRETS, *KEPT.values()]) == []
    assert leaks(files_text(runtime)) == []
    logged = [f"{r.name}: {r.getMessage()}" for r in caplog.records]
    assert [line for line in logged if leaks(line)] == []

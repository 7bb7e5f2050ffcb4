"""The access log: auditors' and admins' reads of clear personal data are recorded (who,
which customer or case, which route, the status); analysts' masked reads are not; only
admins may read the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.sourcelog.base import OutgoingRecord
from api.main import create_api
from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything, project_everything


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(runtime, workers=set())) as test_client:
        yield test_client


def bearer(runtime: Runtime, role: str) -> tuple[str, dict[str, str]]:
    key = runtime.api_keys.create(role)  # type: ignore[arg-type]
    return key.key_id, {"Authorization": f"Bearer {key.secret_text}"}


def a_customer_with_a_case(runtime: Runtime) -> tuple[str, str]:
    customer, case = unique("cust-"), unique("case-")
    event = contact_opened(customer_id=customer, contact_id=case)
    runtime.publisher.publish_many(
        [
            OutgoingRecord(
                runtime.topics.for_type("contact.opened"), customer.encode(), orjson.dumps(event)
            )
        ]
    )
    ingest_everything(runtime)
    project_everything(runtime)
    return customer, case


def log(client: TestClient, admin: dict[str, str], **params: str) -> list[dict[str, object]]:
    answer = client.get("/v1/admin/access-log", params=params, headers=admin)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["items"]
    return items


def test_auditor_reads_are_recorded_and_analyst_reads_are_not(
    client: TestClient, runtime: Runtime
) -> None:
    customer, case = a_customer_with_a_case(runtime)
    auditor_id, auditor = bearer(runtime, "auditor")
    analyst_id, analyst = bearer(runtime, "analyst")
    _, admin = bearer(runtime, "admin")
    history = client.get(f"/v1/cases/{case}/history", headers=auditor)
    assert history.status_code == 200, history.text
    view = client.get(f"/v1/customers/{customer}", headers=auditor)
    assert client.get(f"/v1/customers/{customer}", headers=analyst).status_code == view.status_code
    assert client.get(f"/v1/cases/{case}/history", headers=analyst).status_code == 403

    entries = log(client, admin, key_id=auditor_id)
    assert [(e["role"], e["subject"], e["route"], e["method"], e["status"]) for e in entries] == [
        ("auditor", f"case:{case}", "/v1/cases/{case_ref}/history", "GET", 200),
        ("auditor", f"customer:{customer}", "/v1/customers/{customer_id}", "GET", view.status_code),
    ]
    at = datetime.fromisoformat(str(entries[0]["at"]))
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=5)  # wall clock: an operational record
    assert log(client, admin, key_id=analyst_id) == []


def test_admin_reads_of_a_case_state_and_explanations_are_recorded(
    client: TestClient, runtime: Runtime
) -> None:
    customer, case = a_customer_with_a_case(runtime)
    admin_id, admin = bearer(runtime, "admin")
    client.get(f"/v1/cases/{case}", params={"as_of": "1"}, headers=admin)
    client.get(f"/v1/customers/{customer}/explain", headers=admin)
    client.get("/v1/cases/nobody/history", headers=admin)
    got = [(e["subject"], e["route"], e["status"]) for e in log(client, admin, key_id=admin_id)]
    assert got == [
        (f"case:{case}", "/v1/cases/{case_ref}", 200),
        (f"customer:{customer}", "/v1/customers/{customer_id}/explain", 200),
        ("case:nobody", "/v1/cases/{case_ref}/history", 404),
    ]
    assert [e["subject"] for e in log(client, admin, subject=f"case:{case}")] == [f"case:{case}"]


@pytest.mark.parametrize("role", ["channel", "analyst", "auditor"])
def test_only_admins_read_the_access_log(client: TestClient, runtime: Runtime, role: str) -> None:
    _, caller = bearer(runtime, role)
    answer = client.get("/v1/admin/access-log", headers=caller)
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    assert client.get("/v1/admin/access-log").status_code == 401


def test_the_access_log_pages_and_filters(client: TestClient, runtime: Runtime) -> None:
    auditor_id, auditor = bearer(runtime, "auditor")
    _, admin = bearer(runtime, "admin")
    for n in range(5):
        client.get(f"/v1/cases/c-{n}/history", headers=auditor)
    seen, cursor = [], None
    while True:
        params = {"key_id": auditor_id, "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/admin/access-log", params=params, headers=admin).json()
        seen += [e["subject"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"case:c-{n}" for n in range(5)]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert log(client, admin, key_id=auditor_id, since=later) == []
    too_many = client.get("/v1/admin/access-log", params={"limit": "501"}, headers=admin)
    assert too_many.status_code == 422

"""The thin slice through a real uvicorn server on loopback, as a channel and an analyst
use it: POST an event, read it back from the complaint ledger.

Embedded: one ``journey serve`` process runs API, ingest and projection. Scaled: the API,
an ingest consumer and a projection worker run as three processes against a real Kafka
broker and a real PostgreSQL, as in the compose file.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.journey_service import Auth
from tests.factories import contact_opened, unique

pytestmark = pytest.mark.e2e


def test_a_published_contact_appears_in_the_complaint_ledger(base_url: str, auth: Auth) -> None:
    customer = unique("cust-")
    first = contact_opened(customer_id=customer, contact_id="c-1", channel="app")
    answer = httpx.post(f"{base_url}/v1/events", json=first, headers=auth("channel"), timeout=30)
    assert answer.status_code == 202, answer.text
    [accepted] = answer.json()["accepted"]
    assert accepted["event_id"] == first["event_id"]
    assert (
        accepted["position"] == f"{accepted['topic']}:{accepted['partition']}:{accepted['offset']}"
    )

    # The same case continued on another channel (R-CH-01), published as a batch of one.
    second = contact_opened(customer_id=customer, contact_id="c-2", case_id="c-1", channel="phone")
    answer = httpx.post(f"{base_url}/v1/events", json=[second], headers=auth("channel"), timeout=30)
    assert answer.status_code == 202, answer.text
    position = answer.json()["accepted"][0]["position"]

    ledger = httpx.get(
        f"{base_url}/v1/complaints",
        params={"consistent_with": position},
        headers=auth("analyst"),
        timeout=30,
    )
    assert ledger.status_code == 200, ledger.text
    [row] = [r for r in ledger.json()["items"] if r["customer_id"] == customer]
    assert row["case_ref"] == "c-1"
    assert row["channels"] == ["app", "phone"]
    assert row["contacts"] == 2
    assert row["classification"] == "complaint"
    assert row["opened_at"] == "2026-03-02T09:30:00+08:00"  # in the report zone (issue 15)
    assert row["status"] == "open"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"schema_version": "1"}, "schema_version"),
        ({"type": "contact.vanished"}, "type"),
        ({"event_id": None}, "event_id"),
    ],
)
def test_an_invalid_envelope_gets_422_naming_the_field(
    base_url: str, auth: Auth, change: dict[str, object], field: str
) -> None:
    body = {**contact_opened(), **change}
    answer = httpx.post(f"{base_url}/v1/events", json=body, headers=auth("channel"), timeout=30)
    assert answer.status_code == 422, answer.text
    assert [p["field"] for p in answer.json()["problems"]] == [field]
    assert field in answer.json()["detail"]

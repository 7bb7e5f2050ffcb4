"""Two customers with personal data published to a runtime's ingress, one of them to be
erased (the erasure tests of tests/integration/test_erasure.py and the admin maintenance
tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from adapters.publishing import record_of
from adapters.sourcelog.base import OutgoingRecord
from contracts.envelope import validate
from journey.bootstrap import Runtime
from tests.factories import contact_opened, source_event, unique

PERSONAL = {
    "name": "Mei Erasable-Lin",
    "phone": "+86 139 5555 0101",
    "email": "mei.erasable@example.org",
    "address": "17 Erasure Lane, Hangzhou",
    "id_number": "330106199001014321",
}
NEW_ADDRESS = "99 Forgotten Street, Ningbo"
NOTE = "Prefers calls on the Lakeside-Lin landline"
LATE_NOTE = "Moved in with the Riverbend-Lin family"
KEPT = {"name": "Kept Zhang-Person", "phone": "+86 137 2222 0303"}
AT = "2026-03-02T09:00:00+08:00"


def publish_journeys(runtime: Runtime, erased: str, kept: str) -> None:
    """Two customers with personal data; one complains, orders, changes the address, and
    sends a malformed record carrying personal data (dead-lettered)."""
    bodies = [
        source_event(
            "customer.registered",
            {"member_id": "m-erasable", "personal": PERSONAL, "consents": ["service"]},
            customer_id=erased,
            occurred_at=AT,
        ),
        source_event(
            "customer.registered",
            {"personal": KEPT, "consents": ["service"]},
            customer_id=kept,
            occurred_at=AT,
        ),
        contact_opened(customer_id=erased, contact_id=unique("ct-"), occurred_at=AT),
        source_event(
            "customer.note_added",
            {"note": NOTE, "author": "ag-17"},
            customer_id=erased,
            occurred_at=AT,
        ),
        source_event(
            "order.placed",
            {
                "order_id": unique("o-"),
                "items": [{"sku": "KT-1", "quantity": 1, "unit_price": "99.00"}],
                "amount_paid": "99.00",
                "currency": "CNY",
                "promised_delivery_at": "2026-03-05T18:00:00+08:00",
            },
            customer_id=erased,
            occurred_at=AT,
        ),
    ]
    bodies.append(
        source_event(
            "order.modified",
            {
                "order_id": bodies[4]["data"]["order_id"],
                "modification_id": "mod-1",
                "changes": {"address": NEW_ADDRESS},
                "systems": ["oms", "wms"],
            },
            customer_id=erased,
            occurred_at="2026-03-02T10:00:00+08:00",
        )
    )
    now = datetime.now(UTC)
    events = [validate(body, now=now, max_future=timedelta(0)) for body in bodies]
    records = [record_of(runtime.topics, event) for event in events]
    malformed = source_event(
        "customer.profile_updated", {"personal": {"name": PERSONAL["name"]}}, customer_id=erased
    )
    malformed["occurred_at"] = "yesterday"  # refused at the edge: dead-lettered as sent
    records.append(
        OutgoingRecord(
            runtime.topics.for_type("customer.profile_updated"),
            erased.encode(),
            orjson.dumps(malformed),
        )
    )
    records.append(  # cut short: not JSON, so its personal data cannot be masked field by field
        OutgoingRecord(
            runtime.topics.for_type("customer.profile_updated"),
            erased.encode(),
            orjson.dumps(malformed)[:-5],
        )
    )
    records.append(  # cut short and without a key: nothing ties it to a customer reliably
        OutgoingRecord(
            runtime.topics.for_type("customer.profile_updated"),
            None,
            orjson.dumps({**malformed, "event_id": unique("ev-")})[:-5],
        )
    )
    runtime.publisher.publish_many(records)

"""Source events carrying source attributes (issue 15, item 4), fed through a real
application: cases of several classifications and orders with their source status, for
the ledger's and the orders read model's filters and counts on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.envelope import SourceEvent, validate
from tests.unit.feeding import NOW

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
VIAS = ("Web", "Postal mail", "Web", "Fax", None, "Web")
"""Each case's 'Submitted via' (None: the case carries no attribute)."""
ORDER_STATUSES = ("delivered", "invoiced", "canceled", "delivered", "unavailable")


def envelope(
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str,
    at: datetime,
    customer: str,
    attributes: dict[str, str] | None,
    version: int = 1,
) -> SourceEvent:
    body: dict[str, Any] = {
        "event_id": event_id,
        "type": event_type,
        "occurred_at": at.isoformat(),
        "channel": "web",
        "customer_id": customer,
        "source": "test",
        "schema_version": version,
        "data": data,
    }
    if attributes is not None:
        body["attributes"] = attributes
    return validate(body, now=NOW, max_future=timedelta(minutes=5))


def opened(
    contact: str,
    attributes: dict[str, str] | None,
    *,
    at: datetime = T0,
    classification: str = "complaint",
    customer: str = "cust-1",
    store: str | None = None,
) -> SourceEvent:
    data = {"contact_id": contact, "classification": classification, "topic": "other"}
    if store is not None:
        data["store_id"] = store
    return envelope(
        "contact.opened",
        data,
        event_id=f"ev-{contact}",
        at=at,
        customer=customer,
        attributes=attributes,
        version=3,
    )


def cases() -> list[SourceEvent]:
    """One case per ``VIAS``, 200 days and 20 hours apart (a local date that is not the UTC
    one in Asia/Shanghai), complaints and inquiries in turn."""
    return [
        opened(
            f"c-{n}",
            {"submitted_via": via, "state": "CA"} if via else None,
            at=T0 + timedelta(days=200 * n, hours=20),
            classification="complaint" if n % 2 == 0 else "inquiry",
            customer=f"cust-{n}",
        )
        for n, via in enumerate(VIAS)
    ]


def orders() -> list[SourceEvent]:
    """One order per ``ORDER_STATUSES``, the source's status on its placement."""
    return [
        envelope(
            "order.placed",
            {
                "order_id": f"o-{n}",
                "items": [{"sku": "KT-1", "quantity": 1, "unit_price": "10.00"}],
                "amount_paid": "10.00",
                "currency": "CNY",
                "promised_delivery_at": (T0 + timedelta(days=3)).isoformat(),
            },
            event_id=f"ev-o-{n}",
            at=T0 + timedelta(hours=n),
            customer=f"cust-o{n}",
            attributes={"order_status": status},
        )
        for n, status in enumerate(ORDER_STATUSES)
    ]


STORES_APART = (
    ("s1", "complaint", "Postal mail"),
    ("s1", "inquiry", "Web"),
    ("s1", "inquiry", "Web"),
    ("s1", "inquiry", "Web"),
    ("s2", "inquiry", "Postal mail"),
    ("s2", "complaint", "Web"),
)
"""A day's contacts (store, classification, 'Submitted via') whose complaint rates rank the
stores one way over all and the other way over postal mail (R-KPI-06): all, s1 1/4 and s2
1/2; postal mail, s1 1/1 and s2 0/1; web, s1 0/3 and s2 1/1."""


def stores_apart(days: int = 3) -> list[SourceEvent]:
    """``STORES_APART`` on ``days`` consecutive days, each contact its own customer's (so no
    complaint repeats another): over all and over web s2 is flagged on the third day, over
    postal mail s1."""
    return [
        opened(
            f"apart-{day}-{n}",
            {"submitted_via": via},
            at=T0 + timedelta(days=day, minutes=n),
            classification=classification,
            customer=f"cust-apart-{day}-{n}",
            store=store,
        )
        for day in range(days)
        for n, (store, classification, via) in enumerate(STORES_APART)
    ]

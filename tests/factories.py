"""Builders of test inputs."""

from __future__ import annotations

import uuid
from typing import Any


def unique(prefix: str) -> str:
    """Isolation by uniqueness: every test gets its own topics, groups and schemas."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def contact_opened(
    *,
    event_id: str | None = None,
    customer_id: str = "cust-1",
    contact_id: str = "contact-1",
    case_id: str | None = None,
    channel: str = "app",
    occurred_at: str = "2026-03-02T09:30:00+08:00",
    **data: Any,
) -> dict[str, Any]:
    """A valid ``contact.opened`` envelope (DESIGN.md), overridable field by field: in
    version 1, or 3 when it opens with the customer's first message (``first_message_id``,
    R-RESP-01 from the opening)."""
    body: dict[str, Any] = {
        "contact_id": contact_id,
        "classification": "complaint",
        "topic": "order",
        "store_id": "store-7",
        "agent_group": "after-sales-a",
        **data,
    }
    if case_id is not None:
        body["case_id"] = case_id
    return {
        "event_id": event_id or unique("ev-"),
        "type": "contact.opened",
        "occurred_at": occurred_at,
        "channel": channel,
        "customer_id": customer_id,
        "source": "test-channel",
        "schema_version": 3 if "first_message_id" in body else 1,
        "data": body,
    }


def source_event(
    event_type: str,
    data: dict[str, Any],
    *,
    customer_id: str = "cust-1",
    occurred_at: str = "2026-03-02T09:30:00+08:00",
    channel: str = "app",
    event_id: str | None = None,
) -> dict[str, Any]:
    """A valid envelope of any type (DESIGN.md) around ``data``."""
    return {
        "event_id": event_id or unique("ev-"),
        "type": event_type,
        "occurred_at": occurred_at,
        "channel": channel,
        "customer_id": customer_id,
        "source": "test-channel",
        "schema_version": 1,
        "data": data,
    }

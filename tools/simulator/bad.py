"""Deliberately bad records, each of a named kind, that the ingest must dead-letter with a
reason naming the field at fault (DESIGN.md, "Source event envelope").

Each is made from a good record of the stream (its envelope, with an event id of its own,
so the good record is still applied): it is published right after it, on the same topic
with the same key, except the domain-rule one, an order of its own on the orders topic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Any

import orjson

from contracts.schemas import EVENT_TYPES


@dataclass(frozen=True)
class BadRecord:
    kind: str
    value: bytes
    field: str
    """What the refusal's reason names."""
    route: str | None = None
    """The type whose topic carries it; None: the good record's topic."""


def _body(envelope: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {**envelope, "event_id": event_id, "data": dict(envelope["data"])}


def malformed_json(envelope: dict[str, Any], event_id: str, rng: Random) -> BadRecord:
    """Cut in the middle: not JSON at all."""
    value = orjson.dumps(_body(envelope, event_id))
    return BadRecord("malformed_json", value[: len(value) // 2], "body")


def missing_field(envelope: dict[str, Any], event_id: str, rng: Random) -> BadRecord:
    """A required field of the type's data left out (or, for a type with none, the
    envelope's ``occurred_at``)."""
    body = _body(envelope, event_id)
    schema = EVENT_TYPES[body["type"]].versions[body["schema_version"]]
    required = [name for name, f in schema.model_fields.items() if f.is_required()]
    present = [name for name in required if name in body["data"]]
    if present:
        name = rng.choice(present)
        del body["data"][name]
        return BadRecord("missing_field", orjson.dumps(body), f"data.{name}")
    del body["occurred_at"]
    return BadRecord("missing_field", orjson.dumps(body), "occurred_at")


def wrong_type(envelope: dict[str, Any], event_id: str, rng: Random) -> BadRecord:
    """A text field of the data sent as a list (or the schema version as text)."""
    body = _body(envelope, event_id)
    texts = [name for name, value in body["data"].items() if isinstance(value, str)]
    if texts:
        name = rng.choice(texts)
        body["data"][name] = [body["data"][name]]
        return BadRecord("wrong_type", orjson.dumps(body), f"data.{name}")
    body["schema_version"] = str(body["schema_version"])
    return BadRecord("wrong_type", orjson.dumps(body), "schema_version")


def unknown_type(envelope: dict[str, Any], event_id: str, rng: Random) -> BadRecord:
    """A type the catalog does not know, in the same family."""
    body = _body(envelope, event_id)
    body["type"] = f"{body['type'].split('.', 1)[0]}.teleported"
    return BadRecord("unknown_type", orjson.dumps(body), "type")


def future_time(envelope: dict[str, Any], event_id: str, rng: Random) -> BadRecord:
    """``occurred_at`` a century after the event: far beyond any allowed clock skew."""
    body = _body(envelope, event_id)
    at = datetime.fromisoformat(body["occurred_at"])
    body["occurred_at"] = (at + timedelta(days=36525)).isoformat()
    return BadRecord("future_occurred_at", orjson.dumps(body), "occurred_at")


def unknown_channel(envelope: dict[str, Any], event_id: str, rng: Random) -> BadRecord:
    """A channel outside R-CH-01."""
    body = _body(envelope, event_id)
    body["channel"] = rng.choice(("fax", "carrier_pigeon", "telex"))
    return BadRecord("unknown_channel", orjson.dumps(body), "channel")


def domain_rule(envelope: dict[str, Any], event_id: str, rng: Random) -> BadRecord:
    """Valid for the catalog, refused by the domain: an order promised for before it was
    placed (R-ORD-04); an order of its own, so no good record depends on it."""
    at = datetime.fromisoformat(envelope["occurred_at"])
    body = {
        **{k: envelope[k] for k in ("occurred_at", "customer_id", "source")},
        "event_id": event_id,
        "type": "order.placed",
        "channel": "app",
        "schema_version": 1,
        "data": {
            "order_id": f"{event_id}-order",
            "items": [{"sku": "MUG-11", "quantity": 1, "unit_price": "39.50"}],
            "amount_paid": "39.50",
            "currency": "CNY",
            "promised_delivery_at": (at - timedelta(days=1)).isoformat(),
        },
    }
    return BadRecord("domain_rule", orjson.dumps(body), "promised delivery", "order.placed")


Maker = Callable[[dict[str, Any], str, Random], BadRecord]
KINDS: dict[str, Maker] = {
    "malformed_json": malformed_json,
    "missing_field": missing_field,
    "wrong_type": wrong_type,
    "unknown_type": unknown_type,
    "future_occurred_at": future_time,
    "unknown_channel": unknown_channel,
    "domain_rule": domain_rule,
}
BAD_KINDS = tuple(KINDS)

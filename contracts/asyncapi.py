"""The channels' machine-readable contract for Kafka: an AsyncAPI 3.0 document of the ingress
topics and the dead-letter topic, generated from the event registry (``EVENT_TYPES``), so a
channel team can generate a producer without reading our code. The OpenAPI document covers
HTTP; this covers the log. It is served at ``GET /v1/schemas/asyncapi`` and validated
against AsyncAPI's own JSON Schema by tests/integration/test_asyncapi.py.

Each event type is a message of its family's topic: key, headers and payload (the envelope
with the type's ``data`` schema, latest version; older versions are accepted and upcast).
The topics' addresses are the deployment's (``Topics``), given by the caller: this layer
does not know the prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.attributes import json_schema as attributes_schema
from contracts.envelope import Envelope
from contracts.schemas import EVENT_TYPES
from contracts.schemas.registry import EventType

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
REF = "#/components/schemas/{model}"

REFUSALS = (
    "A record is refused to the dead-letter topic, with its original key and bytes, when it"
    " is not one event this contract admits; the `reason` header names the field or rule:"
    " `body: not JSON` (or not strict JSON: a key written twice, NaN), `value: null (a"
    " tombstone)`, `<field>: <why>` for a field the schema refuses (required, type, length,"
    " control characters, unknown type or version), `occurred_at: ... after` for an event"
    " time too far ahead of the log's own time, `R-<rule>: <why>` for a service rule, and"
    " `<what it waited for>; not arrived within 24h` for an event parked for its"
    " prerequisite (the order, case, contact... it names) that never came."
)


def _hoisted(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` moved into ``components`` (refs point there)."""
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    return schema


def schema_name(event_type: EventType) -> str:
    return event_type.schema.__name__


def payload_schema(event_type: EventType, ref_template: str = REF) -> dict[str, Any]:
    """The whole record value of ``event_type``: the envelope, with its ``type`` and
    ``schema_version`` fixed and its ``data`` the type's latest schema (a ``$ref``)."""
    envelope = Envelope.model_json_schema(ref_template=ref_template)
    envelope.pop("$defs", None)
    properties = dict(envelope["properties"])
    properties["type"] = {"const": event_type.name, "type": "string"}
    properties["schema_version"] = {
        "type": "integer",
        "enum": sorted(event_type.versions),
        "description": f"Latest {event_type.latest}; older versions are upcast.",
    }
    properties["data"] = {"$ref": ref_template.format(model=schema_name(event_type))}
    properties["attributes"] = attributes_schema(event_type.family)
    return {**envelope, "title": event_type.name, "properties": properties}


def event_json_schema(event_type: EventType) -> dict[str, Any]:
    """A standalone JSON Schema (2020-12) of one event type's record value."""
    data = event_type.schema.model_json_schema(ref_template="#/$defs/{model}")
    defs = {**data.pop("$defs", {}), schema_name(event_type): data}
    schema = payload_schema(event_type, "#/$defs/{model}")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "$defs": defs}


def _message(event_type: EventType, components: dict[str, Any]) -> dict[str, Any]:
    data = event_type.schema.model_json_schema(ref_template=REF)
    components[schema_name(event_type)] = _hoisted(data, components)
    doc = " ".join((event_type.schema.__doc__ or "").split())
    return {
        "name": event_type.name,
        "title": event_type.name,
        "summary": doc.split(". ")[0][:200] if doc else event_type.name,
        "description": doc,
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "description": "Set by our publisher; optional for other producers (the value"
            " is what counts).",
            "properties": {
                "event_id": {"type": "string"},
                "type": {"type": "string", "const": event_type.name},
                "schema_version": {"type": "string"},
            },
        },
        "payload": payload_schema(event_type),
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The envelope's customer_id."},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _dead_letter() -> dict[str, Any]:
    return {
        "name": "dead_letter",
        "title": "A refused record",
        "summary": "A record the service refused, kept with the reason.",
        "description": REFUSALS,
        "headers": {
            "type": "object",
            "required": ["reason", "source_topic", "source_partition", "source_offset"],
            "properties": {
                "reason": {"type": "string", "description": "What is wrong: field or rule."},
                "source_topic": {"type": "string"},
                "source_partition": {"type": "string", "description": "An integer, as text."},
                "source_offset": {"type": "string", "description": "An integer, as text."},
            },
        },
        "payload": {"description": "The refused record's original bytes, as they came."},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The refused record's key, if any."},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def document(topics: Mapping[str, str], dead_letters: str, version: str = "1") -> dict[str, Any]:
    """The AsyncAPI document; ``topics``: family → its ingress topic's name."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for family in EVENT_TYPES.families():
        types = [t for t in EVENT_TYPES if t.family == family]
        for event_type in types:
            messages[event_type.name] = _message(event_type, schemas)
        refs = {t.name: {"$ref": f"#/components/messages/{t.name}"} for t in types}
        channels[family] = {
            "address": topics[family],
            "title": f"{family} events",
            "description": "Keyed by customer_id, so one customer's events of this family"
            " stay in order on one partition. The broker stamps each record's time"
            " (LogAppendTime): a producer's own timestamp is not used.",
            "messages": refs,
        }
        operations[f"publish_{family}"] = {
            "action": "send",
            "title": f"Publish {family} events",
            "channel": {"$ref": f"#/channels/{family}"},
            "messages": [{"$ref": f"#/channels/{family}/messages/{name}"} for name in refs],
        }
    channels["dead_letters"] = {
        "address": dead_letters,
        "title": "Refused records",
        "description": REFUSALS,
        "messages": {"dead_letter": {"$ref": "#/components/messages/dead_letter"}},
    }
    operations["read_dead_letters"] = {
        "action": "receive",
        "title": "Read refused records",
        "channel": {"$ref": "#/channels/dead_letters"},
        "messages": [{"$ref": "#/channels/dead_letters/messages/dead_letter"}],
    }
    messages["dead_letter"] = _dead_letter()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Service journey: source events on Kafka",
            "version": version,
            "description": "What channels publish, and where refused records go."
            " The HTTP API (OpenAPI at /openapi.json) publishes the same events.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }

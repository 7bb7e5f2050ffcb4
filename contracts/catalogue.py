"""``docs/events.md``: the source-event catalog rendered from the schemas themselves, so the
document and the code cannot drift apart (a test compares them)."""

from __future__ import annotations

import inspect
from typing import Any

import orjson

from contracts.attributes import render as render_attributes
from contracts.clock_needs import render_clock_needs
from contracts.schemas import EVENT_TYPES, SECTIONS
from contracts.schemas.base import Data
from domain.policy import BASELINE

EXAMPLE_TIME = "2026-03-02T09:30:00+08:00"


def example_envelope(event_type: str, schema: type[Data], version: int) -> dict[str, Any]:
    return {
        "event_id": f"ev-{event_type}-v{version}",
        "type": event_type,
        "occurred_at": EXAMPLE_TIME,
        "channel": schema.example_channel,
        "customer_id": "cust-1001",
        "source": "example-system",
        "schema_version": version,
        "data": schema.example,
    }


def _json_type(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " \\| ".join(str(v) for v in prop["enum"])
    if "const" in prop:
        return str(prop["const"])
    if "anyOf" in prop:
        parts = [p for p in prop["anyOf"] if p.get("type") != "null"]
        if {p.get("type") for p in parts} == {"number", "string"}:
            return "decimal"
        return " \\| ".join(_json_type(p) for p in parts)
    kind = prop.get("type", "object")
    if kind == "string" and prop.get("format"):
        return str(prop["format"])
    if kind == "array":
        return f"list of {_json_type(prop.get('items', {}))}"
    return str(kind)


def _fields(schema: type[Data]) -> list[str]:
    properties = schema.model_json_schema().get("properties", {})
    rows = ["| field | type | required | meaning |", "|---|---|---|---|"]
    for name, info in schema.model_fields.items():
        required = "yes" if info.is_required() else "no"
        kind = _json_type(properties.get(name, {}))
        rows.append(f"| `{name}` | {kind} | {required} | {info.description or ''} |")
    return rows


def render() -> str:
    lines = [
        "# Source events",
        "",
        "Every event a channel or system publishes: its type, its `data` schema per version,",
        "and one valid example (the tests validate every example). The envelope around",
        "`data` is described in `../shared/DESIGN.md`; old versions are upcast, never refused.",
        "Generated from `contracts/schemas/` by `journey catalog`; do not edit by hand.",
        "",
    ]
    for section in SECTIONS:
        title = (inspect.getdoc(section) or section.__name__).splitlines()[0].replace("``", "`")
        lines += [f"## {title}", ""]
        for event_type in EVENT_TYPES.in_module(section.__name__):
            latest, schema = event_type.latest, event_type.schema
            doc = " ".join((inspect.getdoc(schema) or "").split()).replace("``", "`")
            older = ", ".join(f"v{v}" for v in sorted(event_type.versions) if v != latest)
            lines += [f"### `{event_type.name}` (v{latest})", "", doc, ""]
            if older:
                lines += [f"Older versions accepted and upcast: {older}.", ""]
            lines += _fields(schema)
            example = orjson.dumps(
                example_envelope(event_type.name, schema, latest), option=orjson.OPT_INDENT_2
            ).decode()
            lines += ["", "```json", example, "```", ""]
    lines += render_attributes()
    lines += render_clock_needs(BASELINE)
    return "\n".join(lines)

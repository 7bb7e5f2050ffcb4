"""Every source event type's JSON Schema, as GET /v1/schemas/events/{type} serves it
(``contracts.asyncapi.event_json_schema``): its catalogue example validates against it, and
a record of another type or with a field the schema does not know does not."""

from __future__ import annotations

import jsonschema
import pytest

from contracts.asyncapi import event_json_schema
from contracts.catalogue import example_envelope
from contracts.schemas import EVENT_TYPES


@pytest.mark.parametrize("event_type", sorted(t.name for t in EVENT_TYPES))
def test_each_event_type_s_json_schema_admits_its_example_and_refuses_a_broken_one(
    event_type: str,
) -> None:
    kind = EVENT_TYPES[event_type]
    validator = jsonschema.Draft202012Validator(event_json_schema(kind))
    example = example_envelope(event_type, kind.schema, kind.latest)
    assert [e.message for e in validator.iter_errors(example)] == []
    assert list(validator.iter_errors({**example, "type": "other.type"}))
    assert list(validator.iter_errors({**example, "data": {**example["data"], "x": 1}}))
    assert list(validator.iter_errors({k: v for k, v in example.items() if k != "event_id"}))

"""The source-event catalog: every type has a schema, an example that validates, a handler,
a topic; and docs/events.md is the catalog as the code defines it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.topics import FAMILIES, Topics
from application.handlers import HANDLERS
from contracts.catalogue import example_envelope, render
from contracts.envelope import validate
from contracts.schemas import CATALOG, latest_version

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
EXAMPLES = [
    pytest.param(event_type, version, id=f"{event_type}-v{version}")
    for event_type, versions in sorted(CATALOG.items())
    for version in sorted(versions)
]


@pytest.mark.parametrize(("event_type", "version"), EXAMPLES)
def test_every_example_validates_and_upcasts_to_the_latest_version(
    event_type: str, version: int
) -> None:
    schema = CATALOG[event_type][version]
    assert schema.__doc__, f"{schema.__name__} says what the event means"
    event = validate(
        example_envelope(event_type, schema, version), now=NOW, max_future=timedelta(minutes=5)
    )
    assert event.type == event_type
    assert event.envelope.channel == schema.example_channel
    assert event.envelope.schema_version == latest_version(event_type)
    assert isinstance(event.data, CATALOG[event_type][latest_version(event_type)])
    # The example's values arrive unchanged (upcasting only adds fields).
    dumped = event.data.model_dump(mode="json")
    expected = schema.model_validate(schema.example).model_dump(mode="json")
    assert {name: dumped[name] for name in schema.example} == {
        name: expected[name] for name in schema.example
    }


def test_every_type_has_a_handler_and_every_handler_a_type() -> None:
    assert sorted(HANDLERS) == sorted(CATALOG)


def test_every_type_goes_to_its_familys_topic() -> None:
    topics = Topics("p.", 6)
    for event_type in CATALOG:
        assert event_type.split(".")[0] in FAMILIES, event_type
        assert topics.for_type(event_type) in topics.ingress


def test_every_version_below_the_latest_has_an_upcast() -> None:
    from contracts.schemas import UPCASTS

    for event_type, versions in CATALOG.items():
        for version in versions:
            if version < latest_version(event_type):
                assert (event_type, version) in UPCASTS, (event_type, version)


def test_docs_events_md_is_the_catalog_the_code_defines() -> None:
    """Regenerate with: .venv/bin/journey catalog > docs/events.md"""
    document = Path(__file__).parents[2] / "docs" / "events.md"
    assert document.read_text() == render() + "\n"

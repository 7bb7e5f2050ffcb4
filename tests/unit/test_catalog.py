"""The source-event catalog: every type has a schema, an example that validates, a handler,
a topic; and docs/events.md is the catalog as the code defines it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.topics import Topics
from application.handlers import HANDLERS, Handlers, Registration
from contracts.catalogue import example_envelope, render
from contracts.envelope import validate
from contracts.schemas import EVENT_TYPES, FAMILIES, EventTypes

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
EXAMPLES = [
    pytest.param(event_type, version, id=f"{event_type}-v{version}")
    for event_type in EVENT_TYPES.names()
    for version in sorted(EVENT_TYPES[event_type].versions)
]


@pytest.mark.parametrize(("event_type", "version"), EXAMPLES)
def test_every_example_validates_and_upcasts_to_the_latest_version(
    event_type: str, version: int
) -> None:
    schema = EVENT_TYPES[event_type].versions[version]
    assert schema.__doc__, f"{schema.__name__} says what the event means"
    event = validate(
        example_envelope(event_type, schema, version), now=NOW, max_future=timedelta(minutes=5)
    )
    assert event.type == event_type
    assert event.envelope.channel == schema.example_channel
    assert event.envelope.schema_version == EVENT_TYPES[event_type].latest
    assert isinstance(event.data, EVENT_TYPES[event_type].schema)
    # The example's values arrive unchanged (upcasting only adds fields).
    dumped = event.data.model_dump(mode="json")
    expected = schema.model_validate(schema.example).model_dump(mode="json")
    assert {name: dumped[name] for name in schema.example} == {
        name: expected[name] for name in schema.example
    }


def test_every_type_has_a_handler_and_every_handler_a_type() -> None:
    assert HANDLERS.schemas() == {event_type.schema for event_type in EVENT_TYPES}
    assert sorted(r.schema.event_type for r in HANDLERS) == EVENT_TYPES.names()


def test_a_handler_applies_the_latest_schema_of_a_type_and_only_one_handler_does() -> None:
    from contracts.schemas.contacts import ContactMessage, ContactOpened, ContactOpenedV1

    def apply(unit: object, event: object, data: object, source: object) -> None:
        pass

    handlers = Handlers()
    handlers.register(Registration(ContactOpened, apply))
    with pytest.raises(TypeError, match="already handled by"):
        handlers.register(Registration(ContactOpened, apply))
    with pytest.raises(TypeError, match="not the latest schema"):
        handlers.register(Registration(ContactOpenedV1, apply))
    event = validate(
        example_envelope("contact.message", ContactMessage, 1),
        now=NOW,
        max_future=timedelta(minutes=5),
    )
    with pytest.raises(TypeError, match="carries ContactMessage, not ContactOpened"):
        Registration(ContactOpened, apply).data_of(event)


def test_every_type_goes_to_its_familys_topic() -> None:
    topics = Topics("p.", 6)
    for event_type in EVENT_TYPES:
        assert event_type.family in FAMILIES, event_type.name
        assert topics.for_type(event_type.name) == f"p.{event_type.family}"
        assert topics.for_type(event_type.name) in topics.ingress


def test_every_version_below_the_latest_has_an_upcast() -> None:
    for event_type in EVENT_TYPES:
        for version in event_type.versions:
            if version < event_type.latest:
                assert version in event_type.upcasts, (event_type.name, version)


def test_docs_events_md_is_the_catalog_the_code_defines() -> None:
    """Regenerate with: .venv/bin/journey catalog > docs/events.md"""
    document = Path(__file__).parents[2] / "docs" / "events.md"
    assert document.read_text() == render() + "\n"


def test_every_schema_declares_the_type_family_and_version_it_is_registered_under() -> None:
    for event_type in EVENT_TYPES:
        for version, schema in event_type.versions.items():
            assert schema.event_type == event_type.name
            assert schema.family == event_type.family
            assert schema.schema_version == version


def test_a_declaration_that_contradicts_the_registry_is_refused() -> None:
    from contracts.schemas.contacts import ContactMessage, ContactOpened

    registry = EventTypes()
    registry.register(ContactOpened, "contact.opened", "contacts", 1, None)
    with pytest.raises(TypeError, match="already ContactOpened"):
        registry.register(ContactMessage, "contact.opened", "contacts", 1, None)
    with pytest.raises(TypeError, match="in family contacts, not orders"):
        registry.register(ContactMessage, "contact.opened", "orders", 2, None)
    with pytest.raises(TypeError, match="unknown family"):
        registry.register(ContactMessage, "contact.message", "contact", 1, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a type name"):
        registry.register(ContactMessage, "ContactMessage", "contacts", 1, None)
    registry.register(ContactMessage, "contact.opened", "contacts", 3, None)
    with pytest.raises(TypeError, match="have a gap"):
        registry.check()


def test_a_version_below_the_latest_without_an_upcast_is_refused() -> None:
    from contracts.schemas.contacts import ContactOpened, ContactOpenedV1

    registry = EventTypes()
    registry.register(ContactOpenedV1, "contact.opened", "contacts", 1, None)
    registry.register(ContactOpened, "contact.opened", "contacts", 2, None)
    with pytest.raises(TypeError, match="needs one"):
        registry.check()


# -- what the SLA clocks need (issue 14, item 7) --------------------------------------------


def test_every_clock_need_names_events_the_registry_has_and_rules_the_domain_times() -> None:
    """The catalogue's clock table (contracts/clock_needs.py) cannot drift from the code: each
    event it names is a registered type, each event type it names in its text is listed in
    ``events``, and each rule is one a domain aggregate's clock code starts."""
    from contracts.clock_needs import CLOCK_NEEDS
    from contracts.schemas import EVENT_TYPES

    domain_code = "".join(
        (Path(__file__).parents[2] / "domain" / f"{name}.py").read_text()
        for name in ("contact", "case", "order", "returns", "survey", "callback")
    )
    known = set(EVENT_TYPES.names())
    for need in CLOCK_NEEDS:
        assert set(need.events) <= known, need.rule
        named = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", need.starts + need.stops + need.notes))
        assert named <= set(need.events), (need.rule, named - set(need.events))
        rule = need.rule.split()[0]
        assert f'"{rule}' in domain_code or f'= "{rule}"' in domain_code, rule


def test_the_clock_targets_are_the_policy_s() -> None:
    from contracts.clock_needs import CLOCK_NEEDS, span
    from domain.policy import BASELINE

    by_rule = {need.rule: need.target(BASELINE) for need in CLOCK_NEEDS}
    assert by_rule["R-RESP-01"] == span(BASELINE.im_first_reply) == "30 s"
    assert by_rule["R-REF-05"] == "48 h"
    assert by_rule["R-RESP-03"].startswith("15 s; working hours 09:00 to 21:00 UTC+8")
    assert span(BASELINE.refund_completion) == "3 d"


def test_contact_opened_states_exactly_the_funnel_s_stages() -> None:
    """R-KPI-08: the stages a channel may state are the funnel's (domain/funnel.py)."""
    from typing import get_args

    from contracts.schemas.contacts import ContactOpened
    from domain.funnel import STAGES

    annotation = ContactOpened.model_fields["funnel_stage"].annotation
    literal = next(arg for arg in get_args(annotation) if arg is not type(None))
    assert get_args(literal) == STAGES

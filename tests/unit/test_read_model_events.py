"""Every domain event class is a decision for every read model: each projection's
``handles`` table (``projections.dispatch``) either routes it to a handler or lists it as
deliberately ignored. A new event class in ``domain/`` fails here, naming the read models
that have not yet said which, instead of being skipped by them without anyone deciding."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from eventsourcing.domain import Aggregate

import domain
from domain.aggregate import JourneyAggregate
from domain.parking import ParkingLot
from projections.audit_chain import REF_FIELDS
from projections.registry import READ_MODELS, ReadModel

PROJECTIONS = [model for model in READ_MODELS if not model.follower]


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def aggregates() -> list[type[JourneyAggregate]]:
    """Every aggregate class of ``domain/`` (each module imported, so none is missed)."""
    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{module.name}")
    found = {a for a in _subclasses(JourneyAggregate) if a.__module__.startswith("domain.")}
    return sorted(found, key=lambda a: a.__qualname__)


def event_classes(aggregate: type[JourneyAggregate]) -> list[type]:
    """The aggregate's domain event classes: every class nested in it that subclasses its
    event base, the clock decisions and ``Acknowledged`` it inherits from
    ``JourneyAggregate`` included. Left out: the base itself, and the ``Created`` that
    eventsourcing defines on every aggregate class, never recorded here (each aggregate is
    created by its own named event: see ``test_each_aggregate_has_one_creation_event``)."""
    return [
        value
        for value in vars(aggregate).values()
        if isinstance(value, type)
        and issubclass(value, aggregate.Event)
        and value is not aggregate.Event
        and not issubclass(value, JourneyAggregate.Created)
    ]


def parking_event_classes() -> list[type]:
    """The parking lots' events (``domain.parking``: not a journey aggregate, but stored
    beside them, so every read model decides about them too)."""
    return [
        value
        for value in vars(ParkingLot).values()
        if isinstance(value, type)
        and issubclass(value, ParkingLot.Event)
        and value not in (ParkingLot.Event, ParkingLot.Created)
    ]


def all_event_classes() -> list[type]:
    journey = [cls for aggregate in aggregates() for cls in event_classes(aggregate)]
    return journey + parking_event_classes()


def test_the_domain_has_aggregates_and_events_to_check() -> None:
    names = {a.__name__ for a in aggregates()}
    assert {"Case", "Contact", "Customer", "Order", "ReturnRequest", "Callback", "Survey"} <= names
    assert len(all_event_classes()) > 80


@pytest.mark.parametrize("aggregate", aggregates(), ids=lambda a: a.__name__)
def test_each_aggregate_has_one_creation_event(aggregate: type[JourneyAggregate]) -> None:
    created = [cls for cls in event_classes(aggregate) if issubclass(cls, Aggregate.Created)]
    assert len(created) == 1, created


@pytest.mark.parametrize("model", PROJECTIONS, ids=lambda m: m.name)
def test_every_domain_event_class_is_handled_or_deliberately_ignored(model: ReadModel) -> None:
    handles = model.kind.handles  # type: ignore[union-attr]
    undecided = [
        cls.__qualname__
        for cls in all_event_classes()
        if not handles.handles(cls) and not handles.ignores(cls)
    ]
    assert not undecided, (
        f"{model.name} neither handles nor ignores {undecided}: give each a handler, or"
        " list it in the read model's HANDLES.ignore(...)"
    )


@pytest.mark.parametrize("model", PROJECTIONS, ids=lambda m: m.name)
def test_nothing_listed_as_ignored_is_handled(model: ReadModel) -> None:
    """An ignored class with a handler among its bases would be handled after all: the
    declaration would say the opposite of what happens."""
    handles = model.kind.handles  # type: ignore[union-attr]
    assert [cls.__qualname__ for cls in handles.ignored if handles.handles(cls)] == []


@pytest.mark.parametrize("model", PROJECTIONS, ids=lambda m: m.name)
def test_every_declared_class_is_a_domain_event_class_or_a_base_of_one(model: ReadModel) -> None:
    """No stale entry: what a read model handles or ignores still exists in the domain."""
    handles = model.kind.handles  # type: ignore[union-attr]
    bases = {base for cls in all_event_classes() for base in cls.__mro__}
    declared = [*handles.handled, *handles.ignored]
    assert [cls.__qualname__ for cls in declared if cls not in bases] == []


@pytest.mark.parametrize("aggregate", aggregates(), ids=lambda a: a.__name__)
def test_the_audit_chain_knows_where_each_aggregate_keeps_its_reference(
    aggregate: type[JourneyAggregate],
) -> None:
    """The audit chain chains every stored record, whatever its class (it reads raw
    records); of a creation event it keeps the external reference, named per aggregate."""
    (created,) = [cls for cls in event_classes(aggregate) if issubclass(cls, Aggregate.Created)]
    field = REF_FIELDS[aggregate.__name__]
    assert any(field in vars(cls).get("__annotations__", {}) for cls in created.__mro__)

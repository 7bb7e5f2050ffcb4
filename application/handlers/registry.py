"""Handlers registered against the schema class they apply: ``@handles(ContactOpened)``.

A handler receives the event's ``data`` typed as that class (``Registration`` checks it
once, here, for every handler), and declares at the same place which aggregate ids its
event may create (``may_be_new``). ``HANDLERS`` is complete once ``application.handlers``
is imported, which importing any of its modules does first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from application.handlers.base import UnitOfWork
from contracts.envelope import SourceEvent
from contracts.schemas import EVENT_TYPES
from contracts.schemas.base import Data
from domain.provenance import SourceRef

D = TypeVar("D", bound=Data)

Apply = Callable[[UnitOfWork, SourceEvent, D, SourceRef], None]
"""Applies one source event whose data is a ``D``. A handler that refuses (raises
``DomainError``) must do so before any aggregate it touched has triggered an event: check
everything, then act."""

MayBeNew = Callable[[D, SourceEvent], list[UUID]]
"""The ids a creating handler looks up that may not exist yet (``UnitOfWork.get``), so
that a batch can ask the store about all of them at once. Only a shortcut: an id left
out is looked up on its own, as before."""


@dataclass(frozen=True)
class Registration(Generic[D]):
    """The handler of one source event type (the latest version of its schema)."""

    schema: type[D]
    apply: Apply[D]
    may_be_new: MayBeNew[D] | None = None

    def data_of(self, event: SourceEvent) -> D:
        data = event.data
        if not isinstance(data, self.schema):
            raise TypeError(
                f"{event.type} carries {type(data).__name__}, not {self.schema.__name__}"
            )
        return data

    def __call__(self, unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
        """Apply ``event``; the facts it causes carry its source attributes with their
        source reference (also when it was parked: they come from its envelope)."""
        source = source.with_attributes(event.attributes)
        self.apply(unit, event, self.data_of(event), source)

    def new_ids(self, event: SourceEvent) -> list[UUID]:
        """The ids the event may create (none for a type that creates nothing)."""
        if self.may_be_new is None:
            return []
        return self.may_be_new(self.data_of(event), event)


class Handlers:
    """The registered handlers, by the schema class they apply."""

    def __init__(self) -> None:
        self._by_schema: dict[type[Data], Registration[Any]] = {}

    def register(self, registration: Registration[D]) -> None:
        schema = registration.schema
        event_type = EVENT_TYPES.get(getattr(schema, "event_type", ""))
        if event_type is None or event_type.schema is not schema:
            raise TypeError(
                f"{schema.__qualname__} is not the latest schema of a registered source event"
                " type: handlers apply what validation upcasts to"
            )
        if schema in self._by_schema:
            other = self._by_schema[schema].apply
            raise TypeError(f"{event_type.name} is already handled by {other.__qualname__}")
        self._by_schema[schema] = registration

    def of(self, event: SourceEvent) -> Registration[Any]:
        """The handler of a validated event's type (KeyError for a type without one)."""
        return self._by_schema[EVENT_TYPES[event.type].schema]

    def __iter__(self) -> Iterator[Registration[Any]]:
        return iter(self._by_schema.values())

    def schemas(self) -> set[type[Data]]:
        return set(self._by_schema)

    def creating_types(self) -> set[str]:
        """The types whose handlers declare ids they may create."""
        return {r.schema.event_type for r in self if r.may_be_new is not None}


HANDLERS = Handlers()


def handles(
    schema: type[D], *, may_be_new: MayBeNew[D] | None = None
) -> Callable[[Apply[D]], Apply[D]]:
    """Registers the decorated function as the handler of ``schema``'s event type."""

    def register(apply: Apply[D]) -> Apply[D]:
        HANDLERS.register(Registration(schema, apply, may_be_new))
        return apply

    return register

"""How every read model routes a domain event to what it does with it: one table per read
model, from event class to handler, with the event classes it deliberately ignores beside.

A read model fills its ``Handles`` with the ``on`` decorator (the handler's signature is
the read model's choice: a row change, a batch step…) and declares what it ignores with
``ignore``. ``handler(type(event))`` is then one dictionary look-up. A class met for the
first time is resolved through its bases once and remembered: every aggregate redefines the
clock decisions of ``JourneyAggregate`` (``Case.DeadlineMet`` is a subclass of
``JourneyAggregate.DeadlineMet``), so one handler of the base handles them all.

A handler anywhere among a class's bases wins over an ignored base (ignoring
``Order.Event`` leaves ``Order.DeadlineMet`` to a handler of ``JourneyAggregate.DeadlineMet``).
A class neither handled nor ignored is skipped like an ignored one; a unit test
(``tests/unit/test_read_model_events.py``) fails for it, so that a new domain event is a
decision for every read model rather than a silent gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

H = TypeVar("H")


class Handles(Generic[H]):
    """One read model's routing table (see the module docstring)."""

    def __init__(self, read_model: str) -> None:
        self.read_model = read_model
        self._handlers: dict[type, H] = {}
        self._ignored: set[type] = set()
        self._resolved: dict[type, H | None] = {}

    # -- declaring ----------------------------------------------------------------------------

    def on(self, *classes: type) -> Callable[[H], H]:
        """Decorator: the function handles events of ``classes`` (and of their subclasses)."""

        def register(handler: H) -> H:
            for kind in classes:
                self.add(kind, handler)
            return handler

        return register

    def add(self, kind: type, handler: H) -> None:
        self._declare(kind)
        self._handlers[kind] = handler

    def ignore(self, *classes: type) -> None:
        """Events of ``classes`` (and of their subclasses without a handler) are of no
        interest to this read model, deliberately."""
        for kind in classes:
            self._declare(kind)
            self._ignored.add(kind)

    def _declare(self, kind: type) -> None:
        if kind in self._handlers or kind in self._ignored:
            raise ValueError(f"{self.read_model}: {kind.__qualname__} is declared twice")
        self._resolved.clear()

    # -- routing ------------------------------------------------------------------------------

    def handler(self, kind: type) -> H | None:
        """The handler of events of class ``kind``; None when they are not handled."""
        try:
            return self._resolved[kind]
        except KeyError:
            found = self._resolved[kind] = next(
                (self._handlers[base] for base in kind.__mro__ if base in self._handlers), None
            )
            return found

    # -- what is declared (for the tests that keep every event class decided) -----------------

    def handles(self, kind: type) -> bool:
        return any(base in self._handlers for base in kind.__mro__)

    def ignores(self, kind: type) -> bool:
        return not self.handles(kind) and any(base in self._ignored for base in kind.__mro__)

    @property
    def handled(self) -> Iterable[type]:
        return tuple(self._handlers)

    @property
    def ignored(self) -> Iterable[type]:
        return tuple(self._ignored)

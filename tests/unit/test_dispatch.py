"""``projections.dispatch.Handles``: a read model's table from event class to handler,
resolved through the class's bases once, handlers winning over ignored bases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.aggregate import JourneyAggregate
from domain.case import Case
from domain.order import Order
from projections.dispatch import Handles

Handler = Callable[[object], str]


def test_a_class_is_routed_to_its_handler_or_its_nearest_base_s() -> None:
    handles: Handles[Handler] = Handles("test")

    @handles.on(JourneyAggregate.DeadlineMet)
    def met(event: object) -> str:
        return "met"

    @handles.on(Case.Resolved, Case.Reopened)
    def case(event: object) -> str:
        return "case"

    assert handles.handler(Case.DeadlineMet) is met  # every aggregate redefines it
    assert handles.handler(Order.DeadlineMet) is met
    assert handles.handler(Case.Resolved) is case
    assert handles.handler(Case.Reopened) is case
    assert handles.handler(Case.Escalated) is None
    assert handles.handles(Case.DeadlineMet)
    assert not handles.handles(Case.Escalated)


def test_a_handler_wins_over_an_ignored_base() -> None:
    handles: Handles[Handler] = Handles("test")
    handles.ignore(Order.Event)
    handles.on(JourneyAggregate.DeadlineMet)(lambda event: "met")

    assert handles.handler(Order.DeadlineMet) is not None
    assert handles.handles(Order.DeadlineMet)
    assert not handles.ignores(Order.DeadlineMet)
    assert handles.ignores(Order.Shipped)
    assert handles.handler(Order.Shipped) is None


def test_declaring_after_a_look_up_is_seen() -> None:
    handles: Handles[Handler] = Handles("test")
    assert handles.handler(Case.Resolved) is None
    handles.on(Case.Resolved)(lambda event: "resolved")
    assert handles.handler(Case.Resolved) is not None


@pytest.mark.parametrize("ignore_first", [True, False])
def test_a_class_is_declared_once(ignore_first: bool) -> None:
    handles: Handles[Handler] = Handles("test")
    if ignore_first:
        handles.ignore(Case.Resolved)
    else:
        handles.on(Case.Resolved)(lambda event: "resolved")
    with pytest.raises(ValueError, match="Resolved is declared twice"):
        handles.on(Case.Resolved)(lambda event: "again")
    with pytest.raises(ValueError, match="declared twice"):
        handles.ignore(Case.Resolved)

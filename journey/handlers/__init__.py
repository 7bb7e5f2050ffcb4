"""Source event type → the aggregate calls that apply it. One module per family."""

from __future__ import annotations

from journey.handlers import cases, contacts, customers, engagement, orders, returns
from journey.handlers.base import Handler, UnitOfWork

FAMILIES = (contacts, cases, orders, returns, engagement, customers)

HANDLERS: dict[str, Handler] = {}
for _family in FAMILIES:
    HANDLERS.update(_family.HANDLERS)

__all__ = ["HANDLERS", "Handler", "UnitOfWork"]

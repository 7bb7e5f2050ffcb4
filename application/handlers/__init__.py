"""Source event type → the aggregate calls that apply it. One module per family."""

from __future__ import annotations

from application.handlers import cases, contacts, customers, engagement, orders, returns
from application.handlers.base import Handler, MayBeNew, UnitOfWork

FAMILIES = (contacts, cases, orders, returns, engagement, customers)

HANDLERS: dict[str, Handler] = {}
MAY_BE_NEW: dict[str, MayBeNew] = {}
for _family in FAMILIES:
    HANDLERS.update(_family.HANDLERS)
    MAY_BE_NEW.update(_family.MAY_BE_NEW)

__all__ = ["HANDLERS", "MAY_BE_NEW", "Handler", "MayBeNew", "UnitOfWork"]

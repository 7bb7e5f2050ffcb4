"""Source event type → the aggregate calls that apply it. One module per family; each
handler registers itself against the schema it applies (``@handles``), so importing this
package fills ``HANDLERS``."""

from __future__ import annotations

from application.handlers import cases, contacts, customers, engagement, orders, returns
from application.handlers.base import UnitOfWork
from application.handlers.registry import (
    HANDLERS,
    Apply,
    Handlers,
    MayBeNew,
    Registration,
    handles,
)

MODULES = (contacts, cases, orders, returns, engagement, customers)

__all__ = [
    "HANDLERS",
    "MODULES",
    "Apply",
    "Handlers",
    "MayBeNew",
    "Registration",
    "UnitOfWork",
    "handles",
]

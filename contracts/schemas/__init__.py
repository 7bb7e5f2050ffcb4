"""The catalog of source events: every type channels and systems publish, with its schema
per version. One module per family of schemas; each schema class declares its type, family
and version, and importing this package registers them all in ``EVENT_TYPES``."""

from __future__ import annotations

from contracts.schemas import cases, contacts, customers, engagement, orders, returns
from contracts.schemas.registry import EVENT_TYPES, FAMILIES, EventType, EventTypes, Family

SECTIONS = (contacts, cases, orders, returns, engagement, customers)
"""The schema modules, in the order the catalogue (docs/events.md) shows them."""

EVENT_TYPES.check()
_unshown = {t.module for t in EVENT_TYPES} - {section.__name__ for section in SECTIONS}
if _unshown:
    raise RuntimeError(f"schema modules missing from SECTIONS: {', '.join(sorted(_unshown))}")

__all__ = ["EVENT_TYPES", "FAMILIES", "SECTIONS", "EventType", "EventTypes", "Family"]

"""The catalog of source events: every type channels and systems publish, with its schema
per version. One module per family; this package merges them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.schemas import cases, contacts, customers, engagement, orders, returns
from contracts.schemas.base import Data

FAMILIES = (contacts, cases, orders, returns, engagement, customers)

Upcast = Callable[[dict[str, Any]], dict[str, Any]]

CATALOG: dict[str, dict[int, type[Data]]] = {}
UPCASTS: dict[tuple[str, int], Upcast] = {}
for _family in FAMILIES:
    for _type, _versions in _family.SCHEMAS.items():
        if _type in CATALOG:
            raise RuntimeError(f"{_type} is defined twice")
        CATALOG[_type] = _versions
    UPCASTS.update(_family.UPCASTS)


def latest_version(event_type: str) -> int:
    return max(CATALOG[event_type])

"""Source events of this family (being written)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from journey.contracts.base import Data

SCHEMAS: dict[str, dict[int, type[Data]]] = {}
UPCASTS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}

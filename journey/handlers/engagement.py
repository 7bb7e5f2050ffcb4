"""Handlers of this family (being written)."""

from __future__ import annotations

from journey.handlers.base import Handler

HANDLERS: dict[str, Handler] = {}

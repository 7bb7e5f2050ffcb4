"""Values as JSON can hold them: times as ISO 8601 with their offset, durations as
seconds, ids as strings (the conventions of every auditor's answer, ``application.audit``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.provenance import SourceRef


def plain(value: Any) -> Any:
    """A value as JSON can hold it (see the module docstring for times and durations)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, SourceRef):  # its attributes shown only when it has some
        shown = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        shown["attributes"] = dict(value.attributes)
        return shown if value.attributes else {k: v for k, v in shown.items() if k != "attributes"}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)

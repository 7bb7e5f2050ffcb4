"""What a read model's counts answer (the ledger's, the orders'): the total and the count of
each group, largest first, folded from one ``GROUP BY`` query whose raw values a read model
turns into the values of each dimension — one for a column, several for a value that is many
per row (a case's breached rules, an order's source attributes), the local date for a time.

A time dimension groups instants by UTC minute in the store (``substr(at, 1, 16)``) and
folds each minute into the zone's local day, month or year here: exact whatever the zone's
rules (offsets of 30 or 45 minutes, clock changes), and the same SQL on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from itertools import product
from typing import Any

MAX_GROUPS = 10_000
ATTRIBUTE = "attribute."
"""The prefix of a dimension that is a source attribute: ``attribute.submitted_via``."""
PERIODS: dict[str, int] = {"day": 10, "month": 7, "year": 4}
"""Time dimensions by suffix (``opened_day``): the local date's ISO prefix each keeps
(2026-03-02, 2026-03, 2026)."""
MINUTE = "substr({column}, 1, 16)"
"""The SQL of a UTC ISO time's minute (``2026-03-02T01:30``), for ``local_date``."""

Value = str | None
Values = Callable[[str, Any], Sequence[Value]]
"""A dimension's name and a row's raw value of it → the groups the row is in, by it."""


class UnknownDimension(ValueError):
    """A group-by name that is none of a read model's dimensions."""


@dataclass(frozen=True)
class Counts:
    total: int
    groups: list[tuple[dict[str, Value], int]] = field(default_factory=list)
    """Each group's values by dimension and its count, largest first."""
    truncated: bool = False
    """More than ``MAX_GROUPS`` groups: the smallest were left out."""


def fold(total: int, names: Sequence[str], rows: Iterable[Any], values: Values) -> Counts:
    """``rows`` of a ``GROUP BY`` (the raw value of the ``n``-th name as ``d<n>``, the count
    as ``n``) folded into groups: a row counts once in each combination of its values."""
    folded: Counter[tuple[Value, ...]] = Counter()
    for found in rows:
        each = [values(name, found[f"d{n}"]) for n, name in enumerate(names)]
        for key in product(*each):
            folded[key] += int(found["n"])
    ordered = sorted(folded.items(), key=lambda kv: (-kv[1], [str(v) for v in kv[0]]))
    groups = [(dict(zip(names, key, strict=True)), n) for key, n in ordered]
    return Counts(total, groups[:MAX_GROUPS], truncated=len(groups) > MAX_GROUPS)


def local_date(minute: Any, keep: int, zone: tzinfo | None) -> Value:
    """A UTC minute (``2026-03-02T01:30``) → its local date in ``zone``, cut to ``keep``."""
    if minute is None:
        return None
    instant = datetime.fromisoformat(f"{minute}:00+00:00")
    return (instant.astimezone(zone) if zone is not None else instant).date().isoformat()[:keep]

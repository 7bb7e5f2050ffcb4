"""The ledger as a query surface: how many cases match a filter, in total and grouped by
one or more dimensions, in one query each.

Dimensions (``DIMENSIONS``): the row's own columns (channel, store, agent group,
classification, topic, status, priority), the facets that are many per case (each rule a
case breached, ``breached_rule``; each source attribute, ``attribute.<name>``) and the
opening's day, month or year in a report time zone. A case counts once in ``total``; in
the groups it counts once per value of each facet it is grouped by (a case that breached
two rules is in both rules' groups), and in the ``null`` group of a facet it has no value
of.

A time dimension groups the opening instants by UTC minute in the store, then folds each
minute into the zone's local day, month or year here: exact whatever the zone's rules
(offsets of 30 or 45 minutes, clock changes), and the same SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from contracts.attributes import ATTRIBUTES
from projections.base import Projection
from projections.ledger.queries import LedgerFilter, where_clauses
from projections.ledger.tables import ATTRIBUTE, BREACHED_RULE

COLUMNS: dict[str, str] = {
    "channel": "channel",
    "store": "store_id",
    "agent_group": "agent_group",
    "classification": "classification",
    "topic": "topic",
    "status": "status",
    "priority": "priority",
}
"""Dimensions that are a column of the row, by name."""
FACETS = (BREACHED_RULE,)
"""Dimensions that are a facet; ``attribute.<name>`` too, for any declared name."""
PERIODS: dict[str, int] = {"opened_day": 10, "opened_month": 7, "opened_year": 4}
"""Time dimensions: the local date's ISO prefix each keeps (2026-03-02, 2026-03, 2026)."""
DIMENSIONS = (*COLUMNS, *FACETS, *PERIODS, f"{ATTRIBUTE}<name>")
MAX_GROUPS = 10_000


class UnknownDimension(ValueError):
    """A group-by name that is none of ``DIMENSIONS``."""


@dataclass(frozen=True)
class Counts:
    total: int
    groups: list[tuple[dict[str, str | None], int]] = field(default_factory=list)
    """Each group's values by dimension and its count, largest first."""
    truncated: bool = False
    """More than ``MAX_GROUPS`` groups: the smallest were left out."""


def check(dimensions: Sequence[str]) -> None:
    for name in dimensions:
        attribute = name.removeprefix(ATTRIBUTE)
        if name in COLUMNS or name in FACETS or name in PERIODS:
            continue
        if name.startswith(ATTRIBUTE) and attribute in ATTRIBUTES:
            continue
        known = ", ".join((*COLUMNS, *FACETS, *PERIODS, *(ATTRIBUTE + a for a in ATTRIBUTES)))
        raise UnknownDimension(f"unknown dimension {name!r}; known: {known}")


class LedgerCounts:
    """Counts over a ledger's tables (the read model's ``t`` and store)."""

    def __init__(self, ledger: Projection) -> None:
        self.ledger = ledger

    def counts(
        self, where: LedgerFilter, dimensions: Sequence[str] = (), zone: tzinfo | None = None
    ) -> Counts:
        check(dimensions)
        t = self.ledger.t
        clauses, params = where_clauses(where, t("ledger_facets"))
        matching = f"SELECT * FROM {t('complaint_ledger')}" + (
            f" WHERE {' AND '.join(clauses)}" if clauses else ""
        )
        store = self.ledger.store
        total = int(store.query(f"SELECT COUNT(*) AS n FROM ({matching}) c", params)[0]["n"])
        if not dimensions:
            return Counts(total)
        selects: list[str] = []
        joins: list[str] = []
        for n, name in enumerate(dict.fromkeys(dimensions)):
            if name in COLUMNS:
                selects.append(f"c.{COLUMNS[name]} AS d{n}")
            elif name in PERIODS:
                # UTC minute: folded into the zone's local date below.
                selects.append(f"substr(c.opened_at, 1, 16) AS d{n}")
            else:
                joins.append(
                    f" LEFT JOIN {t('ledger_facets')} f{n}"
                    f" ON f{n}.case_id = c.case_id AND f{n}.facet = :dim{n}"
                )
                params[f"dim{n}"] = name
                selects.append(f"f{n}.value AS d{n}")
        names = list(dict.fromkeys(dimensions))
        keys = ", ".join(f"d{n}" for n in range(len(names)))
        sql = (
            f"SELECT {', '.join(selects)}, COUNT(*) AS n FROM ({matching}) c{''.join(joins)}"
            f" GROUP BY {keys}"
        )
        folded: Counter[tuple[str | None, ...]] = Counter()
        for found in store.query(sql, params):
            values = tuple(
                _local(found[f"d{n}"], PERIODS[name], zone) if name in PERIODS else found[f"d{n}"]
                for n, name in enumerate(names)
            )
            folded[values] += int(found["n"])
        ordered = sorted(folded.items(), key=lambda kv: (-kv[1], [str(v) for v in kv[0]]))
        groups = [(dict(zip(names, values, strict=True)), n) for values, n in ordered]
        return Counts(total, groups[:MAX_GROUPS], truncated=len(groups) > MAX_GROUPS)


def _local(minute: Any, keep: int, zone: tzinfo | None) -> str | None:
    """A UTC minute (``2026-03-02T01:30``) → its local date in ``zone``, cut to ``keep``."""
    if minute is None:
        return None
    instant = datetime.fromisoformat(f"{minute}:00+00:00")
    return (instant.astimezone(zone) if zone is not None else instant).date().isoformat()[:keep]

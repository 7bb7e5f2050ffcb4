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

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from contracts.attributes import ATTRIBUTES
from projections.base import Projection
from projections.group_counts import (
    MINUTE,
    Counts,
    UnknownDimension,
    Value,
    fold,
    local_date,
)
from projections.group_counts import PERIODS as SUFFIXES
from projections.ledger.queries import LedgerFilter, where_clauses
from projections.ledger.tables import ATTRIBUTE, BREACHED_RULE

__all__ = ["DIMENSIONS", "Counts", "LedgerCounts", "UnknownDimension", "check"]

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
PERIODS: dict[str, int] = {f"opened_{suffix}": keep for suffix, keep in SUFFIXES.items()}
"""Time dimensions: the opening's local date, month, year."""
DIMENSIONS = (*COLUMNS, *FACETS, *PERIODS, f"{ATTRIBUTE}<name>")


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
                selects.append(MINUTE.format(column="c.opened_at") + f" AS d{n}")
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

        def values(name: str, raw: Any) -> list[Value]:
            return [local_date(raw, PERIODS[name], zone) if name in PERIODS else raw]

        return fold(total, names, store.query(sql, params), values)

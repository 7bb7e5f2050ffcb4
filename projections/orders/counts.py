"""Orders as a query surface: how many orders match a filter (``OrderFilter``, as
``/v1/orders``), in total and grouped by one or more dimensions, in one query each
(``projections.group_counts``).

Dimensions (``DIMENSIONS``): the row's columns (status, channel, store, late — ``true`` or
``false``), the values that are many per order (each rule it breached, ``breached_rule``;
each source attribute, ``attribute.<name>``) and the placement's day, month or year in a
report time zone. An order counts once in ``total``; in the groups once per value of each
many-valued dimension it is grouped by, and in the ``null`` group of one it has no value
of. The many-valued ones are kept in a text column each (``|R-ORD-04|``,
``|order_status=canceled|``): the query groups by the column's text, and each distinct text
is split here — an order table holds few distinct ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from contracts.attributes import ATTRIBUTES
from projections.base import Projection
from projections.group_counts import (
    ATTRIBUTE,
    MINUTE,
    PERIODS,
    Counts,
    UnknownDimension,
    Value,
    fold,
    local_date,
)
from projections.orders.queries import OrderFilter, order_clauses
from projections.orders.tables import ORDERS, labelled_value

BREACHED_RULE = "breached_rule"
COLUMNS: dict[str, str] = {
    "status": "status",
    "channel": "channel",
    "store": "store_id",
    "late": "delivered_late",
}
"""Dimensions that are a column of the row, by name."""
TIMES: dict[str, int] = {f"placed_{suffix}": keep for suffix, keep in PERIODS.items()}
"""The placement's local date, month, year."""
DIMENSIONS = (*COLUMNS, BREACHED_RULE, *TIMES, f"{ATTRIBUTE}<name>")


def check(dimensions: Sequence[str]) -> None:
    for name in dimensions:
        if name in COLUMNS or name in TIMES or name == BREACHED_RULE:
            continue
        if name.startswith(ATTRIBUTE) and name.removeprefix(ATTRIBUTE) in ATTRIBUTES:
            continue
        known = (*COLUMNS, BREACHED_RULE, *TIMES, *(ATTRIBUTE + a for a in ATTRIBUTES))
        raise UnknownDimension(f"unknown dimension {name!r}; known: {', '.join(known)}")


def values(name: str, raw: Any, zone: tzinfo | None) -> list[Value]:
    """The groups an order is in by ``name``, from the raw value of its column."""
    if name == "late":
        return ["true" if int(raw) else "false"]
    if name in TIMES:
        return [local_date(raw, TIMES[name], zone)]
    held: list[Value] = []
    if name == BREACHED_RULE:
        held = [rule for rule in str(raw).split("|") if rule]
        return held or [None]
    if name.startswith(ATTRIBUTE):
        prefix = name.removeprefix(ATTRIBUTE) + "="
        held = [
            labelled_value(label[len(prefix) :])
            for label in str(raw).split("|")
            if label.startswith(prefix)
        ]
        return held or [None]
    return [raw]


class OrderCounts:
    """Counts over an orders read model's ``order_rows``."""

    def __init__(self, orders: Projection) -> None:
        self.orders = orders

    def counts(
        self, where: OrderFilter, dimensions: Sequence[str] = (), zone: tzinfo | None = None
    ) -> Counts:
        check(dimensions)
        store = self.orders.store
        clauses, params = order_clauses(where, store.dialect)
        table = self.orders.t(ORDERS)
        condition = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        total = int(store.query(f"SELECT COUNT(*) AS n FROM {table}{condition}", params)[0]["n"])
        names = list(dict.fromkeys(dimensions))
        if not names:
            return Counts(total)
        selects = [f"{_raw(name)} AS d{n}" for n, name in enumerate(names)]
        keys = ", ".join(f"d{n}" for n in range(len(names)))
        rows = store.query(
            f"SELECT {', '.join(selects)}, COUNT(*) AS n FROM {table}{condition} GROUP BY {keys}",
            params,
        )
        return fold(total, names, rows, lambda name, raw: values(name, raw, zone))


def _raw(name: str) -> str:
    """The SQL of the column a dimension's values are read from."""
    if name in COLUMNS:
        return COLUMNS[name]
    if name in TIMES:
        return MINUTE.format(column="placed_at")
    return "breached_rules" if name == BREACHED_RULE else "attribute_labels"

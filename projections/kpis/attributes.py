"""The source attributes of each aggregate the KPI counters see (``kpi_attributes``): the
values the source's own labels took on the aggregate's events (``contracts.attributes``),
the latest of each name in event time, then the greater ``event_id`` — so any interleaving
of a journey's events keeps the same values, as the ledger's and the orders' rows do
(``projections.source_attributes``).

A fact is counted under the attributes of its subject (the aggregate it is about: a case,
a contact, an order, a survey; a clock decision's aggregate): ``projections.kpis.sums.joins``
joins ``kpi_facts.subject_id`` to ``kpi_attributes.owner_id`` to filter and group the
facts by them, in any report zone; the figures, their explanation, the funnel, the
anomalies and the QA sample all read the facts through that one join."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from adapters.readstore import Cursor, Row
from projections.base import select_in
from projections.kpis.tables import ATTRIBUTE_COLUMNS, ATTRIBUTE_KEY
from projections.sla_rows import utc


class Attributes:
    """One batch's source attributes: the aggregates' stored ones it touches, loaded once,
    merged in memory, the changed ones written once."""

    def __init__(self, cursor: Cursor, t: Callable[[str], str]) -> None:
        self.cursor = cursor
        self.table = t("kpi_attributes")
        self.held: dict[tuple[str, str], Row] = {}
        self.stored: dict[tuple[str, str], Row] = {}

    def apply(self, events: Iterable[tuple[str, Any]]) -> None:
        """Merge the source attributes of each (aggregate id, event) and store the changes."""
        carrying = [
            (owner, event)
            for owner, event in events
            if (source := getattr(event, "source", None)) is not None
            and source.attributes
            and getattr(event, "occurred_at", None) is not None
        ]
        if not carrying:
            return
        for row in select_in(
            self.cursor, self.table, "owner_id", sorted({owner for owner, _ in carrying})
        ):
            key = (row["owner_id"], row["attribute"])
            self.held[key] = self.stored[key] = row
        for owner, event in carrying:
            at, event_id = utc(event.occurred_at), str(event.source.event_id)
            for name, value in event.source.attributes:
                had = self.held.get((owner, name))
                if had is None or (at, event_id) >= (had["stamped_at"], had["stamped_event"]):
                    self.held[(owner, name)] = dict(
                        zip(ATTRIBUTE_COLUMNS, (owner, name, value, at, event_id), strict=True)
                    )
        self._store()

    def _store(self) -> None:
        changed = [row for key, row in self.held.items() if row != self.stored.get(key)]
        if not changed:
            return
        others = [c for c in ATTRIBUTE_COLUMNS if c not in ATTRIBUTE_KEY]
        self.cursor.executemany(
            f"INSERT INTO {self.table} ({', '.join(ATTRIBUTE_COLUMNS)})"
            f" VALUES ({', '.join(':' + c for c in ATTRIBUTE_COLUMNS)})"
            f" ON CONFLICT ({', '.join(ATTRIBUTE_KEY)}) DO UPDATE SET"
            f" {', '.join(f'{c} = excluded.{c}' for c in others)}",
            changed,
        )

"""Applying a batch of notifications to the orders and returns read model: the rows the
batch touches are read once (a few ``IN (...)`` queries per table), changed in memory
(``projections.orders.rows``) and written back once.

Each row remembers the last notification applied to it: one at or below it is skipped,
so applying a batch again (past the position guard, as a rebuild's overlap or a test
does) changes nothing. Every event reaches a row in notification order, so one number
per row is enough, whichever aggregate the event came from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adapters.readstore import Cursor
from projections.base import Notified, select_in
from projections.orders.rows import HANDLES, Route, Target
from projections.orders.tables import COLUMNS, ORDERS, TABLES, attribute_labels, loaded, split
from projections.source_attributes import merge as merge_attributes

Key = tuple[str, str]
"""A row: its table and id."""


def apply_batch(t: Callable[[str], str], cursor: Cursor, batch: Sequence[Notified]) -> None:
    """Apply the events the read model handles (``rows.HANDLES``); skip the others."""
    routed: list[tuple[int, Any, Route]] = [
        (nid, event, route)
        for nid, event in batch
        if event is not None and (route := HANDLES.handler(type(event))) is not None
    ]
    if not routed:
        return
    work = OrdersBatch(t, cursor)
    work.load((target.table, target.key(event)) for _, event, route in routed for target in route)
    for nid, event, route in routed:
        for target in route:
            work.apply(nid, event, target)
    work.flush()


class OrdersBatch:
    """The rows one batch touches, loaded once and written back once."""

    def __init__(self, t: Callable[[str], str], cursor: Cursor) -> None:
        self.t = t
        self.cursor = cursor
        self.rows: dict[Key, dict[str, Any]] = {}
        self.changed: set[Key] = set()

    def load(self, keys: Any) -> None:
        wanted: dict[str, set[str]] = {table: set() for table in TABLES}
        for table, key in keys:
            wanted[table].add(key)
        for table, ids in wanted.items():
            for found in select_in(self.cursor, self.t(table), "id", sorted(ids)):
                self.rows[table, str(found["id"])] = loaded(found)

    def apply(self, nid: int, event: Any, target: Target) -> None:
        key = (target.table, target.key(event))
        row = self.rows.get(key)
        if row is not None and row["last_notification_id"] >= nid:
            return  # applied before
        if target.creates:
            row = self.rows[key] = {}
        elif row is None:
            return  # a row this read model never started (nothing to change)
        target.change(row, event)
        if target.table == ORDERS and merge_attributes(row, event):
            row["attribute_labels"] = attribute_labels(row["attributes"])
        row["last_notification_id"] = nid
        if key[1] == str(event.originator_id):
            row["version"] = event.originator_version
        self.changed.add(key)

    def flush(self) -> None:
        for table in TABLES:
            rows = [split(table, self.rows[key]) for key in self.changed if key[0] == table]
            if not rows:
                continue
            columns = (*COLUMNS[table], "doc")
            names = ", ".join(columns)
            values = ", ".join(f":{c}" for c in columns)
            updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
            self.cursor.executemany(
                f"INSERT INTO {self.t(table)} ({names}) VALUES ({values})"
                f" ON CONFLICT (id) DO UPDATE SET {updates}",
                sorted(rows, key=lambda r: r["id"]),
            )

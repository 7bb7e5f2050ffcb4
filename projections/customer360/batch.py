"""Applying a batch of notifications to the customer 360: the items and customer rows the
batch touches are loaded once (one query per 500 ids), changed in memory as
``projections.customer360.rows`` says, and written once each.

A document holds one aggregate, so its size is bounded by that aggregate's life, not by the
customer's history: a batch rewrites only the aggregates it touched. A notification already
in an item's ``nids`` is not applied again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from adapters.readstore import Cursor
from domain.aggregate import advances_event_time
from projections.base import Notified, select_in
from projections.customer360.rows import HANDLES, Doc, Shown
from projections.customer360.segments import iso

Routed = tuple[int, str, Any, Shown]
"""A notification id, the event's aggregate id, the event, and how it shows."""


@dataclass
class Item:
    """One aggregate of a customer, as stored in ``c360_items``."""

    aggregate_id: str
    customer_id: str
    kind: str
    ref: str
    at: str
    doc: Doc


class Work:
    """The rows one batch touches, each loaded once, changed in memory, written once."""

    def __init__(self, items: dict[str, Item], customers: dict[str, str]) -> None:
        self.items = items
        self.customers = customers
        self.dirty_items: set[str] = set()
        self.dirty_customers: set[str] = set()

    def seen(self, customer_id: str, at: str) -> None:
        """The customer's first fact is the earliest by event time (the log's order is
        only per aggregate); its row is written only when that changes."""
        first = self.customers.get(customer_id)
        if first is None or at < first:
            self.customers[customer_id] = at
            self.dirty_customers.add(customer_id)


def apply_by_item(t: Callable[[str], str], cursor: Cursor, batch: Sequence[Notified]) -> None:
    """Apply the events the 360 shows (``rows.HANDLES``) and move the event-time watermark
    to the latest fact of the batch, shown or not."""
    shown: list[Routed] = [
        (nid, str(e.originator_id), e, how)
        for nid, e in batch
        if e is not None and (how := HANDLES.handler(type(e))) is not None
    ]
    latest = max((e.occurred_at for _, e in batch if advances_event_time(e)), default=None)
    if shown:
        work = _load(t, cursor, shown)
        for routed in shown:
            _apply(work, *routed)
        _store(t, cursor, work)
    if latest is not None:
        cursor.execute(
            f"INSERT INTO {t('c360_event_time')} AS w VALUES ('watermark', :at)"
            " ON CONFLICT (name) DO UPDATE SET latest = excluded.latest"
            " WHERE w.latest < excluded.latest",
            {"at": iso(latest)},
        )


def _load(t: Callable[[str], str], cursor: Cursor, shown: Sequence[Routed]) -> Work:
    """The items and customer rows the batch touches, one query per 500 ids."""
    ids = list(dict.fromkeys(aggregate_id for _, aggregate_id, _, _ in shown))
    items: dict[str, Item] = {}
    for row in select_in(cursor, t("c360_items"), "aggregate_id", ids):
        items[row["aggregate_id"]] = Item(
            row["aggregate_id"],
            row["customer_id"],
            row["kind"],
            row["ref"],
            row["at"],
            orjson.loads(row["doc"]),
        )
    customer_ids = {item.customer_id for item in items.values()}
    customer_ids.update(e.customer_id for _, _, e, how in shown if how.create is not None)
    customers = {
        row["customer_id"]: row["first_seen_at"]
        for row in select_in(cursor, t("c360_customers"), "customer_id", sorted(customer_ids))
    }
    return Work(items, customers)


def _apply(work: Work, nid: int, aggregate_id: str, event: Any, how: Shown) -> None:
    at = iso(event.occurred_at)
    create, update = how
    item = work.items.get(aggregate_id)
    if create is not None:
        if item is not None:
            return  # applied before
        item_kind, ref, doc = create(event, at, nid)
        doc["nids"] = [nid]
        item = Item(aggregate_id, event.customer_id, item_kind, ref, at, doc)
        work.items[aggregate_id] = item
        work.dirty_items.add(aggregate_id)
    elif item is None:
        return  # an aggregate created before this read model's history began
    else:
        if nid in item.doc["nids"]:
            return  # applied before
        if update is not None:
            update(item.doc, event, at, nid)
        item.doc["nids"].append(nid)
        work.dirty_items.add(aggregate_id)
    work.seen(item.customer_id, at)


def _store(t: Callable[[str], str], cursor: Cursor, work: Work) -> None:
    if work.dirty_items:
        cursor.executemany(
            f"INSERT INTO {t('c360_items')} (aggregate_id, customer_id, kind, ref, at,"
            " doc) VALUES (:aggregate_id, :customer_id, :kind, :ref, :at, :doc)"
            " ON CONFLICT (aggregate_id) DO UPDATE SET doc = excluded.doc",
            [
                {
                    "aggregate_id": item.aggregate_id,
                    "customer_id": item.customer_id,
                    "kind": item.kind,
                    "ref": item.ref,
                    "at": item.at,
                    "doc": orjson.dumps(item.doc).decode(),
                }
                for item in (work.items[i] for i in sorted(work.dirty_items))
            ],
        )
    if work.dirty_customers:
        cursor.executemany(
            f"INSERT INTO {t('c360_customers')} (customer_id, first_seen_at)"
            " VALUES (:customer_id, :first_seen_at) ON CONFLICT (customer_id)"
            " DO UPDATE SET first_seen_at = excluded.first_seen_at",
            [
                {"customer_id": customer_id, "first_seen_at": work.customers[customer_id]}
                for customer_id in sorted(work.dirty_customers)
            ],
        )

"""The tables of the orders and returns read model: ``order_rows`` (one row per order) and
``return_rows`` (one row per return request), each the columns filtered and sorted on
beside a JSON document of the rest, their indexes, and how a row is stored.

No personal value is stored: the events of an order or a return name the customer by id
only, and the one personal field an order event carries (an address change's values,
sealed per customer) is left out (``rows.modified``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from adapters.readstore import Row
from projections.base import Index

ORDERS, RETURNS = "order_rows", "return_rows"
TABLES = (ORDERS, RETURNS)

ORDER_COLUMNS = (
    "id",
    "order_id",
    "customer_id",
    "channel",
    "store_id",
    "status",
    "placed_at",
    "promised_delivery_at",
    "delivered_at",
    "delivered_late",
    "breaches",
    "breached_rules",
    "attribute_labels",
    "last_notification_id",
)
"""Columns of ``order_rows`` kept beside the document, for filtering and sorting."""

RETURN_COLUMNS = (
    "id",
    "return_id",
    "order_id",
    "customer_id",
    "status",
    "reason",
    "requested_in",
    "merchant_id",
    "requested_at",
    "breaches",
    "breached_rules",
    "last_notification_id",
)
"""Columns of ``return_rows`` kept beside the document (``requested_in``: the request's
``where``, online or store, a word SQL keeps for itself)."""

COLUMNS = {ORDERS: ORDER_COLUMNS, RETURNS: RETURN_COLUMNS}
BOOLEAN = frozenset({"delivered_late"})
"""Columns stored as 0/1 and answered as booleans."""


def ddl(t: Callable[[str], str]) -> tuple[str, ...]:
    return (
        f"CREATE TABLE IF NOT EXISTS {t(ORDERS)} ("
        " id TEXT PRIMARY KEY, order_id TEXT NOT NULL, customer_id TEXT NOT NULL,"
        " channel TEXT NOT NULL, store_id TEXT, status TEXT NOT NULL,"
        " placed_at TEXT NOT NULL, promised_delivery_at TEXT NOT NULL, delivered_at TEXT,"
        " delivered_late INTEGER NOT NULL, breaches INTEGER NOT NULL,"
        " breached_rules TEXT NOT NULL, attribute_labels TEXT NOT NULL,"
        " last_notification_id BIGINT NOT NULL, doc TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t(RETURNS)} ("
        " id TEXT PRIMARY KEY, return_id TEXT NOT NULL, order_id TEXT NOT NULL,"
        " customer_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,"
        " requested_in TEXT NOT NULL, merchant_id TEXT, requested_at TEXT NOT NULL,"
        " breaches INTEGER NOT NULL, breached_rules TEXT NOT NULL,"
        " last_notification_id BIGINT NOT NULL, doc TEXT NOT NULL)",
    )


def indexes() -> tuple[Index, ...]:
    """Pages walk the time index (placement, request) or a filter's index led by the
    filtered column; none serves the apply path (rows are found by primary key)."""
    return (
        Index("order_rows_by_placed", ORDERS, "placed_at, id", query_only=True),
        Index("order_rows_by_customer", ORDERS, "customer_id, placed_at, id", query_only=True),
        Index("order_rows_by_status", ORDERS, "status, placed_at, id", query_only=True),
        Index("return_rows_by_requested", RETURNS, "requested_at, id", query_only=True),
        Index("return_rows_by_customer", RETURNS, "customer_id, requested_at, id", query_only=True),
        Index("return_rows_by_order", RETURNS, "order_id, requested_at, id", query_only=True),
        Index("return_rows_by_status", RETURNS, "status, requested_at, id", query_only=True),
    )


# -- a row as stored ------------------------------------------------------------------------


def split(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row in memory → the values of its columns and its document."""
    columns = COLUMNS[table]
    values = {c: row[c] for c in columns}
    values["doc"] = orjson.dumps({k: v for k, v in row.items() if k not in columns}).decode()
    return values


def loaded(found: Row) -> dict[str, Any]:
    """A stored row → the row in memory (columns and document in one dict)."""
    row = dict(found)
    row.update(orjson.loads(row.pop("doc")))
    for column in BOOLEAN.intersection(row):
        row[column] = int(row[column])
    return row


def expand(found: Row) -> dict[str, Any]:
    """A stored row → the row as queries answer it."""
    row = loaded(found)
    for column in BOOLEAN.intersection(row):
        row[column] = bool(row[column])
    row["breached_rules"] = [rule for rule in row["breached_rules"].split("|") if rule]
    row.pop("attribute_labels", None)
    row.pop("last_notification_id", None)
    return row


def attribute_labels(attributes: dict[str, str]) -> str:
    """An order's source attributes as its ``attribute_labels`` column: ``|name=value|``
    each, by name, so that a filter finds ``|name=value|`` in it (``label``)."""
    return "".join(f"|{label(k, v)}" for k, v in sorted(attributes.items())) + "|"


def label(name: str, value: str) -> str:
    """``name=value``, the value's ``%`` and ``|`` escaped (``%25``, ``%7C``): a value may
    hold any character, and the bars must only ever separate labels."""
    return f"{name}={value.replace('%', '%25').replace('|', '%7C')}"


def labelled_value(text: str) -> str:
    """The value a :func:`label`'s value part stands for."""
    return text.replace("%7C", "|").replace("%25", "%")

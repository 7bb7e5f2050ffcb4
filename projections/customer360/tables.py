"""The customer 360's tables (one copy per rebuild suffix, see ``projections.base``):

- ``c360_items`` — one row per aggregate of a customer: ``aggregate_id → customer_id``, the
  item's kind, its external id (``ref``), its creation time and its JSON document;
- ``c360_customers`` — one row per customer: the event time of its first fact shown;
- ``c360_event_time`` — the latest ``occurred_at`` of any fact seen: the default ``as_of``.
"""

from __future__ import annotations

from collections.abc import Callable

from projections.base import Index

TABLES = ("c360_items", "c360_customers", "c360_event_time")


def ddl(t: Callable[[str], str], dialect: str) -> tuple[str, ...]:
    # Times and ids are compared and ordered as strings: byte order on PostgreSQL too,
    # whatever the database's locale, as on SQLite.
    ordered = 'TEXT COLLATE "C"' if dialect == "postgres" else "TEXT"
    return (
        f"CREATE TABLE IF NOT EXISTS {t('c360_items')} ("
        f" aggregate_id {ordered} PRIMARY KEY, customer_id TEXT NOT NULL,"
        f" kind TEXT NOT NULL, ref TEXT NOT NULL, at {ordered} NOT NULL, doc TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t('c360_customers')} ("
        " customer_id TEXT PRIMARY KEY, first_seen_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t('c360_event_time')}"
        f" (name TEXT PRIMARY KEY, latest {ordered} NOT NULL)",
    )


def indexes() -> tuple[Index, ...]:
    return (Index("c360_items_customer", "c360_items", "customer_id, kind", query_only=True),)

"""The deadline index's tables: ``open_deadlines`` (one row per open deadline of an
aggregate, by its key) and ``event_time`` (the latest event time of any fact seen)."""

from __future__ import annotations

from collections.abc import Callable

from projections.base import Index

TABLES = ("open_deadlines", "event_time")


def ddl(t: Callable[[str], str]) -> tuple[str, ...]:
    return (
        f"CREATE TABLE IF NOT EXISTS {t('open_deadlines')} ("
        " aggregate_id TEXT NOT NULL, key TEXT NOT NULL, rule TEXT NOT NULL,"
        " due_at TEXT NOT NULL, PRIMARY KEY (aggregate_id, key))",
        f"CREATE TABLE IF NOT EXISTS {t('event_time')}"
        " (name TEXT PRIMARY KEY, latest TEXT NOT NULL)",
    )


def indexes() -> tuple[Index, ...]:
    # The timer walks the due deadlines along it: kept while the read model catches up.
    return (
        Index("open_deadlines_due", "open_deadlines", "due_at", query_only=True, worker_reads=True),
    )

"""The ledger's tables: ``complaint_ledger`` (one row per case, of every classification —
complaints, inquiries, service requests, urgent cases —: the columns that are filtered,
sorted and grouped on, and a JSON document of the rest), ``ledger_links`` (each aggregate
that belongs to a case → the case) and ``ledger_facets`` (a case's values that are many per
case: each rule it breached, each source attribute; ``facets``), their indexes, and how a
row is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from adapters.readstore import Row
from projections.base import Index

TABLES = ("complaint_ledger", "ledger_links", "ledger_facets")

COLUMNS = (
    "case_id",
    "case_ref",
    "customer_id",
    "channel",
    "store_id",
    "agent_group",
    "classification",
    "topic",
    "priority",
    "priority_rank",
    "status",
    "opened_at",
    "resolved_at",
    "breaches",
    "escalation_level",
    "reopen_count",
    "repeat_complaint",
    "satisfaction_overall",
    "policy_version",
    "last_notification_id",
)
"""Columns kept beside the row's document, for filtering and sorting."""

_FILTERED = "channel, status, breaches, store_id, agent_group, priority"
"""The filter columns every sort index carries (``opened_at`` is in each too)."""

SORT_INDEX: dict[str, str] = {
    "priority": "complaint_ledger_by_priority",
    "breaches": "complaint_ledger_by_breaches",
    "reopen_count": "complaint_ledger_by_reopens",
}
"""The index each sort order other than opening time walks (``LedgerQueries._walk``)."""


def ddl(t: Callable[[str], str]) -> tuple[str, ...]:
    return (
        f"CREATE TABLE IF NOT EXISTS {t('complaint_ledger')} ("
        " case_id TEXT PRIMARY KEY, case_ref TEXT NOT NULL, customer_id TEXT NOT NULL,"
        " channel TEXT NOT NULL, store_id TEXT, agent_group TEXT,"
        " classification TEXT NOT NULL, topic TEXT NOT NULL, priority TEXT NOT NULL,"
        " priority_rank INTEGER NOT NULL, status TEXT NOT NULL, opened_at TEXT NOT NULL,"
        " resolved_at TEXT, breaches INTEGER NOT NULL, escalation_level INTEGER NOT NULL,"
        " reopen_count INTEGER NOT NULL, repeat_complaint INTEGER NOT NULL,"
        " satisfaction_overall INTEGER,"
        " policy_version TEXT NOT NULL, last_notification_id BIGINT NOT NULL,"
        " doc TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t('ledger_links')} ("
        " aggregate_id TEXT PRIMARY KEY, case_id TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t('ledger_facets')} ("
        " case_id TEXT NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY (case_id, facet, value))",
    )


def indexes() -> tuple[Index, ...]:
    """One index per sort order, each led by the sort column and the case id and carrying
    every filter column after them: a page is found by walking one index alone (``page``
    asks for the case ids first), never by reading the wide rows it skips. Only the
    customer index serves the apply path (the repeat check, R-CMP-07)."""
    return (
        Index(
            "complaint_ledger_by_opened",
            "complaint_ledger",
            f"opened_at, case_id, {_FILTERED}",
            query_only=True,
        ),
        Index(
            "complaint_ledger_by_priority",
            "complaint_ledger",
            f"priority_rank, case_id, opened_at, {_FILTERED}",
            query_only=True,
        ),
        Index(
            "complaint_ledger_by_breaches",
            "complaint_ledger",
            f"breaches, case_id, opened_at, {_FILTERED}",
            query_only=True,
        ),
        Index(
            "complaint_ledger_by_reopens",
            "complaint_ledger",
            f"reopen_count, case_id, opened_at, {_FILTERED}",
            query_only=True,
        ),
        Index(
            "complaint_ledger_by_status",
            "complaint_ledger",
            f"status, opened_at, case_id, {_FILTERED}",
            query_only=True,
        ),
        Index(
            "complaint_ledger_by_channel",
            "complaint_ledger",
            f"channel, opened_at, case_id, {_FILTERED}",
            query_only=True,
        ),
        Index("complaint_ledger_customer", "complaint_ledger", "customer_id, topic, opened_at"),
        Index("ledger_facets_by_value", "ledger_facets", "facet, value, case_id", query_only=True),
    )


# -- facets: a case's values that are many per case --------------------------------------------

BREACHED_RULE = "breached_rule"
ATTRIBUTE = "attribute."
"""Facet names: ``breached_rule`` (a rule the case breached), ``attribute.<name>`` (a source
attribute of the case's events, the latest value in event time:
``projections.source_attributes``)."""


def facets(row: dict[str, Any]) -> set[tuple[str, str]]:
    """The ``(facet, value)`` pairs of a row in memory."""
    found = {(BREACHED_RULE, str(b["rule"])) for b in row.get("breach_list", ())}
    found.update((ATTRIBUTE + k, str(v)) for k, v in row.get("attributes", {}).items())
    return found


# -- a row as stored ------------------------------------------------------------------------


def split(row: dict[str, Any]) -> dict[str, Any]:
    """A row in memory → the values of its columns and its document."""
    values = {c: row[c] for c in COLUMNS}
    values["doc"] = orjson.dumps({k: v for k, v in row.items() if k not in COLUMNS}).decode()
    return values


def loaded(found: Row) -> dict[str, Any]:
    """A stored row → the row in memory (columns and document in one dict)."""
    row = dict(found)
    row.update(orjson.loads(row.pop("doc")))
    return row


def expand(row: Row) -> Row:
    """A stored row → the row as queries answer it."""
    doc = orjson.loads(row.pop("doc"))
    row["repeat_complaint"] = bool(row["repeat_complaint"])
    row.pop("priority_rank", None)
    row.update(doc)
    return row

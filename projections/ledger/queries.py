"""What the complaint ledger answers: one case's row, and pages of rows filtered and sorted
(R-CMP-06), found through the indexes of ``projections.ledger.tables``.

Given the SLA timer's watermark, an answer shows each clock as it stands then: a clock
still ``open`` whose due time the watermark is past is ``overdue`` (``judged_at``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from adapters.readstore import Cursor, Row
from projections.base import Projection
from projections.ledger.rows import PRIORITY_RANK
from projections.ledger.tables import ATTRIBUTE, BREACHED_RULE, SORT_INDEX, expand
from projections.sla_rows import judged_clocks, utc

SortKey = Literal["opened_at", "priority", "breaches", "reopen_count"]
SORT_COLUMNS: dict[str, str] = {
    "opened_at": "opened_at",
    "priority": "priority_rank",
    "breaches": "breaches",
    "reopen_count": "reopen_count",
}


@dataclass(frozen=True)
class LedgerFilter:
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    channel: str | None = None
    store_id: str | None = None
    agent_group: str | None = None
    status: str | None = None
    priority: str | None = None
    breached: bool | None = None
    customer_id: str | None = None
    classification: str | None = None
    topic: str | None = None
    satisfaction_min: int | None = None
    satisfaction_max: int | None = None
    """The survey's overall score (1-5) at least / at most; a case without one never matches."""
    reopened: bool | None = None
    breached_rule: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    """Source attributes (name, value) the case must hold, every one."""


class LedgerQueries(Projection):
    """The reading half of ``ComplaintLedger``."""

    def row(self, case_id: str, watermark: datetime | None = None) -> Row | None:
        """The case's row; its clocks judged at ``watermark`` (``judged_at``)."""
        rows = self.store.query(
            f"SELECT * FROM {self.t('complaint_ledger')} WHERE case_id = :id", {"id": case_id}
        )
        return judged_at(expand(rows[0]), watermark) if rows else None

    def page(
        self,
        limit: int,
        after: tuple[Any, str] | None = None,
        where: LedgerFilter | None = None,
        sort: SortKey = "opened_at",
        descending: bool = False,
        watermark: datetime | None = None,
    ) -> list[Row]:
        """Rows matching ``where``, ordered by ``sort`` then case id, ``limit`` at a time
        after the cursor ``(sort value, case_id)`` of the previous page's last row; their
        clocks judged at ``watermark`` (``judged_at``)."""
        clauses, params = where_clauses(where or LedgerFilter(), self.t("ledger_facets"))
        column = SORT_COLUMNS[sort]
        op = "<" if descending else ">"
        if after is not None:
            clauses.append(
                f"({column} {op} :after_v OR ({column} = :after_v AND case_id {op} :after_id))"
            )
            params.update(after_v=after[0], after_id=after[1])
        order = "DESC" if descending else "ASC"
        table = self.t("complaint_ledger")
        ordering = f" ORDER BY {column} {order}, case_id {order}"
        params["limit"] = limit
        with self.store.reading() as cursor:  # the index looked for and walked in one snapshot
            # The case ids first, from an index that holds the sort and filter columns; then
            # the (wide) rows of just those.
            ids = (
                f"SELECT case_id FROM {table}{self._walk(cursor, sort)}"
                f"{' WHERE ' + ' AND '.join(clauses) if clauses else ''}{ordering} LIMIT :limit"
            )
            cursor.execute(f"SELECT * FROM {table} WHERE case_id IN ({ids}){ordering}", params)
            rows = cursor.fetchall()
        return [judged_at(expand(row), watermark) for row in rows]

    def _walk(self, cursor: Cursor, sort: SortKey) -> str:
        """SQLite: pages in another order than opening time walk that order's index. The
        planner would rather take the rows of a date range and sort them (a temporary
        B-tree of thousands of rows, 40 ms); the index walk stops after ``limit`` matches,
        and at worst reads the index alone (R-CMP-06 columns, not the row documents).
        While the read model catches up without its query indexes (``projections.catch_up``)
        there is none to walk: the planner scans and sorts."""
        if sort == "opened_at" or self.store.dialect != "sqlite":
            return ""
        index = self.t(SORT_INDEX[sort])
        cursor.execute(
            "SELECT 1 AS found FROM sqlite_master WHERE type = 'index' AND name = :name",
            {"name": index},
        )
        return f" INDEXED BY {index}" if cursor.fetchall() else ""

    @staticmethod
    def cursor_of(row: Row, sort: SortKey) -> tuple[Any, str]:
        if sort == "priority":  # answered rows carry the priority, not its stored rank
            return PRIORITY_RANK.get(row["priority"], 9), row["case_id"]
        return row[SORT_COLUMNS[sort]], row["case_id"]


def judged_at(row: Row, watermark: datetime | None) -> Row:
    """``row`` with its SLA clocks as they stand at ``watermark`` (``judged_clocks``:
    ``overdue`` judged when asked, never stored) and ``awaiting_confirmation``: the case
    is resolved and waits for the customer's confirmation (R-CMP-04)."""
    judged_clocks(row, watermark)
    # R-CMP-04: resolved, not yet confirmed by the customer nor closed without a reply.
    row["awaiting_confirmation"] = row["status"] == "resolved"
    return row


def where_clauses(where: LedgerFilter, facets: str) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions on ``complaint_ledger``'s columns (``facets``: the facets table's name)
    and their parameters."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if where.opened_from is not None:
        clauses.append("opened_at >= :opened_from")
        params["opened_from"] = utc(where.opened_from)
    if where.opened_to is not None:
        clauses.append("opened_at < :opened_to")
        params["opened_to"] = utc(where.opened_to)
    for column in (
        "channel", "store_id", "agent_group", "status", "priority", "customer_id",
        "classification", "topic",
    ):  # fmt: skip
        value = getattr(where, column)
        if value is not None:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    if where.breached is not None:
        clauses.append("breaches > 0" if where.breached else "breaches = 0")
    if where.reopened is not None:
        clauses.append("reopen_count > 0" if where.reopened else "reopen_count = 0")
    if where.satisfaction_min is not None:
        clauses.append("satisfaction_overall >= :satisfaction_min")
        params["satisfaction_min"] = where.satisfaction_min
    if where.satisfaction_max is not None:
        clauses.append("satisfaction_overall <= :satisfaction_max")
        params["satisfaction_max"] = where.satisfaction_max
    held = [(BREACHED_RULE, where.breached_rule)] if where.breached_rule is not None else []
    held += [(ATTRIBUTE + name, value) for name, value in where.attributes]
    for n, (facet, value) in enumerate(held):
        clauses.append(
            f"case_id IN (SELECT case_id FROM {facets}"
            f" WHERE facet = :facet{n} AND value = :value{n})"
        )
        params.update({f"facet{n}": facet, f"value{n}": value})
    return clauses, params

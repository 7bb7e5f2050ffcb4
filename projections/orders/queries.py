"""What the orders and returns read model answers: one order's or one return's row, and
pages of them filtered and ordered by placement (request) time then id, a page after the
cursor ``(time, id)`` of the previous page's last row.

Given the SLA timer's watermark, an answer shows each clock as it stands then: a clock
still ``open`` whose due time the watermark is past is ``overdue`` (``judged_clocks``), as in
the complaint ledger; the stored row keeps ``open``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.base import Projection
from projections.orders.tables import ORDERS, RETURNS, expand, label
from projections.sla_rows import judged_clocks, utc

Row = dict[str, Any]


@dataclass(frozen=True)
class OrderFilter:
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    status: str | None = None
    customer_id: str | None = None
    channel: str | None = None
    store_id: str | None = None
    late: bool | None = None
    """Delivered after the promise in force (true), or not (false)."""
    breached: bool | None = None
    rule: str | None = None
    """Only rows with a breach of this rule (``R-ORD-04``)."""
    attributes: tuple[tuple[str, str], ...] = ()
    """Source attributes (name, value) the order must hold, every one."""


@dataclass(frozen=True)
class ReturnFilter:
    requested_from: datetime | None = None
    requested_to: datetime | None = None
    status: str | None = None
    customer_id: str | None = None
    order_id: str | None = None
    reason: str | None = None
    where: str | None = None
    merchant_id: str | None = None
    breached: bool | None = None
    rule: str | None = None


class OrderQueries(Projection):
    """The reading half of ``OrdersAndReturns``."""

    def order(self, order_uuid: str, watermark: datetime | None = None) -> Row | None:
        return self._one(ORDERS, order_uuid, watermark)

    def return_row(self, return_uuid: str, watermark: datetime | None = None) -> Row | None:
        return self._one(RETURNS, return_uuid, watermark)

    def orders(
        self,
        limit: int,
        after: tuple[str, str] | None = None,
        where: OrderFilter | None = None,
        descending: bool = False,
        watermark: datetime | None = None,
    ) -> list[Row]:
        """Orders matching ``where`` by placement time then id, ``limit`` at a time."""
        clauses, params = order_clauses(where or OrderFilter(), self.store.dialect)
        return self._page(ORDERS, "placed_at", clauses, params, limit, after, descending, watermark)

    def returns(
        self,
        limit: int,
        after: tuple[str, str] | None = None,
        where: ReturnFilter | None = None,
        descending: bool = False,
        watermark: datetime | None = None,
    ) -> list[Row]:
        """Returns matching ``where`` by request time then id, ``limit`` at a time."""
        w = where or ReturnFilter()
        clauses, params = _common(w.breached, w.rule)
        _range(clauses, params, "requested_at", w.requested_from, w.requested_to)
        _equal(clauses, params, status=w.status, customer_id=w.customer_id, order_id=w.order_id)
        _equal(clauses, params, reason=w.reason, requested_in=w.where, merchant_id=w.merchant_id)
        return self._page(
            RETURNS, "requested_at", clauses, params, limit, after, descending, watermark
        )

    def _one(self, table: str, row_id: str, watermark: datetime | None) -> Row | None:
        found = self.store.query(f"SELECT * FROM {self.t(table)} WHERE id = :id", {"id": row_id})
        return judged_clocks(expand(found[0]), watermark) if found else None

    def _page(
        self,
        table: str,
        column: str,
        clauses: list[str],
        params: dict[str, Any],
        limit: int,
        after: tuple[str, str] | None,
        descending: bool,
        watermark: datetime | None,
    ) -> list[Row]:
        op, order = ("<", "DESC") if descending else (">", "ASC")
        if after is not None:
            clauses.append(
                f"({column} {op} :after_v OR ({column} = :after_v AND id {op} :after_id))"
            )
            params.update(after_v=after[0], after_id=after[1])
        sql = (
            f"SELECT * FROM {self.t(table)}"
            f"{' WHERE ' + ' AND '.join(clauses) if clauses else ''}"
            f" ORDER BY {column} {order}, id {order} LIMIT :limit"
        )
        params["limit"] = limit
        return [judged_clocks(expand(row), watermark) for row in self.store.query(sql, params)]


def order_clauses(w: OrderFilter, dialect: str) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions on ``order_rows``' columns for the filter ``w`` (``dialect``: the
    store's, ``sqlite`` or ``postgres``), and their parameters."""
    clauses, params = _common(w.breached, w.rule)
    _range(clauses, params, "placed_at", w.placed_from, w.placed_to)
    _equal(clauses, params, status=w.status, customer_id=w.customer_id)
    _equal(clauses, params, channel=w.channel, store_id=w.store_id)
    if w.late is not None:
        clauses.append(f"delivered_late = {1 if w.late else 0}")
    find = "instr" if dialect == "sqlite" else "strpos"
    for n, (name, value) in enumerate(w.attributes):
        clauses.append(f"{find}(attribute_labels, :attribute{n}) > 0")
        params[f"attribute{n}"] = f"|{label(name, value)}|"
    return clauses, params


def _common(breached: bool | None, rule: str | None) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if breached is not None:
        clauses.append("breaches > 0" if breached else "breaches = 0")
    if rule is not None:
        clauses.append("breached_rules LIKE :rule")
        params["rule"] = "%|" + rule.replace("%", "").replace("_", "") + "|%"
    return clauses, params


def _range(
    clauses: list[str],
    params: dict[str, Any],
    column: str,
    start: datetime | None,
    end: datetime | None,
) -> None:
    if start is not None:
        clauses.append(f"{column} >= :range_from")
        params["range_from"] = utc(start)
    if end is not None:
        clauses.append(f"{column} < :range_to")
        params["range_to"] = utc(end)


def _equal(clauses: list[str], params: dict[str, Any], **values: str | None) -> None:
    for column, value in values.items():
        if value is not None:
            clauses.append(f"{column} = :{column}")
            params[column] = value

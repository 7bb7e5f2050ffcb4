"""The ledger's counts and filters and the orders' source-attribute filter on PostgreSQL
answer what they answer on SQLite (tests/unit/test_source_attributes.py proves them on
SQLite): the same notifications, fed in batches of 3, queried alike on both stores
(issue 15, items 4 and 5)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.readstore import ReadStore, SQLiteReadStore
from application.service import JourneyApplication
from projections.ledger import ComplaintLedger, LedgerFilter
from projections.ledger.counts import LedgerCounts
from projections.orders import OrdersAndReturns
from projections.orders.counts import OrderCounts
from projections.orders.queries import OrderFilter
from tests.builders.orders import notifications
from tests.builders.source_attributes import ORDER_STATUSES, cases, orders
from tests.unit.feeding import Feed

QUERIES: list[tuple[LedgerFilter, list[str]]] = [
    (LedgerFilter(), []),
    (LedgerFilter(), ["attribute.submitted_via"]),
    (LedgerFilter(classification="complaint"), ["classification", "attribute.state"]),
    (LedgerFilter(attributes=(("submitted_via", "Web"),)), ["channel", "opened_year"]),
    (LedgerFilter(reopened=False, breached=False), ["opened_month", "breached_rule", "topic"]),
    (LedgerFilter(satisfaction_min=4), ["status"]),
]


ORDER_QUERIES: list[tuple[OrderFilter, list[str]]] = [
    (OrderFilter(), []),
    (OrderFilter(), ["attribute.order_status", "placed_day"]),
    (OrderFilter(late=False), ["status", "channel", "store", "late"]),
    (OrderFilter(attributes=(("order_status", "delivered"),)), ["breached_rule", "placed_year"]),
]


def with_status(status: str) -> OrderFilter:
    return OrderFilter(attributes=(("order_status", status),))


@pytest.mark.postgres
def test_postgres_counts_and_filters_as_sqlite_does(
    app: JourneyApplication, postgres_store: ReadStore, tmp_path: Path
) -> None:
    assert Feed(app)(*cases(), *orders()) == []
    log = notifications(app)
    sqlite_store = SQLiteReadStore(tmp_path / "rm.sqlite")
    answers = []
    try:
        for store in (sqlite_store, postgres_store):
            ledger, orders_rm = ComplaintLedger(store), OrdersAndReturns(store)
            for projection in (ledger, orders_rm):
                projection.create_tables()
                for start in range(0, len(log), 3):
                    projection.process(log[start : start + 3])
            counts = LedgerCounts(ledger)
            zone = ZoneInfo("Asia/Shanghai")
            answers.append(
                (
                    [counts.counts(where, dims, zone) for where, dims in QUERIES],
                    [
                        len(
                            orders_rm.orders(
                                50, where=OrderFilter(attributes=(("order_status", s),))
                            )
                        )
                        for s in sorted(set(ORDER_STATUSES))
                    ],
                    [OrderCounts(orders_rm).counts(w, dims, zone) for w, dims in ORDER_QUERIES],
                )
            )
    finally:
        sqlite_store.close()
    on_sqlite, on_postgres = answers
    assert on_postgres == on_sqlite
    assert on_sqlite[0][0].total == len(cases())
    assert sum(on_sqlite[1]) == len(ORDER_STATUSES)
    assert on_sqlite[2][0].total == len(ORDER_STATUSES)

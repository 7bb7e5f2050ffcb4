"""``OrdersAndReturns``: the tables (``tables``), the batch apply (``batch``, routing each
event to its row changes in ``rows``) and the queries (``queries``) as one projection."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.readstore import Cursor
from projections.base import Index, Notified
from projections.orders import tables
from projections.orders.batch import apply_batch
from projections.orders.queries import OrderQueries
from projections.orders.return_rows import HANDLES  # every change: see ``return_rows``


class OrdersAndReturns(OrderQueries):
    """One row per order and one per return (R-ORD, R-REF): statuses, promised and
    actual times, every SLA clock, refunds."""

    name = "orders_returns"
    schema_version = 3  # 2: an order's source attributes (attribute_labels); 3: escaped
    tables = tables.TABLES
    handles = HANDLES

    def ddl(self) -> Sequence[str]:
        return tables.ddl(self.t)

    def indexes(self) -> Sequence[Index]:
        return tables.indexes()

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        apply_batch(self.t, cursor, batch)

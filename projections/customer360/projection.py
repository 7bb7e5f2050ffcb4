"""``Customer360``: the tables (``tables``), the batch apply (``batch``, routing each event
to its item as ``rows`` says) and the queries (``queries``) as one projection."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.readstore import Cursor
from projections.base import Index, Notified
from projections.customer360 import tables
from projections.customer360.batch import apply_by_item
from projections.customer360.queries import Customer360Queries
from projections.customer360.rows import HANDLES


class Customer360(Customer360Queries):
    """The customer 360 read model (R-CUS-06) with its segments (R-CUS-05)."""

    name = "customer_360"
    tables = tables.TABLES
    handles = HANDLES

    def ddl(self) -> Sequence[str]:
        return tables.ddl(self.t, self.store.dialect)

    def indexes(self) -> Sequence[Index]:
        return tables.indexes()

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        apply_by_item(self.t, cursor, batch)

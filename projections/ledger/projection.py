"""``ComplaintLedger``: the tables (``tables``), the batch apply (``batch``, routing each
event to its row change in ``rows``) and the queries (``queries``) as one projection."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.readstore import Cursor
from projections.base import Index, Notified
from projections.ledger import tables
from projections.ledger.batch import apply_by_case
from projections.ledger.queries import LedgerQueries
from projections.ledger.rows import HANDLES


class ComplaintLedger(LedgerQueries):
    """One row per case of every classification (R-CMP-06; complaints are those with
    ``classification`` complaint), repeat complaints marked (R-CMP-07)."""

    name = "complaint_ledger"
    schema_version = 3  # 2: facets (breached rules, source attributes), satisfaction column
    # 3: repeat_of names the latest earlier complaint (R-CMP-07); refilled, not migrated
    tables = tables.TABLES
    handles = HANDLES

    def ddl(self) -> Sequence[str]:
        return tables.ddl(self.t)

    def indexes(self) -> Sequence[Index]:
        return tables.indexes()

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        apply_by_case(self.t, cursor, batch)

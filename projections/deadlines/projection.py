"""``DeadlineIndex``: the tables (``tables``), the batch apply (``batch``, routing each
clock decision as ``rows`` says) and the queries (``queries``) as one projection."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.readstore import Cursor
from projections.base import Index, Notified
from projections.deadlines import tables
from projections.deadlines.batch import apply_in_order
from projections.deadlines.queries import DeadlineQueries
from projections.deadlines.rows import HANDLES


class DeadlineIndex(DeadlineQueries):
    """Open SLA deadlines and the event-time watermark, for the clock timer."""

    name = "deadline_index"
    tables = tables.TABLES
    handles = HANDLES

    def ddl(self) -> Sequence[str]:
        return tables.ddl(self.t)

    def indexes(self) -> Sequence[Index]:
        return tables.indexes()

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        apply_in_order(self.t, cursor, batch)

"""``KpiCounters``: the tables (``tables``), the batch apply (``Work``, each event routed to
its handler in ``handlers``) and the queries (``queries``) as one projection."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.readstore import Cursor
from projections.base import Index, Notified
from projections.kpis import tables
from projections.kpis.attributes import Attributes
from projections.kpis.handlers import HANDLES, RELATED
from projections.kpis.queries import KpiQueries
from projections.kpis.work import Work


class KpiCounters(KpiQueries):
    """Daily counters by channel, store and agent group, each count explainable by its
    facts (R-KPI-01..08)."""

    name = "kpi_counters"
    tables = tables.TABLES
    handles = HANDLES
    schema_version = 3  # 2: facts dated to the second, counters by UTC hour (report zones)
    # 3: source attributes of each aggregate (kpi_attributes), to filter and group by

    def ddl(self) -> Sequence[str]:
        return tables.ddl(self.t)

    def indexes(self) -> Sequence[Index]:
        return tables.indexes()

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        """Load the rows the batch touches (two queries per 500 aggregates), apply every
        event in memory, write the changes with ``executemany``. Every event's source
        attributes are kept, whether or not it moves a count (``attributes``)."""
        Attributes(cursor, self.t).apply(
            (str(event.originator_id), event) for _, event in batch if event is not None
        )
        work_list = [
            (nid, event, handler)
            for nid, event in batch
            if event is not None and (handler := HANDLES.handler(type(event))) is not None
        ]
        if not work_list:
            return
        work = Work(cursor, self.t)
        ids = {work.sid(event.originator_id) for _, event, _ in work_list}
        for _, event, _ in work_list:
            if (other := RELATED.handler(type(event))) is not None:
                ids.add(other(event))
        work.load_owners(ids)
        returns = (row for row in work.owners.values() if row and row["kind"] == "return")
        work.load_facts(ids | {row["parent_id"] for row in returns})  # counted on the order
        for nid, event, handler in work_list:
            handler(work, nid, event)
        work.store()

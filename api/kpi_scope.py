"""What every KPI route reads through, declared once: the KPI read model, the request's zone
and the source-attribute filter (``attribute=name:value``, the ledger's and the orders'
parameter, ``api.ledger_params.AttributeQuery``; issue 15, item 4).

A KPI route takes :data:`KpiScopeDep` to reach the counters, so it takes ``attribute`` with
them, validated the same way (a 422 naming ``query.attribute`` for bad syntax or a name not
declared), and passes :attr:`KpiScope.held` to the query: a figure, the events that explain
it, the funnel, the anomalies and the QA sample are all of the same facts under the same
filter. ``tests/unit/test_kpi_attribute_filters.py`` walks the route table: every route that
reads the KPI counters takes ``attribute``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from api.deps import KpisDep
from api.ledger_params import AttributeQuery, attribute_pairs
from api.times import Zone, ZoneDep
from projections.kpis import KpiCounters


@dataclass(frozen=True)
class KpiScope:
    counters: KpiCounters
    zone: Zone
    held: tuple[tuple[str, str], ...]
    """The source attributes (name, value) a fact's subject must hold, every one."""

    def named(self) -> dict[str, Any]:
        """What every KPI answer says it was asked in: the zone, and the filter when given."""
        return {"tz": self.zone.name, **({"attributes": dict(self.held)} if self.held else {})}


async def kpi_scope(counters: KpisDep, zone: ZoneDep, attribute: AttributeQuery = None) -> KpiScope:
    return KpiScope(counters, zone, attribute_pairs(attribute or []))


KpiScopeDep = Annotated[KpiScope, Depends(kpi_scope)]

"""KPI counters (R-KPI-01..08): per day, channel, store and agent group, volumes, type mix,
responses within target, first-contact resolutions, returns over deliveries, CSAT and NPS
inputs, handling times, breaches by rule, top issues, the journey funnel; the anomaly flag
and the quality-inspection sample are derived from them when asked.

Every count can be explained: ``kpi_facts`` keeps one row per thing counted with the event
it is made of, and ``explain`` lists them; a count is always the number of its facts. The
counter tables hold the same counts summed by (day, channel, metric), (day, store, metric)
and (day, agent group, metric), written in the same transaction as the facts, so a query
over a month grouped by none or one of them reads a few thousand rows whatever the volume;
a grouping by two places or more sums the facts.

Modules: ``metrics`` (what is counted, and the choices the rules leave open), ``tables``
(DDL, indexes, columns), ``rows`` (a fact, an owner), ``handlers`` (how each event moves the
facts) and ``matching`` (what is found from both ends), ``work`` (a batch: loaded once,
changed in memory, written once), ``queries``, ``anomalies`` (R-KPI-06), ``sample``
(R-KPI-07), ``projection`` (``KpiCounters``: tables, batch and queries together).
"""

from projections.kpis.projection import KpiCounters
from projections.kpis.queries import GROUPS, PLACES, GroupBy

__all__ = ["GROUPS", "PLACES", "GroupBy", "KpiCounters"]

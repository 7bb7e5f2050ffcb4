"""What the KPI counters answer: the counts and rates of a period grouped by day and place
(R-KPI-01..05, R-KPI-08), the funnel, the anomalies (R-KPI-06), the quality-inspection
sample (R-KPI-07), and the facts a count is made of."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Literal

from adapters.readstore import Row
from projections.base import Projection
from projections.kpis import metrics as m
from projections.kpis.anomalies import CONSECUTIVE_DAYS, Daily, anomalies
from projections.kpis.sample import sample
from projections.kpis.tables import COUNTER_TABLES

GroupBy = Literal["day", "channel", "store", "agent_group"]
GROUPS: tuple[GroupBy, ...] = ("day", "channel", "store", "agent_group")
PLACES = ("channel", "store", "agent_group")


def _shown(value: str) -> str | None:
    """Dimensions are stored as text, ``''`` for none; shown as ``None``."""
    return value or None


def _day(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


class KpiQueries(Projection):
    """The reading half of ``KpiCounters``."""

    def _sums(
        self, table: str, start: date, end: date, by: Sequence[str], extra: str = ""
    ) -> list[Row]:
        columns = "".join(f"{d}, " for d in by)
        return self.store.query(
            f"SELECT {columns}metric, SUM(n) AS n, SUM(total) AS total FROM {self.t(table)}"
            f" WHERE day >= :start AND day <= :end{extra} GROUP BY {columns}metric",
            {"start": _day(start), "end": _day(end)},
        )

    def kpis(
        self, start: date, end: date, group_by: Sequence[GroupBy] = ()
    ) -> list[dict[str, Any]]:
        """R-KPI-01..05, R-KPI-08 over the days ``start``..``end`` (inclusive, UTC), one
        row per group (``group_by``: any of day, channel, store, agent_group; none: one row
        for the period) that has anything counted: the counts and the derived rates (see
        ``metrics.figures``). Grouped by at most one place (channel, store or agent
        group) it reads a counter table; by two or more it sums the facts (slower)."""
        by = list(dict.fromkeys(group_by))
        unknown = [g for g in by if g not in GROUPS]
        if unknown:
            raise ValueError(f"cannot group by {unknown}; choose from {list(GROUPS)}")
        places = set(by) - {"day"}
        groups: dict[tuple[str, ...], dict[str, tuple[int, int]]] = defaultdict(dict)
        for spec in COUNTER_TABLES:
            if places <= set(spec.dimensions):
                for row in self._sums(spec.table, start, end, by):
                    key = tuple(row[g] for g in by)
                    groups[key][row["metric"]] = (int(row["n"]), int(row["total"]))
                break
        else:
            for key, metric, n, total in self._summed_facts(start, end, by):
                count = groups[key].get(metric, (0, 0))
                groups[key][metric] = (count[0] + n, count[1] + total)
        return [
            {
                **{g: _shown(v) if g != "day" else v for g, v in zip(by, key, strict=True)},
                **m.figures(groups[key]),
            }
            for key in sorted(groups)
        ]

    def _summed_facts(
        self, start: date, end: date, by: Sequence[str]
    ) -> list[tuple[tuple[str, ...], str, int, int]]:
        """(group, metric, count, sum) from the facts themselves, labels included."""
        columns = "".join(f"{d}, " for d in by)
        labels = ", ".join(column for _, column in m.LABELS)
        rows = self.store.query(
            f"SELECT {columns}metric, {labels}, COUNT(*) AS n, SUM(value) AS total"
            f" FROM {self.t('kpi_facts')} WHERE day >= :start AND day <= :end"
            f" GROUP BY {columns}metric, {labels}",
            {"start": _day(start), "end": _day(end)},
        )
        found = []
        for row in rows:
            key = tuple(row[g] for g in by)
            n, total = int(row["n"]), int(row["total"])
            found.append((key, row["metric"], n, total))
            for prefix, column in m.LABELS:
                if row[column]:
                    found.append((key, prefix + row[column], n, total))
        return found

    def funnel(self, start: date, end: date) -> dict[str, Any]:
        """R-KPI-08: contacts by journey stage, consultation conversion, after-sales
        resolution rate over the days ``start``..``end``."""
        counts = {
            row["metric"]: (int(row["n"]), int(row["total"]))
            for row in self._sums("kpi_counters_channel", start, end, ())
        }
        return {"start": _day(start), "end": _day(end), **m.funnel(counts)}

    def anomalies(self, start: date, end: date) -> list[dict[str, Any]]:
        """R-KPI-06: stores and agent groups whose daily complaint rate was above their
        peers' mean for 3 or more consecutive days, with a run reaching into the period
        (the two days before ``start`` are read so that a run can be flagged on it)."""
        lookback = start - timedelta(days=CONSECUTIVE_DAYS - 1)
        wanted = f" AND metric IN ('{m.CONTACTS}', '{m.COMPLAINT_CASES}')"
        found = []
        for dimension, table in (
            ("store", "kpi_counters_store"),
            ("agent_group", "kpi_counters_group"),
        ):
            cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
            for row in self._sums(table, lookback, end, ("day", dimension), wanted):
                cell = cells[(row["day"], row[dimension])]
                cell[0 if row["metric"] == m.COMPLAINT_CASES else 1] += int(row["n"])
            daily: list[Daily] = [(d, v, c, n) for (d, v), (c, n) in sorted(cells.items())]
            found.extend(anomalies(dimension, daily))
        return found

    def qa_sample(
        self, agent_group: str | None, start: date, end: date, seed: int
    ) -> list[dict[str, Any]]:
        """R-KPI-07: 10 % (rounded up) of the conversations (contacts opened on the days
        ``start``..``end``) of each agent group — or of ``agent_group`` only — chosen by a
        hash of the contact keyed by ``seed``: the same seed, the same sample."""
        params: dict[str, Any] = {"metric": m.CONTACTS, "start": _day(start), "end": _day(end)}
        only = ""
        if agent_group is not None:
            only, params["group"] = " AND agent_group = :group", agent_group
        rows = self.store.query(
            "SELECT subject_id, ref, day, channel, store, agent_group, notification_id,"
            f" aggregate_id, event_id, occurred_at FROM {self.t('kpi_facts')}"
            f" WHERE metric = :metric AND day >= :start AND day <= :end{only}",
            params,
        )
        return [
            {
                "rule": "R-KPI-07",
                "agent_group": _shown(row["agent_group"]),
                "contact": row["subject_id"],
                "contact_id": row["ref"],
                "day": row["day"],
                "channel": _shown(row["channel"]),
                "store": _shown(row["store"]),
                "notification_id": row["notification_id"],
                "event_id": row["event_id"],
                "occurred_at": row["occurred_at"],
                "rank": row["rank"],
                "population": row["population"],
            }
            for row in sample(rows, seed)
        ]

    def explain(self, metric: str, day: date | str, **where: str | None) -> list[dict[str, Any]]:
        """The events a count is made of: the facts of ``metric`` on ``day`` whose
        dimensions (channel, store, agent_group: those given; ``None`` = without one) match,
        by notification id. Their number is the count."""
        unknown = sorted(set(where) - set(PLACES))
        if unknown:
            raise ValueError(f"cannot explain by {unknown}; choose from {list(PLACES)}")
        params: dict[str, Any] = {"metric": metric, "day": _day(day)}
        filters = ""
        for prefix, column in m.LABELS:
            if metric.startswith(prefix):  # a label of contacts' facts
                params.update(metric=m.CONTACTS, label=metric[len(prefix) :])
                filters = f" AND {column} = :label"
        for place in PLACES:
            if place in where:
                filters += f" AND {place} = :{place}"
                params[place] = where[place] or ""
        rows = self.store.query(
            f"SELECT * FROM {self.t('kpi_facts')} WHERE metric = :metric AND day = :day"
            f"{filters} ORDER BY notification_id, subject_id, subkey",
            params,
        )
        return [
            {
                "notification_id": row["notification_id"],
                "aggregate_id": row["aggregate_id"],
                "version": row["version"],
                "type": row["event_type"],
                "occurred_at": row["occurred_at"],
                "event_id": row["event_id"],
                "subject_id": row["subject_id"],
                "ref": row["ref"],
                "subkey": row["subkey"],
                "value": row["value"],
                "metric": metric,
                "day": row["day"],
                "channel": _shown(row["channel"]),
                "store": _shown(row["store"]),
                "agent_group": _shown(row["agent_group"]),
            }
            for row in rows
        ]

    def count(self, metric: str, day: date | str, **where: str | None) -> tuple[int, int]:
        """(count, sum of values) of one metric on one day, for the dimensions given (as in
        ``explain``)."""
        rows = self.explain(metric, day, **where)
        return len(rows), sum(int(row["value"]) for row in rows)

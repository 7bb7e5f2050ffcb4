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
What is counted, and the choices the rules leave open: ``projections.kpi_metrics``; how
each event moves the facts: ``projections.kpi_apply``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Literal

from adapters.readstore import Cursor, Row
from projections import kpi_metrics as m
from projections.base import Index, Notified, Projection
from projections.kpi_anomalies import CONSECUTIVE_DAYS, Daily, anomalies
from projections.kpi_apply import Handler, handler_for, related
from projections.kpi_sample import sample
from projections.kpi_work import COUNTER_TABLES, Work

GroupBy = Literal["day", "channel", "store", "agent_group"]
GROUPS: tuple[GroupBy, ...] = ("day", "channel", "store", "agent_group")
PLACES = ("channel", "store", "agent_group")


def _shown(value: str) -> str | None:
    """Dimensions are stored as text, ``''`` for none; shown as ``None``."""
    return value or None


def _day(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


class KpiCounters(Projection):
    name = "kpi_counters"
    tables = (
        "kpi_facts",
        "kpi_owners",
        "kpi_counters_channel",
        "kpi_counters_store",
        "kpi_counters_group",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handlers: dict[type, Handler | None] = {}

    # -- schema -----------------------------------------------------------------------------

    def ddl(self) -> Sequence[str]:
        text = "TEXT NOT NULL"
        counters = [
            f"CREATE TABLE IF NOT EXISTS {self.t(spec.table)} ("
            + "".join(f" {d} {text}," for d in spec.dimensions)
            + f" metric {text}, n BIGINT NOT NULL, total BIGINT NOT NULL,"
            f" PRIMARY KEY ({', '.join(spec.dimensions)}, metric))"
            for spec in COUNTER_TABLES
        ]
        return (
            f"CREATE TABLE IF NOT EXISTS {self.t('kpi_facts')} ("
            f" subject_id {text}, metric {text}, subkey {text}, day {text}, channel {text},"
            f" store {text}, agent_group {text}, value BIGINT NOT NULL, ref {text},"
            f" classification {text}, issue {text}, stage {text},"
            f" notification_id BIGINT NOT NULL, aggregate_id {text}, version BIGINT NOT NULL,"
            f" event_type {text}, occurred_at TEXT, event_id TEXT,"
            " PRIMARY KEY (subject_id, metric, subkey))",
            f"CREATE TABLE IF NOT EXISTS {self.t('kpi_owners')} ("
            f" aggregate_id TEXT PRIMARY KEY, kind {text}, ref {text}, customer_id {text},"
            f" parent_id {text}, channel {text}, store {text}, agent_group {text},"
            f" classification {text}, topic {text}, issue {text}, stage {text}, at {text},"
            f" notification_id BIGINT NOT NULL, version BIGINT NOT NULL, event_type {text},"
            f" event_id {text}, contacts INTEGER NOT NULL, resolutions INTEGER NOT NULL,"
            f" reopens INTEGER NOT NULL, attributed INTEGER NOT NULL, converted_by {text})",
            *counters,
        )

    def indexes(self) -> Sequence[Index]:
        return (
            Index("kpi_facts_day", "kpi_facts", "day, metric", query_only=True),
            Index("kpi_owners_customer", "kpi_owners", "customer_id, kind, at"),
        )

    # -- applying ---------------------------------------------------------------------------

    def _handler(self, kind: type) -> Handler | None:
        if kind not in self._handlers:
            self._handlers[kind] = handler_for(kind)
        return self._handlers[kind]

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        """Load the rows the batch touches (two queries per 500 aggregates), apply every
        event in memory, write the changes with ``executemany``."""
        work_list = [
            (nid, event, handler)
            for nid, event in batch
            if event is not None and (handler := self._handler(type(event))) is not None
        ]
        if not work_list:
            return
        work = Work(cursor, self.t)
        ids = {work.sid(event.originator_id) for _, event, _ in work_list}
        for _, event, _ in work_list:
            ids.update(related(event))
        work.load_owners(ids)
        returns = (row for row in work.owners.values() if row and row["kind"] == "return")
        work.load_facts(ids | {row["parent_id"] for row in returns})  # counted on the order
        for nid, event, handler in work_list:
            handler(work, nid, event)
        work.store()

    # -- queries ----------------------------------------------------------------------------

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
        ``kpi_metrics.figures``). Grouped by at most one place (channel, store or agent
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

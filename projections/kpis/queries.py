"""What the KPI counters answer: the counts and rates of a period grouped by day and place
(R-KPI-01..05, R-KPI-08), the funnel, the anomalies (R-KPI-06), the quality-inspection
sample (R-KPI-07), and the facts a count is made of."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, timedelta, tzinfo
from typing import Any, Literal

from contracts.attributes import ATTRIBUTES
from contracts.clock_needs import CLOCK_NEEDS
from projections.base import Projection
from projections.group_counts import ATTRIBUTE, UnknownDimension
from projections.kpis import metrics as m
from projections.kpis.anomalies import CONSECUTIVE_DAYS, Daily, anomalies
from projections.kpis.sample import sample
from projections.kpis.sums import HOUR_S, Counts, Held, count, joins
from projections.kpis.zones import GRAINS, local_day, local_iso, second_iso, start_of

GroupBy = Literal["day", "week", "month", "channel", "store", "agent_group"]
GROUPS: tuple[GroupBy, ...] = ("day", "week", "month", "channel", "store", "agent_group")
PLACES = ("channel", "store", "agent_group")


def _shown(value: str) -> str | None:
    """Dimensions are stored as text, ``''`` for none; shown as ``None``."""
    return value or None


class UnknownGroup(UnknownDimension):
    """A group or filter that is none of ``GROUPS`` nor a declared source attribute."""


def _declared(group: str) -> bool:
    return group.startswith(ATTRIBUTE) and group.removeprefix(ATTRIBUTE) in ATTRIBUTES


def _checked(by: Sequence[str], held: Held) -> None:
    """UnknownGroup unless every group is one of ``GROUPS`` or a declared source attribute
    and every attribute held is declared."""
    unknown = [g for g in by if g not in GROUPS and not _declared(g)]
    unknown += [f"{ATTRIBUTE}{name}" for name, _ in held if name not in ATTRIBUTES]
    if unknown:
        known = [*GROUPS, *(ATTRIBUTE + name for name in ATTRIBUTES)]
        raise UnknownGroup(f"cannot group or filter by {unknown}; choose from {known}")


def _row(by: Sequence[str], key: tuple[str, ...], counts: Counts) -> dict[str, Any]:
    """One group's row: its keys (a source attribute's under ``attributes``), its figures."""
    row: dict[str, Any] = {}
    for group, value in zip(by, key, strict=True):
        if group.startswith(ATTRIBUTE):
            row.setdefault("attributes", {})[group.removeprefix(ATTRIBUTE)] = _shown(value)
        else:
            row[group] = value if group in GRAINS else _shown(value)
    return {**row, **m.figures(counts)}


class KpiQueries(Projection):
    """The reading half of ``KpiCounters``. Days are dates in the zone a query is given
    (``zone``; UTC unless given): the API passes the report zone, or the request's ``tz``."""

    def extent(self) -> tuple[int, int] | None:
        """The first and last instants (Unix seconds) any fact is dated by."""
        [row] = self.store.query(
            f"SELECT MIN(at) AS low, MAX(at) AS high FROM {self.t('kpi_facts')}"
        )
        if row["low"] is None:
            return None
        return int(row["low"]), int(row["high"])

    def breaches_by_rule(self) -> dict[str, int]:
        """Per SLA rule with a clock (``contracts.clock_needs``), its deadlines whose outcome
        in force is a breach, whenever they started — ``breaches:<rule>`` summed over the
        hourly counters by channel, so a scrape of ``/metrics`` reads one range of the
        ``kpi_counters_metric`` index per rule, never the facts or the events. A rule with
        none reads 0. The figure can fall: a breach settled within target by a late fact,
        or called off, leaves it (as it leaves the KPIs)."""
        rules = list(dict.fromkeys(need.rule.partition(" ")[0] for need in CLOCK_NEEDS))
        names = {f"m{i}": m.BREACHES + rule for i, rule in enumerate(rules)}
        rows = self.store.query(
            f"SELECT metric, SUM(n) AS n FROM {self.t('kpi_counters_channel')}"
            f" WHERE metric IN ({', '.join(':' + name for name in names)}) GROUP BY metric",
            names,
        )
        found = {str(row["metric"]): int(row["n"]) for row in rows}
        return {rule: found.get(m.BREACHES + rule, 0) for rule in rules}

    def interval(
        self, start: date | None, end: date | None, zone: tzinfo = UTC
    ) -> tuple[int, int] | None:
        """The instants ``[low, high)`` of the days ``start``..``end`` (inclusive) in
        ``zone``; a bound not given is the first or last fact's (its whole hour); None when
        the period is empty."""
        low = start_of(start, zone) if start is not None else None
        high = start_of(end + timedelta(days=1), zone) if end is not None else None
        if low is None or high is None:
            extent = self.extent()
            if extent is None:
                return None
            low = low if low is not None else extent[0] // HOUR_S * HOUR_S
            high = high if high is not None else (extent[1] // HOUR_S + 1) * HOUR_S
        return (low, high) if low < high else None

    def kpis(
        self,
        start: date | None,
        end: date | None,
        group_by: Sequence[str] = (),
        zone: tzinfo = UTC,
        held: Held = (),
    ) -> list[dict[str, Any]]:
        """R-KPI-01..05, R-KPI-08 over the days ``start``..``end`` (inclusive, in
        ``zone``; a bound left out: since the first fact, until the last), one row per
        group (``group_by``: any of channel, store, agent_group, source attributes
        ``attribute.<name>``, and at most one of day, week, month; none: one row for the
        period) that has anything counted: the counts and the derived rates (see
        ``metrics.figures``); a source attribute's value is in the row's ``attributes``.
        ``held``: only the facts whose subject holds these source attributes (name, value)
        (``projections.kpis.attributes``)."""
        by = list(dict.fromkeys(group_by))
        _checked(by, held)
        span = self.interval(start, end, zone)
        if span is None:
            return []
        groups = count(self.store, self.t, *span, by, zone, held=held)
        return [_row(by, key, groups[key]) for key in sorted(groups)]

    def funnel(self, start: date, end: date, zone: tzinfo = UTC, held: Held = ()) -> dict[str, Any]:
        """R-KPI-08: contacts by journey stage, consultation conversion, after-sales
        resolution rate over the days ``start``..``end`` in ``zone``; ``held``: of the
        facts whose subject holds these source attributes only (as ``kpis``)."""
        _checked((), held)
        span = self.interval(start, end, zone)
        counts = count(self.store, self.t, *span, (), zone, held=held).get((), {}) if span else {}
        return {"start": start.isoformat(), "end": end.isoformat(), **m.funnel(counts)}

    def anomalies(
        self, start: date, end: date, zone: tzinfo = UTC, held: Held = ()
    ) -> list[dict[str, Any]]:
        """R-KPI-06: stores and agent groups whose daily complaint rate (days in ``zone``)
        was above their peers' mean for 3 or more consecutive days, with a run reaching
        into the period (the two days before ``start`` are read so that a run can be
        flagged on it). ``held``: rates, and peers, of the facts whose subject holds these
        source attributes only (the complaint rate of CFPB's postal complaints by store)."""
        _checked((), held)
        lookback = start - timedelta(days=CONSECUTIVE_DAYS - 1)
        span = self.interval(lookback, end, zone)
        found: list[dict[str, Any]] = []
        if span is None:
            return found
        for dimension in ("store", "agent_group"):
            groups = count(
                self.store,
                self.t,
                *span,
                ("day", dimension),
                zone,
                (m.CONTACTS, m.COMPLAINT_CASES),
                held,
            )
            daily: list[Daily] = [
                (
                    day,
                    value,
                    counts.get(m.COMPLAINT_CASES, (0, 0))[0],
                    counts.get(m.CONTACTS, (0, 0))[0],
                )
                for (day, value), counts in sorted(groups.items())
            ]
            found.extend(anomalies(dimension, daily))
        return found

    def qa_sample(
        self,
        agent_group: str | None,
        start: date,
        end: date,
        seed: int,
        zone: tzinfo = UTC,
        held: Held = (),
    ) -> list[dict[str, Any]]:
        """R-KPI-07: 10 % (rounded up) of the conversations (contacts opened on the days
        ``start``..``end`` in ``zone``) of each agent group — or of ``agent_group`` only —
        chosen by a hash of the contact keyed by ``seed``: the same seed, the same sample.
        ``held``: of the contacts holding these source attributes only (10 % of those)."""
        _checked((), held)
        span = self.interval(start, end, zone)
        if span is None:
            return []
        params: dict[str, Any] = {"metric": m.CONTACTS, "low": span[0], "high": span[1]}
        only = ""
        if agent_group is not None:
            only, params["group"] = " AND agent_group = :group", agent_group
        facts = self.t("kpi_facts") + joins(self.t, (), held, params)
        rows = self.store.query(
            "SELECT subject_id, ref, at, channel, store, agent_group, notification_id,"
            f" aggregate_id, event_id, occurred_at FROM {facts}"
            f" WHERE metric = :metric AND at >= :low AND at < :high{only}",
            params,
        )
        return [
            {
                "rule": "R-KPI-07",
                "agent_group": _shown(row["agent_group"]),
                "contact": row["subject_id"],
                "contact_id": row["ref"],
                "day": local_day(int(row["at"]), zone).isoformat(),
                "channel": _shown(row["channel"]),
                "store": _shown(row["store"]),
                "notification_id": row["notification_id"],
                "event_id": row["event_id"],
                "occurred_at": local_iso(row["occurred_at"], zone),
                "rank": row["rank"],
                "population": row["population"],
            }
            for row in sample(rows, seed)
        ]

    def explain(
        self, metric: str, day: date, zone: tzinfo = UTC, held: Held = (), /, **where: str | None
    ) -> list[dict[str, Any]]:
        """The events a count is made of: the facts of ``metric`` dated on ``day`` (in
        ``zone``) whose dimensions (channel, store, agent_group: those given; ``None`` =
        without one) match and whose subject holds the source attributes ``held`` (the
        same join as ``kpis``), by notification id. Their number is the count. Times are
        shown with the zone's offset."""
        unknown = sorted(set(where) - set(PLACES))
        if unknown:
            raise ValueError(f"cannot explain by {unknown}; choose from {list(PLACES)}")
        _checked((), held)
        low = start_of(day, zone)
        params: dict[str, Any] = {
            "metric": metric,
            "low": low,
            "high": start_of(day + timedelta(days=1), zone),
        }
        filters = ""
        for prefix, column in m.LABELS:
            if metric.startswith(prefix):  # a label of contacts' facts
                params.update(metric=m.CONTACTS, label=metric[len(prefix) :])
                filters = f" AND {column} = :label"
        if metric.startswith(m.DETECTED):  # a breach by how it was detected
            rule, _, how = metric[len(m.DETECTED) :].rpartition("/")
            params.update(metric=m.BREACHES + rule, label=how)
            filters = " AND detected_by = :label"
        for place in PLACES:
            if place in where:
                filters += f" AND {place} = :{place}"
                params[place] = where[place] or ""
        facts = self.t("kpi_facts")
        rows = self.store.query(
            f"SELECT {facts}.* FROM {facts}{joins(self.t, (), held, params)}"
            f" WHERE metric = :metric AND at >= :low AND at < :high{filters}"
            " ORDER BY notification_id, subject_id, subkey",
            params,
        )
        return [
            {
                "notification_id": row["notification_id"],
                "aggregate_id": row["aggregate_id"],
                "version": row["version"],
                "type": row["event_type"],
                "occurred_at": local_iso(row["occurred_at"], zone),
                "event_id": row["event_id"],
                "subject_id": row["subject_id"],
                "ref": row["ref"],
                "subkey": row["subkey"],
                "value": row["value"],
                "metric": metric,
                "day": day.isoformat(),
                "dated_at": second_iso(int(row["at"]), zone),
                "detected_by": row["detected_by"] or None,
                "channel": _shown(row["channel"]),
                "store": _shown(row["store"]),
                "agent_group": _shown(row["agent_group"]),
            }
            for row in rows
        ]

    def count(
        self, metric: str, day: date, zone: tzinfo = UTC, held: Held = (), /, **where: str | None
    ) -> tuple[int, int]:
        """(count, sum of values) of one metric on one day, for the dimensions and source
        attributes given (as in ``explain``)."""
        rows = self.explain(metric, day, zone, held, **where)
        return len(rows), sum(int(row["value"]) for row in rows)

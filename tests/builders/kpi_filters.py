"""The KPI answers under a source-attribute filter (issue 15, item 4), computed again in
Python over the facts read back and filtered by their subjects' stored attributes: the
oracle of tests/unit/test_kpi_attribute_filters.py and of its PostgreSQL twin."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta, tzinfo
from typing import Any

from adapters.readstore import Row
from projections.kpis import KpiCounters
from projections.kpis import metrics as m
from projections.kpis.anomalies import CONSECUTIVE_DAYS, anomalies
from projections.kpis.sample import sample
from projections.kpis.sums import Counts, Held
from projections.kpis.zones import local_day, start_of


def holding(kpi: KpiCounters, held: Held) -> list[Row]:
    """The facts whose subject holds every attribute of ``held``: every fact and every
    subject's attributes read back, the filter applied here."""
    holds: dict[str, dict[str, str]] = defaultdict(dict)
    for row in kpi.store.query(f"SELECT * FROM {kpi.t('kpi_attributes')}"):
        holds[row["owner_id"]][row["attribute"]] = row["attribute_value"]
    facts = kpi.store.query(f"SELECT * FROM {kpi.t('kpi_facts')}")
    return [f for f in facts if all(holds[f["subject_id"]].get(n) == v for n, v in held)]


def within(facts: Sequence[Row], start: date, end: date, zone: tzinfo) -> list[Row]:
    low, high = start_of(start, zone), start_of(end + timedelta(days=1), zone)
    return [f for f in facts if low <= int(f["at"]) < high]


def counts_of(facts: Sequence[Row]) -> Counts:
    """metric → (count, sum of values), each fact counted toward its labels too."""
    counts: Counts = {}
    for fact in facts:
        for metric in (fact["metric"], *m.labels_of(fact)):
            n, total = counts.get(metric, (0, 0))
            counts[metric] = (n + 1, total + int(fact["value"]))
    return counts


def anomalies_of(facts: Sequence[Row], start: date, end: date, zone: tzinfo) -> list[Any]:
    """R-KPI-06 over ``facts``: the daily complaint rates of each store and agent group."""
    found = []
    read = within(facts, start - timedelta(days=CONSECUTIVE_DAYS - 1), end, zone)
    for dimension in ("store", "agent_group"):
        daily: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for fact in read:
            if fact["metric"] in (m.CONTACTS, m.COMPLAINT_CASES):
                day = local_day(int(fact["at"]), zone).isoformat()
                daily[(day, fact[dimension])][fact["metric"]] += 1
        found += anomalies(
            dimension,
            [
                (day, value, c[m.COMPLAINT_CASES], c[m.CONTACTS])
                for (day, value), c in sorted(daily.items())
            ],
        )
    return found


FIGURES = {m.HANDLING: "handled", m.CSAT: "csat_answers"}
"""The counts whose figure in a row of ``/v1/kpis`` is not named as the metric."""


def figure(row: dict[str, Any], metric: str) -> int | None:
    """The figure of ``metric`` in a row of ``/v1/kpis`` (None: an issue not in the top 5)."""
    prefix, colon, label = metric.partition(":")
    family = prefix + colon
    if not colon:
        return int(row[FIGURES.get(metric, metric)])
    if family == m.TYPE:
        return int(row["volume_by_classification"].get(label, 0))
    if family == m.STAGE:
        return int(row["stages"][label])
    if family == m.BREACHES:
        return int(row["breaches"].get(label, 0))
    if family == m.DETECTED:
        rule, _, how = label.rpartition("/")
        return int(row["breaches_by_detection"].get(rule, {}).get(how, 0))
    return {i["issue"]: i["contacts"] for i in row["top5_issues"]}.get(label)


def filters(kpi: KpiCounters) -> list[Held]:
    """No filter, each (name, value) held by some subject, each two of them with other
    names, and a value nobody holds."""
    pairs = sorted(
        (r["attribute"], r["attribute_value"])
        for r in kpi.store.query(
            f"SELECT DISTINCT attribute, attribute_value FROM {kpi.t('kpi_attributes')}"
        )
    )
    two = [(a, b) for a in pairs for b in pairs if a[0] < b[0]]
    return [(), *((pair,) for pair in pairs), *two, (("submitted_via", "Telex"),)]


def check_every_answer(kpi: KpiCounters, zone: tzinfo, seed: int) -> int:
    """Every KPI answer under each filter equals the same computed over the matching facts
    only; returns how many filtered answers had something in them."""
    extent = kpi.extent()
    assert extent is not None
    first, last = (local_day(second, zone) for second in extent)
    nonempty = 0
    for held in filters(kpi):
        facts = holding(kpi, held)
        # R-KPI-01..05 by day, and explain: the events of each count are the facts counted.
        rows = {r["day"]: r for r in kpi.kpis(None, None, ["day"], zone, held)}
        days: dict[str, list[Row]] = defaultdict(list)
        for fact in facts:
            days[local_day(int(fact["at"]), zone).isoformat()].append(fact)
        assert set(rows) == set(days), held
        for day, mine in days.items():
            counts = counts_of(mine)
            assert {k: v for k, v in rows[day].items() if k != "day"} == m.figures(counts)
            for metric, (n, total) in counts.items():
                explained = kpi.explain(metric, date.fromisoformat(day), zone, held)
                assert len(explained) == n
                assert figure(rows[day], metric) in (n, None), (held, day, metric)
                assert sum(e["value"] for e in explained) == total
                assert sorted((e["subject_id"], e["subkey"]) for e in explained) == sorted(
                    (f["subject_id"], f["subkey"])
                    for f in mine
                    if metric in (f["metric"], *m.labels_of(f))
                )
        # R-KPI-08, R-KPI-06, R-KPI-07 over the whole span.
        period = within(facts, first, last, zone)
        assert kpi.funnel(first, last, zone, held) == {
            "start": first.isoformat(),
            "end": last.isoformat(),
            **m.funnel(counts_of(period)),
        }
        assert kpi.anomalies(first, last, zone, held) == anomalies_of(facts, first, last, zone)
        drawn = kpi.qa_sample(None, first, last, seed, zone, held)
        expected = sample([f for f in period if f["metric"] == m.CONTACTS], seed)
        assert [(s["contact"], s["rank"], s["population"]) for s in drawn] == [
            (r["subject_id"], r["rank"], r["population"]) for r in expected
        ]
        nonempty += bool(held and facts)
    return nonempty

"""The KPI counters' tables: ``kpi_facts`` (one row per thing counted), ``kpi_owners``
(what the counters need to know of each aggregate), ``kpi_attributes`` (the source
attributes of each aggregate, ``contracts.attributes``: the latest value of each name in
event time, with its stamp) and the counter tables, each summing the facts by UTC hour and
one place (see ``projections.kpis.work``).

Time is kept as an instant, never as a day: a fact's ``at`` is the second (Unix time) it
is dated by, a counter's ``hour`` the Unix hour (``at // 3600``). Which day, ISO week or
month that is depends on the time zone a report asks for (``projections.kpis.zones``), so
any zone's figures are sums of these rows and changing the report zone needs no rebuild."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from projections.base import Index

TABLES = (
    "kpi_facts",
    "kpi_owners",
    "kpi_attributes",
    "kpi_counters_channel",
    "kpi_counters_store",
    "kpi_counters_group",
)

FACT_COLUMNS = (
    "subject_id",
    "metric",
    "subkey",
    "at",
    "channel",
    "store",
    "agent_group",
    "value",
    "ref",
    "classification",
    "issue",
    "stage",
    "detected_by",
    "notification_id",
    "aggregate_id",
    "version",
    "event_type",
    "occurred_at",
    "event_id",
)
FACT_KEY = ("subject_id", "metric", "subkey")

OWNER_COLUMNS = (
    "aggregate_id",
    "kind",
    "ref",
    "customer_id",
    "parent_id",
    "channel",
    "store",
    "agent_group",
    "classification",
    "topic",
    "issue",
    "stage",
    "at",
    "notification_id",
    "version",
    "event_type",
    "event_id",
    "contacts",
    "resolutions",
    "reopens",
    "attributed",
    "converted_by",
)

ATTRIBUTE_COLUMNS = ("owner_id", "attribute", "attribute_value", "stamped_at", "stamped_event")
"""``kpi_attributes``: named apart from the facts' columns, so that a join needs no alias."""
ATTRIBUTE_KEY = ("owner_id", "attribute")

DIMENSIONS = ("hour", "channel", "store", "agent_group")


@dataclass(frozen=True)
class CounterTable:
    """A counter table: the dimensions it keeps (the others are summed over)."""

    table: str
    dimensions: tuple[str, ...]


COUNTER_TABLES = (
    CounterTable("kpi_counters_channel", ("hour", "channel")),
    CounterTable("kpi_counters_store", ("hour", "store")),
    CounterTable("kpi_counters_group", ("hour", "agent_group")),
)


def ddl(t: Callable[[str], str]) -> tuple[str, ...]:
    text = "TEXT NOT NULL"
    counters = [
        f"CREATE TABLE IF NOT EXISTS {t(spec.table)} ("
        + "".join(f" {d} {'BIGINT NOT NULL' if d == 'hour' else text}," for d in spec.dimensions)
        + f" metric {text}, n BIGINT NOT NULL, total BIGINT NOT NULL,"
        f" PRIMARY KEY ({', '.join(spec.dimensions)}, metric))"
        for spec in COUNTER_TABLES
    ]
    return (
        f"CREATE TABLE IF NOT EXISTS {t('kpi_facts')} ("
        f" subject_id {text}, metric {text}, subkey {text}, at BIGINT NOT NULL, channel {text},"
        f" store {text}, agent_group {text}, value BIGINT NOT NULL, ref {text},"
        f" classification {text}, issue {text}, stage {text}, detected_by {text},"
        f" notification_id BIGINT NOT NULL, aggregate_id {text}, version BIGINT NOT NULL,"
        f" event_type {text}, occurred_at TEXT, event_id TEXT,"
        " PRIMARY KEY (subject_id, metric, subkey))",
        f"CREATE TABLE IF NOT EXISTS {t('kpi_owners')} ("
        f" aggregate_id TEXT PRIMARY KEY, kind {text}, ref {text}, customer_id {text},"
        f" parent_id {text}, channel {text}, store {text}, agent_group {text},"
        f" classification {text}, topic {text}, issue {text}, stage {text}, at {text},"
        f" notification_id BIGINT NOT NULL, version BIGINT NOT NULL, event_type {text},"
        f" event_id {text}, contacts INTEGER NOT NULL, resolutions INTEGER NOT NULL,"
        f" reopens INTEGER NOT NULL, attributed INTEGER NOT NULL, converted_by {text})",
        f"CREATE TABLE IF NOT EXISTS {t('kpi_attributes')} ("
        f" owner_id {text}, attribute {text}, attribute_value {text}, stamped_at {text},"
        f" stamped_event {text}, PRIMARY KEY (owner_id, attribute))",
        *counters,
    )


def indexes() -> tuple[Index, ...]:
    return (
        Index("kpi_facts_at", "kpi_facts", "at, metric", query_only=True),
        Index("kpi_owners_customer", "kpi_owners", "customer_id, kind, at"),
        # /metrics reads the breaches in force by rule on every scrape: one index range per
        # rule, the counts read from the index alone (``KpiQueries.breaches_by_rule``).
        # Deferred all the same while the read model catches up (``projections.catch_up``):
        # keeping it costs ≈ 15 µs an event then, a scrape's scan ≈ 12 ms per 60k counters.
        Index(
            "kpi_counters_metric",
            "kpi_counters_channel",
            "metric, n",
            query_only=True,
        ),
        # A period's figures by day, week or month with no place (the console's trends)
        # read the hours from the index alone: at 1M events 105 -> 68 ms on SQLite.
        Index(
            "kpi_counters_by_hour",
            "kpi_counters_channel",
            "hour, metric, n, total",
            query_only=True,
        ),
        # A period's totals by place (the console's overview: all time by store) read from
        # the index alone, in group order: at 1M events 480 -> 90 ms by store on SQLite.
        *(
            Index(
                f"{spec.table}_by_place",
                spec.table,
                f"{spec.dimensions[1]}, metric, hour, n, total",
                query_only=True,
            )
            for spec in COUNTER_TABLES
        ),
    )

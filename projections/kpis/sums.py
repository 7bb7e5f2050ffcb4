"""The counts of a period of instants, grouped by local day, ISO week or month of a zone
and by places (``projections.kpis.zones`` says how a store groups instants by local day).

Grouped by at most one place (channel, store or agent group), a segment whose offset and
ends are whole hours reads that place's hourly counter table; otherwise, and by two places
or more, it sums the facts (slower, the same figures). Filtered or grouped by a source
attribute (``attribute.<name>``), it always sums the facts, each joined to its subject's
attributes (``projections.kpis.attributes``); a fact whose subject has no value of a name
it is grouped by is in that name's ``None`` group.

A period's totals by place over more than ``LONG_S`` (all time, a year: the console's
overview) are read in group order from the table's place index (``{table}_by_place``:
place, metric, hour, n, total), not by its hours then sorted: the unary ``+`` on ``hour``
keeps the planner off the hour index, which it would pick without statistics; on SQLite at
1M events, all time by store 800 -> 100 ms. A shorter period reads its hours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any

from adapters.readstore import ReadStore, Row
from projections.group_counts import ATTRIBUTE
from projections.kpis import metrics as m
from projections.kpis.tables import COUNTER_TABLES
from projections.kpis.zones import DAY_S, GRAINS, SHIFT_S, Grain, day_number, label, segments

Counts = dict[str, tuple[int, int]]
"""metric → (count, sum of values)."""
Groups = dict[tuple[str, ...], Counts]
HOUR_S = 3600
LONG_S = 31 * 24 * HOUR_S
_LABEL_COLUMNS = (*(column for _, column in m.LABELS), "detected_by")
Held = Sequence[tuple[str, str]]
"""Source attributes (name, value) a fact's subject must hold, every one."""


def _column(group: str, n: int) -> str:
    """The SQL expression of a place or source attribute (the ``n``-th group)."""
    return f"a{n}.attribute_value" if group.startswith(ATTRIBUTE) else group


def joins(t: Callable[[str], str], by: Sequence[str], held: Held, params: dict[str, Any]) -> str:
    """The joins of the facts to their subjects' attributes: one per attribute grouped by
    (kept when absent) and one per attribute held (which must match). Every query that
    reads the facts under a filter (the figures, explain, the QA sample) joins them so."""
    table = t("kpi_attributes")
    joins = []
    for n, group in enumerate(by):
        if group.startswith(ATTRIBUTE):
            params[f"an{n}"] = group.removeprefix(ATTRIBUTE)
            joins.append(
                f" LEFT JOIN {table} a{n} ON a{n}.owner_id = subject_id AND a{n}.attribute = :an{n}"
            )
    for n, (name, value) in enumerate(held):
        params.update({f"hn{n}": name, f"hv{n}": value})
        joins.append(
            f" JOIN {table} h{n} ON h{n}.owner_id = subject_id"
            f" AND h{n}.attribute = :hn{n} AND h{n}.attribute_value = :hv{n}"
        )
    return "".join(joins)


def grain_of(by: Sequence[str]) -> Grain | None:
    grains = [g for g in by if g in GRAINS]
    if len(grains) > 1:
        raise ValueError(f"group by one of {list(GRAINS)} at most, not {grains}")
    return grains[0] if grains else None


def count(
    store: ReadStore,
    t: Callable[[str], str],
    low: int,
    high: int,
    by: Sequence[str],
    zone: tzinfo,
    metrics: Sequence[str] = (),
    held: Held = (),
) -> Groups:
    """The counts of the facts dated in ``[low, high)`` (Unix seconds), by the groups
    ``by`` (places, source attributes ``attribute.<name>``, and at most one of day, week,
    month in ``zone``), as tuples in the order of ``by``; ``metrics``: only these (not
    labels); ``held``: only the facts whose subject holds these source attributes."""
    grain = grain_of(by)
    places = [_column(g, n) for n, g in enumerate(by) if g not in GRAINS]
    shown = {g: f"g{n}" for n, g in enumerate(g for g in by if g not in GRAINS)}
    table = next((s.table for s in COUNTER_TABLES if set(places) <= set(s.dimensions)), None)
    if held or any(g.startswith(ATTRIBUTE) for g in by):
        table = None
    groups: Groups = defaultdict(dict)
    for start, end, offset in segments(low, high, zone):
        hourly = table is not None and not (offset % HOUR_S or start % HOUR_S or end % HOUR_S)
        params: dict[str, Any] = {"shift": offset + SHIFT_S}
        only = ""
        if metrics:
            only = f" AND metric IN ({', '.join(f':m{i}' for i in range(len(metrics)))})"
            params.update({f"m{i}": metric for i, metric in enumerate(metrics)})
        if hourly and table is not None:
            params.update(low=start // HOUR_S, high=end // HOUR_S)
            by_place = bool(places) and grain is None and end - start > LONG_S
            column = "+hour" if by_place else "hour"
            rows = _select(store, t(table), "hour * 3600", column, grain, places, only, params)
        else:
            params.update(low=start, high=end)
            facts = t("kpi_facts") + joins(t, by, held, params)
            rows = _select(store, facts, "at", "at", grain, places, only, params, True)
        for row in rows:
            key = tuple(
                label(day_number(int(row["dayno"]) - 1), grain)
                if grain and g in GRAINS
                else row[shown[g]] or ""  # a subject without the attribute: ''
                for g in by
            )
            n, total = int(row["n"]), int(row["total"])
            cell = groups[key]
            for metric in (row["metric"], *(m.labels_of(row) if "detected_by" in row else ())):
                had = cell.get(metric, (0, 0))
                cell[metric] = (had[0] + n, had[1] + total)
    return groups


def _select(
    store: ReadStore,
    table: str,
    seconds: str,
    column: str,
    grain: Grain | None,
    places: Sequence[str],
    only: str,
    params: dict[str, Any],
    facts: bool = False,
) -> list[Row]:
    day = f"({seconds} + CAST(:shift AS BIGINT)) / {DAY_S}"
    keys = [*([f"{day}"] if grain else []), *places, "metric"]
    shown = [*([f"{day} AS dayno"] if grain else []), *_aliased(places), "metric"]
    if facts:
        keys += _LABEL_COLUMNS
        shown += _LABEL_COLUMNS
        sums = "COUNT(*) AS n, SUM(value) AS total"
    else:
        sums = "SUM(n) AS n, SUM(total) AS total"
    return store.query(
        f"SELECT {', '.join(shown)}, {sums} FROM {table}"
        f" WHERE {column} >= :low AND {column} < :high{only} GROUP BY {', '.join(keys)}",
        params,
    )


def _aliased(places: Sequence[str]) -> list[str]:
    """The places' expressions named ``g0``, ``g1``... in the order of the groups that are
    not a grain (``count`` reads them by those names)."""
    return [f"{place} AS g{n}" for n, place in enumerate(places)]

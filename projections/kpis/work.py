"""The rows one batch of the KPI counters touches: loaded once, changed in memory, written
once with ``executemany`` (the tables: ``projections.kpis.tables``).

- **facts** (``kpi_facts``): one row per thing counted — its metric, whose it is (the
  subject aggregate and a key, unique together), the instant it is dated by (``at``, a Unix
  second) and its dimensions, a value (1, or a score, or microseconds), and the event it
  is made of (notification id, aggregate, version, type, event time, source
  ``event_id``). Putting a fact with the key of another replaces it; a fact can be taken
  back.
- **owners** (``kpi_owners``): what the counters need to know of each aggregate, from its
  creation event (customer, channel, store, agent group, case topic...) and a little state
  (a case's contacts, resolutions, reopenings; whether a contact was counted yet).
- **counter deltas**: every change of a fact moves the counters of its UTC hour, place
  (channel, store, agent group) and metric by ±1 and ±value; the batch adds the deltas to the
  counter tables — by (hour, channel), (hour, store), (hour, agent group) — at the end and
  deletes counters that fell to zero, so the tables are the same whatever the batches were.
  (A table by all three places would hold about as many rows as the facts: a grouping by
  two places or more is summed from the facts instead.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import itemgetter
from uuid import UUID

from adapters.readstore import Cursor, Row
from projections.base import select_in
from projections.kpis.metrics import labels_of
from projections.kpis.tables import (
    COUNTER_TABLES,
    DIMENSIONS,
    FACT_COLUMNS,
    FACT_KEY,
    OWNER_COLUMNS,
    CounterTable,
)

FactKey = tuple[str, str, str]
"""(subject aggregate id, metric, subkey)."""
CounterKey = tuple[int, str, str, str, str]
"""(UTC hour, channel, store, agent group, metric)."""


class Work:
    """One batch's view of the facts, owners and counters (see the module docstring)."""

    def __init__(self, cursor: Cursor, t: Callable[[str], str]) -> None:
        self.cursor = cursor
        self.t = t
        self.facts: dict[FactKey, Row | None] = {}
        self.stored_facts: dict[FactKey, Row | None] = {}
        self.complete: set[str] = set()
        """Subjects whose stored facts are all loaded: a key not found is absent."""
        self.owners: dict[str, Row | None] = {}
        self.dirty: set[str] = set()
        self.by_customer: dict[tuple[str, str], set[str]] = defaultdict(set)
        """(customer, kind) → the aggregates in ``owners``."""
        self.deltas: dict[CounterKey, list[int]] = {}
        self._ids: dict[UUID, str] = {}

    def sid(self, aggregate_id: UUID) -> str:
        """The id as text (memoised: ``str(UUID)`` is slow and asked for often)."""
        text = self._ids.get(aggregate_id)
        if text is None:
            text = self._ids[aggregate_id] = str(aggregate_id)
        return text

    # -- loading ------------------------------------------------------------------------------

    def load_owners(self, ids: Iterable[str]) -> None:
        wanted = sorted({i for i in ids if i not in self.owners})
        for row in select_in(self.cursor, self.t("kpi_owners"), "aggregate_id", wanted):
            self._known(row)
        for missing in wanted:
            self.owners.setdefault(missing, None)

    def load_facts(self, subjects: Iterable[str]) -> None:
        wanted = sorted({s for s in subjects if s not in self.complete})
        for row in select_in(self.cursor, self.t("kpi_facts"), "subject_id", wanted):
            key = (row["subject_id"], row["metric"], row["subkey"])
            if key not in self.facts:
                self.facts[key] = self.stored_facts[key] = row
        self.complete.update(wanted)

    def _known(self, row: Row) -> None:
        self.owners[row["aggregate_id"]] = row
        self.by_customer[(row["customer_id"], row["kind"])].add(row["aggregate_id"])

    # -- owners -------------------------------------------------------------------------------

    def owner(self, aggregate_id: str) -> Row | None:
        if aggregate_id not in self.owners:
            self.load_owners([aggregate_id])
        return self.owners[aggregate_id]

    def add_owner(self, row: Row) -> None:
        self._known(row)
        self.dirty.add(row["aggregate_id"])

    def changed(self, row: Row) -> None:
        self.dirty.add(row["aggregate_id"])

    def customer_owners(self, customer_id: str, kind: str, low: str, high: str) -> list[Row]:
        """The customer's aggregates of ``kind`` created between ``low`` and ``high``
        (event time, inclusive): the stored ones as this batch has them, and its new ones."""
        self.cursor.execute(
            f"SELECT * FROM {self.t('kpi_owners')} WHERE customer_id = :customer"
            " AND kind = :kind AND at >= :low AND at <= :high",
            {"customer": customer_id, "kind": kind, "low": low, "high": high},
        )
        for row in self.cursor.fetchall():
            if row["aggregate_id"] not in self.owners:
                self._known(row)
        found = [
            row
            for i in self.by_customer[(customer_id, kind)]
            if (row := self.owners[i]) is not None and low <= row["at"] <= high
        ]
        return sorted(found, key=lambda row: str(row["aggregate_id"]))

    # -- facts --------------------------------------------------------------------------------

    def fact(self, key: FactKey) -> Row | None:
        if key not in self.facts:
            if key[0] in self.complete:
                self.facts[key] = self.stored_facts[key] = None
            else:
                self.cursor.execute(
                    f"SELECT * FROM {self.t('kpi_facts')} WHERE subject_id = :s"
                    " AND metric = :m AND subkey = :k",
                    {"s": key[0], "m": key[1], "k": key[2]},
                )
                rows = self.cursor.fetchall()
                self.facts[key] = self.stored_facts[key] = rows[0] if rows else None
        return self.facts[key]

    def put(self, row: Row, keep: bool = False) -> None:
        """Count ``row``, replacing the fact with its key (``keep``: unless there is one)."""
        key = (row["subject_id"], row["metric"], row["subkey"])
        old = self.fact(key)
        if old is not None:
            if keep:
                return
            self._move(old, -1)
        self._move(row, 1)
        self.facts[key] = row

    def remove(self, subject_id: str, metric: str, subkey: str = "") -> None:
        """Take a fact back (un-count it), if it is there."""
        fact_key = (subject_id, metric, subkey)
        old = self.fact(fact_key)
        if old is not None:
            self._move(old, -1)
            self.facts[fact_key] = None

    def _move(self, row: Row, sign: int) -> None:
        """Move the counters of the fact's metric, and of its labels (``labels_of``)."""
        place = (row["at"] // 3600, row["channel"], row["store"], row["agent_group"])
        value = sign * row["value"]
        for metric in (row["metric"], *labels_of(row)):
            key = (*place, metric)
            delta = self.deltas.get(key)
            if delta is None:
                delta = self.deltas[key] = [0, 0]
            delta[0] += sign
            delta[1] += value

    # -- writing ------------------------------------------------------------------------------

    def store(self) -> None:
        self._store_facts()
        self._store_owners()
        for table in COUNTER_TABLES:
            self._store_counters(table)

    def _store_facts(self) -> None:
        gone, kept = [], []
        for key in self.facts:
            now, before = self.facts[key], self.stored_facts.get(key)
            if now is None:
                if before is not None:
                    gone.append(dict(zip(FACT_KEY, key, strict=True)))
            elif now != before:
                kept.append({column: now[column] for column in FACT_COLUMNS})
        table = self.t("kpi_facts")
        if gone:
            self.cursor.executemany(
                f"DELETE FROM {table} WHERE subject_id = :subject_id AND metric = :metric"
                " AND subkey = :subkey",
                gone,
            )
        if kept:
            others = [c for c in FACT_COLUMNS if c not in FACT_KEY]
            self.cursor.executemany(
                f"INSERT INTO {table} ({', '.join(FACT_COLUMNS)})"
                f" VALUES ({', '.join(':' + c for c in FACT_COLUMNS)})"
                f" ON CONFLICT ({', '.join(FACT_KEY)}) DO UPDATE SET"
                f" {', '.join(f'{c} = excluded.{c}' for c in others)}",
                kept,
            )

    def _store_owners(self) -> None:
        if not self.dirty:
            return
        others = [c for c in OWNER_COLUMNS if c != "aggregate_id"]
        self.cursor.executemany(
            f"INSERT INTO {self.t('kpi_owners')} ({', '.join(OWNER_COLUMNS)})"
            f" VALUES ({', '.join(':' + c for c in OWNER_COLUMNS)})"
            f" ON CONFLICT (aggregate_id) DO UPDATE SET"
            f" {', '.join(f'{c} = excluded.{c}' for c in others)}",
            [row for i in self.dirty if (row := self.owners[i]) is not None],
        )

    def _store_counters(self, spec: CounterTable) -> None:
        project = itemgetter(*(DIMENSIONS.index(d) for d in spec.dimensions), 4)
        summed: dict[tuple[int | str, ...], list[int]] = {}
        for key, (n, total) in self.deltas.items():
            if not n and not total:
                continue
            projected = project(key)
            delta = summed.get(projected)
            if delta is None:
                delta = summed[projected] = [0, 0]
            delta[0] += n
            delta[1] += total
        names = (*spec.dimensions, "metric")
        columns = (*names, "n", "total")
        moved: list[Row] = [
            dict(zip(columns, (*key, n, total), strict=True))
            for key, (n, total) in summed.items()
            if n or total
        ]
        if not moved:
            return
        table = self.t(spec.table)
        self.cursor.executemany(
            f"INSERT INTO {table} AS c ({', '.join(columns)})"
            f" VALUES ({', '.join(':' + c for c in columns)})"
            f" ON CONFLICT ({', '.join(names)}) DO UPDATE SET"
            " n = c.n + excluded.n, total = c.total + excluded.total",
            moved,
        )
        fallen = [row for row in moved if row["n"] < 0]
        if fallen:
            self.cursor.executemany(
                f"DELETE FROM {table} WHERE {' AND '.join(f'{c} = :{c}' for c in names)} AND n = 0",
                [{c: row[c] for c in names} for row in fallen],
            )

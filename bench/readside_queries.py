"""The read-side benchmark's queries: what is asked, with which (seeded, random) arguments,
and how the latencies are summarised.

Every workload is a list of calls prepared before the clock starts (arguments drawn from
the store's own rows with ``Random(seed)``), so the timed part is the query alone. Each call
is timed on its own with ``perf_counter_ns``; a workload's first ``WARMUP`` calls (of the
same kind, other arguments) run untimed first.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from random import Random
from typing import Any

from journey.bootstrap import Runtime
from projections.base import Projection
from projections.ledger import ComplaintLedger, LedgerFilter, SortKey

WARMUP = 10
PAGE = 51
"""What ``GET /complaints`` asks the ledger for by default: 50 rows and one to tell that
there are more."""
Call = Callable[[], object]


@dataclass(frozen=True)
class Latency:
    """Milliseconds of each call of one workload: wall time (``samples``) and this
    process's CPU time, user and system (``cpu``). On a shared host the wall time includes
    waiting for a core; the CPU time does not."""

    label: str
    samples: tuple[float, ...]
    cpu: tuple[float, ...]
    rows: float
    """Rows (or entries) returned per call, on average."""
    goal_ms: float | None = None
    note: str = ""

    def quantile(self, q: float, cpu: bool = False) -> float:
        """Nearest rank: the smallest sample with at least ``q`` of the samples at or
        below it."""
        ordered = sorted(self.cpu if cpu else self.samples)
        rank = max(1, -(-len(ordered) * q // 1))
        return ordered[int(rank) - 1]

    @property
    def p50(self) -> float:
        return self.quantile(0.50)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)

    @property
    def worst(self) -> float:
        return max(self.samples)

    @property
    def verdict(self) -> str:
        if self.goal_ms is None:
            return ""
        met = "met" if self.p99 < self.goal_ms else "MISSED"
        return f"p99 < {self.goal_ms:g} ms: {met}"


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    calls: list[Call]
    goal_ms: float | None = None
    note: str = ""

    def run(self) -> Latency:
        for call in self.calls[:WARMUP]:
            call()
        samples, cpu, rows = [], [], 0
        for call in self.calls:
            started, used = time.perf_counter_ns(), time.process_time_ns()
            answer = call()
            cpu.append((time.process_time_ns() - used) / 1e6)
            samples.append((time.perf_counter_ns() - started) / 1e6)
            rows += _size(answer)
        mean = rows / len(self.calls) if self.calls else 0.0
        return Latency(self.label, tuple(samples), tuple(cpu), mean, self.goal_ms, self.note)


def _size(answer: object) -> int:
    """Rows of a page, entries of a history, aggregates and timeline entries of a view."""
    if answer is None:
        return 0
    if isinstance(answer, list):
        return len(answer)
    if isinstance(answer, dict):
        return sum(len(v) for v in answer.values() if isinstance(v, list)) + sum(
            len(x)
            for v in answer.values()
            if isinstance(v, dict)
            for x in v.values()
            if isinstance(x, list)
        )
    return 1


# -- finding the read models -------------------------------------------------------------


@dataclass
class ReadModels:
    """The read models to measure, by name, and how each was found."""

    found: dict[str, Projection] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    auditor: Any = None


def _projection_class(name: str) -> tuple[type[Projection] | None, list[str]]:
    """A concrete ``Projection`` subclass called ``name`` in a module of ``projections``."""
    import projections

    problems = []
    for module_info in pkgutil.iter_modules(projections.__path__):
        module_name = f"projections.{module_info.name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as error:  # a module being written by someone else right now
            problems.append(f"{module_name} does not import: {type(error).__name__}: {error}")
            continue
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, Projection)
                and not inspect.isabstract(value)
                and getattr(value, "name", None) == name
            ):
                return value, problems
    return None, problems


def read_models(runtime: Runtime, wanted: Sequence[str]) -> ReadModels:
    """Every projection of the runtime, and each ``wanted`` one by name: from
    ``runtime.projections`` when the composition root wires it, else built here from the
    ``Projection`` subclass of that name under ``projections/`` (with a note), else none
    (with a note: its figures are skipped)."""
    models = ReadModels({p.name: p for p in runtime.projections})
    for name in wanted:
        if name in models.found:
            continue
        cls, problems = _projection_class(name)
        if cls is None:
            models.notes.append(
                f"{name}: not in runtime.projections and no Projection of that name under"
                " projections/ — its figures are skipped"
            )
            models.notes.extend(f"  ({p})" for p in problems)
            continue
        projection = cls(runtime.read_store)
        projection.create_tables()
        models.found[name] = projection
        models.notes.append(
            f"{name}: not in runtime.projections (journey/bootstrap.py does not wire it yet);"
            f" measured from {cls.__module__}.{cls.__name__} built over the runtime's read store"
        )
    models.auditor = getattr(runtime, "auditor", None)
    if models.auditor is None:
        try:
            from application.audit import Auditor
            from projections.audit_chain import AuditChain

            chain = AuditChain(runtime.read_store, runtime.app.recorder, runtime.app.mapper)
            models.auditor = Auditor(runtime.app, chain)
            models.notes.append(
                "history: Runtime has no auditor yet; measured with application.audit.Auditor"
                " built over the runtime's application"
            )
        except Exception as error:
            models.notes.append(
                f"history: no application.audit.Auditor ({type(error).__name__}: {error})"
                " — its figures are skipped"
            )
    return models


# -- the workloads ---------------------------------------------------------------------------


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _day_start(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class LedgerSpace:
    """What the ledger's filters can take, read from its rows."""

    first: datetime
    last: datetime
    channels: list[str]
    statuses: list[str]
    rows: list[tuple[str, str]]
    """``(opened_at, case_id)`` of every row, for cursors."""

    @classmethod
    def read(cls, ledger: ComplaintLedger) -> LedgerSpace:
        table = ledger.t("complaint_ledger")
        rows = ledger.store.query(f"SELECT opened_at, case_id FROM {table} ORDER BY opened_at")
        channels = ledger.store.query(f"SELECT DISTINCT channel FROM {table} ORDER BY channel")
        statuses = ledger.store.query(f"SELECT DISTINCT status FROM {table} ORDER BY status")
        return cls(
            first=_utc(rows[0]["opened_at"]),
            last=_utc(rows[-1]["opened_at"]),
            channels=[r["channel"] for r in channels],
            statuses=[r["status"] for r in statuses],
            rows=[(r["opened_at"], r["case_id"]) for r in rows],
        )

    def day(self, rng: Random) -> datetime:
        """The start (UTC) of the day a random case opened: days weighted by volume, as an
        analyst asks about days that had cases."""
        return _day_start(_utc(rng.choice(self.rows)[0]))

    def date_range(self, rng: Random) -> dict[str, Any]:
        start = self.day(rng)
        return {"opened_from": start, "opened_to": start + timedelta(days=rng.choice((1, 7)))}

    def one(self, rng: Random, kind: str) -> dict[str, Any]:
        if kind == "date":
            return self.date_range(rng)
        if kind == "channel":
            return {"channel": rng.choice(self.channels)}
        if kind == "status":
            return {"status": rng.choice(self.statuses)}
        return {"breached": rng.random() < 0.5}

    def filters(self, rng: Random, low: int, high: int) -> LedgerFilter:
        kinds = rng.sample(("date", "channel", "status", "breached"), rng.randint(low, high))
        values: dict[str, Any] = {}
        for kind in kinds:
            values |= self.one(rng, kind)
        return LedgerFilter(**values)


def ledger_workloads(
    ledger: ComplaintLedger, space: LedgerSpace, rng: Random, reps: int
) -> list[Workload]:
    def page(
        where: LedgerFilter,
        sort: SortKey = "opened_at",
        descending: bool = True,
        after: tuple[Any, str] | None = None,
    ) -> Call:
        return lambda: ledger.page(PAGE, after, where, sort, descending)

    first_plain = [page(LedgerFilter(), descending=rng.random() < 0.5) for _ in range(reps)]
    one_filter = [
        page(LedgerFilter(**space.one(rng, rng.choice(("date", "channel", "status", "breached")))))
        for _ in range(reps)
    ]
    combined = [page(space.filters(rng, 2, 4)) for _ in range(reps)]
    deep = []
    for _ in range(reps):
        at, case_id = rng.choice(space.rows)
        descending = rng.random() < 0.5
        deep.append(page(space.filters(rng, 0, 3), "opened_at", descending, (at, case_id)))
    other_sorts = []
    for _ in range(reps):
        sort: SortKey = rng.choice(("priority", "breaches", "reopen_count"))
        other_sorts.append(page(space.filters(rng, 0, 2), sort, rng.random() < 0.5))
    rows = f"{len(space.rows):,} rows"
    return [
        Workload("ledger-first", "ledger page 1, no filter", first_plain, 50, rows),
        Workload(
            "ledger-one",
            "ledger page 1, one filter",
            one_filter,
            50,
            "date|channel|status|breached",
        ),
        Workload("ledger-combined", "ledger page 1, 2-4 filters", combined, 50, "combined"),
        Workload(
            "ledger-deep",
            "ledger deep page (cursor), 0-3 filters",
            deep,
            50,
            "cursor at a random row",
        ),
        Workload(
            "ledger-sorted",
            "ledger page 1, sort priority|breaches|reopens",
            other_sorts,
            50,
            "0-2 filters",
        ),
    ]


def customer_workloads(c360: Any, rng: Random, reps: int) -> list[Workload]:
    items = c360.t("c360_items")
    customers = c360.t("c360_customers")
    ids = [
        r["customer_id"]
        for r in c360.store.query(f"SELECT customer_id FROM {customers} ORDER BY customer_id")
    ]
    heavy = c360.store.query(
        f"SELECT customer_id, COUNT(*) AS n FROM {items} GROUP BY customer_id"
        " ORDER BY n DESC, customer_id LIMIT 20"
    )
    random_calls: list[Call] = [partial(c360.view, rng.choice(ids)) for _ in range(reps)]
    heavy_ids = [r["customer_id"] for r in heavy]
    heavy_calls: list[Call] = [
        partial(c360.view, c) for c in (heavy_ids[n % len(heavy_ids)] for n in range(reps // 2))
    ]
    most = heavy[0]["n"] if heavy else 0
    return [
        Workload(
            "c360-random",
            "customer 360 view, random customer",
            random_calls,
            50,
            f"{len(ids):,} customers",
        ),
        Workload(
            "c360-heavy",
            "customer 360 view, the 20 largest customers",
            heavy_calls,
            50,
            f"up to {most} aggregates each",
        ),
    ]


KPI_GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("day",),
    ("channel",),
    ("store",),
    ("agent_group",),
    ("day", "channel"),
    ("day", "store"),
    ("day", "agent_group"),
)


def kpi_workloads(kpi: Any, space: LedgerSpace, rng: Random, reps: int) -> list[Workload]:
    """``kpis(start, end, group_by)`` (days inclusive) over the day a random case opened,
    the week from it, or every day from the first case to the last, grouped in one of
    ``KPI_GROUPINGS``."""
    calls: list[Call] = []
    for _ in range(reps):
        kind = rng.choice(("day", "week", "all"))
        start = space.first.date() if kind == "all" else space.day(rng).date()
        end = {
            "day": start,
            "week": start + timedelta(days=6),
            "all": space.last.date(),
        }[kind]
        calls.append(partial(kpi.kpis, start, end, rng.choice(KPI_GROUPINGS)))
    return [
        Workload(
            "kpi",
            "KPI query, 1 day|7 days|all, grouped",
            calls,
            None,
            "by none|day|place|day+place",
        )
    ]


def history_workloads(
    auditor: Any, long_case: str, long_events: int, ledger: ComplaintLedger, rng: Random, reps: int
) -> list[Workload]:
    refs = [
        r["case_ref"]
        for r in ledger.store.query(
            f"SELECT case_ref FROM {ledger.t('complaint_ledger')} ORDER BY case_ref"
        )
    ]
    long_calls: list[Call] = [partial(auditor.history, long_case) for _ in range(reps)]
    random_calls: list[Call] = [partial(auditor.history, rng.choice(refs)) for _ in range(reps)]
    return [
        Workload(
            "history-long", f"case history, the {long_events}-event case", long_calls, 20, long_case
        ),
        Workload("history-random", "case history, random case", random_calls, None, "no goal"),
    ]

"""``python -m bench.readside``: the read side at 100k and 1M stored events.

For each size, on an embedded SQLite store (the data folder is cached under
``.run/bench/readside``, see ``bench/readside_store.py``):

1. **rebuild** every read model from the start of the notification log
   (``projections.rebuild.rebuild``, batches of 5,000) — beside two baselines measured in
   the same run on the same store: a **raw batched insert** of as many rows as there are
   events, each as wide as an average stored event, into a scratch table of the same read
   store (``executemany``, 5,000 rows per transaction), and **reading and decoding** the
   notification log alone (what every rebuild pays before any projection code runs);
2. **queries**, each timed call by call over many seeded random arguments: ledger pages
   (first pages with and without filters on date range, channel, status, breached; deep
   cursor pages; other sort orders), the customer 360 view, KPI queries, and the auditor's
   history of a case of over 200 events.

The rebuilds leave every read model up to date, so the queries read what a rebuild from
this very code wrote. Read models the composition root does not wire yet are found by name
under ``projections/`` (``customer_360``, ``kpi_counters``); one that does not exist yet is
skipped with a note. A query that misses its goal at the largest size is profiled
(cProfile) and the summary printed; rebuilds are profiled on request
(``--profile-rebuild missed``, at the smallest size).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from random import Random
from typing import Any

from adapters.readstore import ReadStore
from bench import machine
from bench.cpu import Snapshot, Usage
from bench.readside_queries import (
    Latency,
    LedgerSpace,
    ReadModels,
    Workload,
    customer_workloads,
    history_workloads,
    kpi_workloads,
    ledger_workloads,
    read_models,
)
from bench.readside_store import Manifest, fill, settings_for, stored_event_width, stored_mix
from bench.report import profile_summary
from journey.bootstrap import Runtime, build
from projections.base import Projection
from projections.ledger import ComplaintLedger
from projections.rebuild import rebuild, without_cycle_collection
from projections.runner import NotificationReader

SIZES = (100_000, 1_000_000)
WANTED = ("customer_360", "kpi_counters")
BATCH = 5000
REBUILD_GOAL = 20_000.0
"""events/s of a rebuild on SQLite (issue 5)."""


def say(line: str = "") -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class Rate:
    """``events`` handled in ``seconds``; ``cpu`` is the share of one core this process
    used meanwhile, ``rest`` the cores the rest of the host used, ``io_stall`` the share of
    the time some task of the host waited for I/O (Linux pressure stall information)."""

    label: str
    events: int
    seconds: float
    cpu: float
    rest: float
    io_stall: float
    goal: float | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def per_cpu_s(self) -> float:
        """Events per CPU-second of this process: the rate with a core to itself."""
        used = self.cpu * self.seconds
        return self.events / used if used else 0.0

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        met = "met" if self.rate >= self.goal else "MISSED"
        return f"≥ {self.goal:,.0f}/s: {met}"


def io_stalled_us() -> int:
    """Microseconds in which some task of the host waited for I/O, since boot (0 where
    ``/proc/pressure`` is not available)."""
    try:
        first = Path("/proc/pressure/io").read_text().splitlines()[0]
    except OSError:
        return 0
    return int(first.rsplit("total=", 1)[1])


def timed(label: str, events: Callable[[], int], goal: float | None = None) -> Rate:
    before, stalled, started = Snapshot.take(), io_stalled_us(), time.perf_counter()
    count = events()
    seconds = time.perf_counter() - started
    usage = Usage.between(before, Snapshot.take(), {os.getpid()})
    io_stall = (io_stalled_us() - stalled) / 1e6 / seconds
    return Rate(
        label, count, seconds, usage.ingest / seconds, usage.other / seconds, io_stall, goal
    )


# -- the baselines and the rebuilds ---------------------------------------------------------


def raw_insert(store: ReadStore, rows: int, width: int) -> int:
    """``rows`` rows of ``width`` bytes of text, 5,000 per transaction, into a scratch table
    of the read store: the cheapest way to write one row per event."""
    filler = "x" * width
    with store.transaction() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_insert")
        cursor.execute(
            "CREATE TABLE bench_raw_insert (id BIGINT PRIMARY KEY, aggregate_id TEXT NOT NULL,"
            " topic TEXT NOT NULL, state TEXT NOT NULL)"
        )
    try:
        for start in range(0, rows, BATCH):
            batch = [
                {
                    "id": n,
                    "aggregate": f"{n:032x}",
                    "topic": "domain.case:Case.ProgressUpdateSent",
                    "state": filler,
                }
                for n in range(start + 1, min(start + BATCH, rows) + 1)
            ]
            with store.transaction() as cursor:
                cursor.executemany(
                    "INSERT INTO bench_raw_insert (id, aggregate_id, topic, state)"
                    " VALUES (:id, :aggregate, :topic, :state)",
                    batch,
                )
    finally:
        with store.transaction() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_raw_insert")
    return rows


def read_all(reader: NotificationReader) -> int:
    """The whole log read and decoded as a rebuild reads it (batches of ``BATCH``, strict,
    Python's cycle collector off as in ``projections.rebuild``)."""
    position, count = 0, 0
    with without_cycle_collection():
        while batch := reader.read(position, BATCH, strict=True):
            count += len(batch)
            position = batch[-1][0]
    return count


def rebuild_rate(projection: Projection, reader: NotificationReader) -> Rate:
    label = f"rebuild {projection.name}"
    applied = 0

    def run() -> int:
        nonlocal applied
        applied = rebuild(projection, reader, BATCH).applied
        return applied

    return timed(label, run, REBUILD_GOAL)


def audit_chain_catch_up(chain: Any) -> int:
    """The audit chain from position 0 on fresh tables (it is never rebuilt: this is what a
    new deployment or a lagging follower pays per event)."""
    with chain.store.transaction() as cursor:
        for table in chain.tables:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            "DELETE FROM projection_positions WHERE name = :name", {"name": chain.position_name}
        )
    chain.create_tables()
    applied = 0
    while done := chain.run_once():
        applied += done
    return applied


# -- one size ---------------------------------------------------------------------------------


@dataclass
class SizeResult:
    manifest: Manifest
    cached: bool
    mix: str
    rates: list[Rate] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    workloads: dict[str, Workload] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    missed_rebuilds: list[str] = field(default_factory=list)


def workloads_for(
    models: ReadModels, manifest: Manifest, seed: int, reps: int
) -> tuple[list[Workload], list[str]]:
    found = models.found
    rng = Random(seed)  # noqa: S311 - reproducible arguments, not secrets
    ledger = found.get("complaint_ledger")
    assert isinstance(ledger, ComplaintLedger)
    space = LedgerSpace.read(ledger)
    work = ledger_workloads(ledger, space, rng, reps)
    notes: list[str] = []
    if "customer_360" in found:
        work += customer_workloads(found["customer_360"], rng, reps)
    else:
        notes.append("customer 360: skipped (no read model named customer_360)")
    if "kpi_counters" in found:
        work += kpi_workloads(found["kpi_counters"], space, rng, reps // 2)
    else:
        notes.append("KPI queries: skipped (no read model named kpi_counters)")
    if models.auditor is not None:
        work += history_workloads(
            models.auditor,
            manifest.long_case_ref,
            manifest.long_case_events,
            ledger,
            rng,
            reps // 2,
        )
    else:
        notes.append("case history: skipped (no application.audit.Auditor)")
    return work, notes


def measure(
    size: int, seed: int, reps: int, commit: str, audit_chain: bool, reuse_store: bool = False
) -> tuple[SizeResult, Runtime, ReadModels]:
    say(f"\n== {size:,} stored events ==")
    folder, manifest, cached = fill(size, seed, commit, say, reuse_store)
    say(
        f"  store {folder}:"
        f" {manifest.stored_events:,} stored events from {manifest.source_events:,} source events,"
        f" {manifest.customers:,} customers; filled in {manifest.fill_s:,.0f} s"
        f" ({manifest.fill_rate:,.0f} source events/s)"
        + (" — reused from the cache" if cached else "")
    )
    by_aggregate, by_kind = stored_mix(folder)
    mix = (
        ", ".join(f"{name} {n:,}" for name, n in by_aggregate.most_common())
        + "; "
        + ", ".join(f"{name} {n:,}" for name, n in by_kind.most_common())
    )
    say(f"  stored events: {mix}")
    runtime = build(settings_for(folder))
    models = read_models(runtime, WANTED)
    result = SizeResult(manifest, cached, mix, notes=list(models.notes))
    for note in models.notes:
        say(f"  note: {note}")
    reader = runtime.projection_runner.reader
    width = stored_event_width(folder)
    events = manifest.stored_events
    result.rates.append(
        timed(
            f"raw batched insert, {width} B rows",
            lambda: raw_insert(runtime.read_store, events, width),
        )
    )
    say(f"  {result.rates[-1].label}: {result.rates[-1].rate:,.0f} rows/s")
    result.rates.append(timed("read + decode the notification log", lambda: read_all(reader)))
    say(f"  {result.rates[-1].label}: {result.rates[-1].rate:,.0f} events/s")
    for name, projection in sorted(models.found.items()):
        rate = rebuild_rate(projection, reader)
        result.rates.append(rate)
        if rate.goal is not None and rate.rate < rate.goal:
            result.missed_rebuilds.append(name)
        say(f"  {rate.label}: {rate.rate:,.0f} events/s ({rate.seconds:.1f} s)")
    chain = getattr(runtime, "audit_chain", None)
    if chain is not None and audit_chain:
        rate = timed("catch-up audit_chain (from 0)", partial(audit_chain_catch_up, chain))
        result.rates.append(rate)
        say(f"  {rate.label}: {rate.rate:,.0f} events/s ({rate.seconds:.1f} s)")
    work, notes = workloads_for(models, manifest, seed, reps)
    result.notes += notes
    for note in notes:
        say(f"  note: {note}")
    for workload in work:
        latency = workload.run()
        result.latencies.append(latency)
        result.workloads[workload.key] = workload
        say(
            f"  {latency.label}: p50 {latency.p50:.2f} ms, p99 {latency.p99:.2f} ms"
            f" (CPU p99 {latency.quantile(0.99, cpu=True):.2f} ms; {len(latency.samples)} calls)"
        )
    return result, runtime, models


# -- the report ---------------------------------------------------------------------------------


def rate_table(result: SizeResult) -> list[str]:
    raw = result.rates[0]
    width = max(len(r.label) for r in result.rates)
    lines = [
        f"{'':<{width}}  {'events/s':>9}  {'events':>9}  {'seconds':>7}  {'cpu':>4}  {'rest':>5}"
        f"  {'io':>4}  {'/cpu-s':>8}  {'/ raw':>6}  goal",
        f"{'-' * width}  {'-' * 9}  {'-' * 9}  {'-' * 7}  {'-' * 4}  {'-' * 5}  {'-' * 4}"
        f"  {'-' * 8}  {'-' * 6}  ----",
    ]
    for r in result.rates:
        ratio = "" if r is raw else f"{r.rate / raw.rate:.3f}x"
        lines.append(
            f"{r.label:<{width}}  {r.rate:>9,.0f}  {r.events:>9,}  {r.seconds:>7.1f}"
            f"  {100 * r.cpu:>3.0f}%  {r.rest:>5.2f}  {100 * r.io_stall:>3.0f}%"
            f"  {r.per_cpu_s:>8,.0f}  {ratio:>6}  {r.verdict}"
        )
    return lines


def latency_table(result: SizeResult) -> list[str]:
    if not result.latencies:
        return []
    width = max(len(x.label) for x in result.latencies)
    lines = [
        f"{'':<{width}}  {'':>5}  {'':>6}  {'wall ms':^31}  {'CPU ms':^15}",
        f"{'query':<{width}}  {'calls':>5}  {'rows':>6}  {'p50':>7} {'p90':>7} {'p99':>7}"
        f" {'max':>7}  {'p50':>7} {'p99':>7}  goal (on wall p99)",
        f"{'-' * width}  {'-' * 5}  {'-' * 6}  {'-' * 31}  {'-' * 15}  ----",
    ]
    for x in result.latencies:
        lines.append(
            f"{x.label:<{width}}  {len(x.samples):>5}  {x.rows:>6.1f}  {x.p50:>7.2f}"
            f" {x.quantile(0.9):>7.2f} {x.p99:>7.2f} {x.worst:>7.2f}"
            f"  {x.quantile(0.5, cpu=True):>7.2f} {x.quantile(0.99, cpu=True):>7.2f}"
            f"  {x.verdict or x.note}"
        )
    return lines


def growth_table(results: Sequence[SizeResult]) -> list[str]:
    """How each figure moves from the smallest size to the largest."""
    small, large = results[0], results[-1]
    factor = large.manifest.stored_events / small.manifest.stored_events
    head = (
        f"{small.manifest.stored_events:,} → {large.manifest.stored_events:,} events"
        f" ({factor:.1f}x)"
    )
    rates = {r.label: r for r in small.rates}
    lines = [f"growth, {head}:", ""]
    width = max([len(r.label) for r in large.rates] + [len(x.label) for x in large.latencies])
    lines.append(f"{'':<{width}}  {'small':>9}  {'large':>9}  {'large/small':>11}")
    for r in large.rates:
        before = rates.get(r.label)
        if before is not None:
            lines.append(
                f"{r.label:<{width}}  {before.rate:>9,.0f}  {r.rate:>9,.0f}"
                f"  {r.rate / before.rate:>10.2f}x  events/s (flat = linear time)"
            )
    latencies = {x.label: x for x in small.latencies}
    for x in large.latencies:
        before_l = latencies.get(x.label)
        if before_l is not None:
            lines.append(
                f"{x.label:<{width}}  {before_l.p99:>9.2f}  {x.p99:>9.2f}"
                f"  {x.p99 / before_l.p99:>10.2f}x  p99 ms"
            )
    return lines


def _call_all(calls: Sequence[Callable[[], object]]) -> None:
    for call in calls:
        call()


def profile(what: Callable[[], object], path: Path, title: str, top: int = 12) -> list[str]:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        what()
    finally:
        profiler.disable()
    profiler.dump_stats(path)
    return [f"profile of {title} ({path}):", *profile_summary(pstats.Stats(str(path)), top)]


# -- the command ----------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bench.readside", description=__doc__.split("\n")[0]
    )
    root.add_argument(
        "--sizes",
        default=",".join(str(s) for s in SIZES),
        help="stored events per store, comma-separated (default 100000,1000000)",
    )
    root.add_argument("--seed", type=int, default=4)
    root.add_argument(
        "--reps", type=int, default=500, help="calls per query workload (default 500)"
    )
    root.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="where profiles of missed goals go (default: a temporary folder)",
    )
    root.add_argument(
        "--audit-chain",
        action="store_true",
        help="also time the audit chain following the log from position 0 (it is never rebuilt)",
    )
    root.add_argument(
        "--no-profile", action="store_true", help="do not profile queries that missed a goal"
    )
    root.add_argument(
        "--reuse-store",
        action="store_true",
        help="use the cached store of each size even if an input of its key changed since it"
        " was filled (for changes that leave the stored events as they were; the report names"
        " the commit it was filled at)",
    )
    root.add_argument(
        "--profile-rebuild",
        action="append",
        default=[],
        metavar="READ_MODEL",
        help="profile this read model's rebuild at the smallest size (repeatable; 'missed':"
        " those that missed the goal, 'all': every one); off by default, each costs about"
        " twice the rebuild",
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    commit = machine.code()
    say(f"journey read-side benchmark: {', '.join(f'{s:,}' for s in sizes)} stored events, SQLite")
    for line in machine.describe("not used", "not used (embedded SQLite)"):
        if not line.startswith("services:"):
            say(line)
    say(f"load average before: {machine.load()}")
    began = time.perf_counter()
    results: list[SizeResult] = []
    profiles: list[str] = []
    profile_dir = args.profile_dir or Path(tempfile.mkdtemp(prefix="journey-readside-"))
    profile_dir.mkdir(parents=True, exist_ok=True)
    for n, size in enumerate(sizes):
        result, runtime, models = measure(
            size, args.seed, args.reps, commit, args.audit_chain, args.reuse_store
        )
        try:
            results.append(result)
            largest, smallest = n == len(sizes) - 1, n == 0
            if not args.no_profile and largest:
                for latency in result.latencies:
                    if latency.goal_ms is not None and latency.p99 >= latency.goal_ms:
                        key = next(
                            k for k, w in result.workloads.items() if w.label == latency.label
                        )
                        workload = result.workloads[key]
                        profiles += [
                            "",
                            *profile(
                                partial(_call_all, workload.calls),
                                profile_dir / f"{key}-{size}.prof",
                                f"{latency.label} at {size:,} events",
                            ),
                        ]
            if smallest:
                wanted = set(args.profile_rebuild)
                if "missed" in wanted:
                    wanted |= set(result.missed_rebuilds)
                if "all" in wanted:
                    wanted |= set(models.found)
                for name in sorted(wanted):
                    projection = models.found.get(name)
                    if projection is None:
                        continue
                    reader = runtime.projection_runner.reader
                    profiles += [
                        "",
                        *profile(
                            partial(rebuild, projection, reader, BATCH),
                            profile_dir / f"rebuild-{name}-{size}.prof",
                            f"rebuild {name} at {size:,} events",
                        ),
                    ]
        finally:
            runtime.close()
    say(
        f"\nload average after: {machine.load()};"
        f" the whole run took {time.perf_counter() - began:,.0f} s"
    )
    for result in results:
        m = result.manifest
        say()
        say(
            f"{m.stored_events:,} stored events ({m.source_events:,} source events,"
            f" {m.customers:,} customers; long case {m.long_case_ref}: {m.long_case_events} events;"
            f" store filled in {m.fill_s:,.0f} s at commit {m.commit}"
            f"{', cached' if result.cached else ''})"
        )
        say(f"stored events: {result.mix}")
        say()
        for line in rate_table(result):
            say(line)
        say()
        for line in latency_table(result):
            say(line)
        for note in result.notes:
            say(f"note: {note}")
    if len(results) > 1:
        say()
        for line in growth_table(results):
            say(line)
    for line in profiles:
        say(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.cfpb_timer [--data DIR] [--limit N] [--reps 3]``: the clock timer's
share of a CFPB catch-up, alone. In a fresh data folder, ``journey import cfpb`` publishes
the data set; ``journey serve`` with the ingest and the read models only
(``JOURNEY_WORKERS=ingest,projections``) applies it until the ingest and every read model
have caught up; the folder is then copied. Each repetition starts from a fresh copy of it
and runs the timer (built by the composition root, as ``journey timer`` runs it, the cycle
collector tuned alike) until a round breaches nothing: every deadline the event-time
watermark passed is breached, as after the import.

Baseline, in the same run: loading the same aggregates (``load_many``, a hundred at a
time, as the timer loads them) from a fresh copy, without advancing or storing anything:
what the timer must do at the least. Prints one line a repetition and a JSON summary (the
best repetition of each). Why: in the whole import the timer shares a process with the
ingest and two cores with the read models, so its figures move with theirs
(docs/BENCHMARKS.md, "CFPB import").
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from bench.cfpb_import import DEFAULT_DATA, BenchError, _measure, projected, say
from bench.cfpb_projections import cpu_s, runtime_of
from consumers.timer import ADVANCE_BATCH


def prepare(workdir: Path, data: Path, limit: int | None, timeout_s: float) -> Path:
    """The data folder with the data set ingested and projected, the timer never run."""
    _measure(workdir, data, limit, 2.0, timeout_s, workers="ingest,projections", done=projected)
    return workdir / "data"


def run_timer(data_dir: Path) -> tuple[dict[str, float], list[UUID]]:
    """The timer until a round breaches nothing: its figures, and the aggregates it loaded."""
    from adapters.collector import tune_collector

    runtime = runtime_of(data_dir)
    try:
        app = runtime.app
        loaded: list[UUID] = []
        load = app.load_many
        if load is None:
            raise BenchError("the store cannot load many aggregates at once")

        def counted(ids: Sequence[UUID]) -> dict[UUID, Any]:
            loaded.extend(ids)
            found: dict[UUID, Any] = load(ids)
            return found

        app.load_many = counted
        timer = runtime.clock_timer()
        tune_collector()
        wall, cpu = time.perf_counter(), cpu_s()
        decisions = rounds = 0
        while decided := timer.run_once():
            decisions += decided
            rounds += 1
        figures = {
            "decisions": decisions,
            "rounds": rounds,
            "aggregates": len(loaded),
            "wall_s": time.perf_counter() - wall,
            "cpu_s": cpu_s() - cpu,
        }
    finally:
        runtime.close()
    return figures, loaded


def run_loads(data_dir: Path, ids: Sequence[UUID]) -> dict[str, float]:
    """The baseline: the same aggregates loaded, a hundred at a time, nothing else."""
    from adapters.collector import tune_collector

    runtime = runtime_of(data_dir)
    try:
        load = runtime.app.load_many
        if load is None:
            raise BenchError("the store cannot load many aggregates at once")
        tune_collector()
        wall, cpu = time.perf_counter(), cpu_s()
        for start in range(0, len(ids), ADVANCE_BATCH):
            load(ids[start : start + ADVANCE_BATCH])
        return {
            "aggregates": len(ids),
            "wall_s": time.perf_counter() - wall,
            "cpu_s": cpu_s() - cpu,
        }
    finally:
        runtime.close()


def _fresh(prepared: Path, workdir: Path) -> Path:
    copy = workdir / "run"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(prepared, copy)  # closed stores: prepare waited for every process
    return copy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cfpb_timer", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CFPB folder or CSV")
    parser.add_argument("--limit", type=int, help="the first N complaints (default: all)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps: at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="journey-bench-timer-"))
    try:
        started = time.perf_counter()
        prepared = prepare(workdir, args.data, args.limit, args.timeout)
        say(f"prepared in {time.perf_counter() - started:.1f} s: ingested and projected")
        timers, loads = [], []
        for rep in range(1, args.reps + 1):
            timer, loaded = run_timer(_fresh(prepared, workdir))
            baseline = run_loads(_fresh(prepared, workdir), loaded)
            timers.append(timer)
            loads.append(baseline)
            say(
                f"  {rep}: timer {timer['decisions']:,} decisions over {timer['aggregates']:,}"
                f" aggregates, rounds {timer['rounds']}: {timer['wall_s']:.1f} s,"
                f" {timer['cpu_s']:.1f} CPU s; loading them alone {baseline['cpu_s']:.1f} CPU s"
            )
    except BenchError as error:
        say(f"bench: error: {error}")
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    timer = min(timers, key=lambda t: t["cpu_s"])
    baseline = min(loads, key=lambda b: b["cpu_s"])
    per = timer["cpu_s"] / max(timer["aggregates"], 1) * 1e6
    say(
        f"timer (best of {args.reps}): {timer['cpu_s']:.1f} CPU s, {per:,.0f} µs an aggregate;"
        f" loading alone {baseline['cpu_s']:.1f} CPU s;"
        f" ratio {timer['cpu_s'] / max(baseline['cpu_s'], 1e-9):.2f}x the loads"
    )
    print(orjson.dumps({"timer": timer, "loads": baseline}).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

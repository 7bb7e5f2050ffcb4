"""``python -m bench.suite``: every benchmark in sequence, then one summary (``make bench``).

Each benchmark runs in a process of its own, its output passed through as it comes:

1. ``bench.ingest``: pipeline against raw kafka-python consume, SQLite and PostgreSQL;
2. ``bench.http_publish``: ``POST /v1/events`` on a real ``journey serve`` against raw
   kafka-python producer sends;
3. ``bench.readside``: read-model rebuilds against a raw batched insert, and query
   latencies, at 100k and 1M stored events;
4. ``bench.http_queries``: some of those queries through ``GET`` on a real ``journey serve``
   beside the same calls in process, on a copy of the read side's cached store;
5. ``bench.cfpb_import``: ``journey import cfpb`` into embedded mode until every read
   model has caught up, against the import alone.

The summary ends with issue 18's goals, each with its figure, baseline, ratio and verdict,
as the benchmarks that measured them reported them.

The summary gives each benchmark's wall time and the peak resident set of its process
(``os.wait4``: the process that measured in-process phases and generated the data; the
processes each benchmark starts report their own peaks in its table), each figure beside
its baseline with the ratio, and the read side's report as it printed it. The suite exits
non-zero if any benchmark did, or if the whole took longer than ``--budget`` minutes.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench import machine, memory

BENCHMARKS = {
    "ingest": "bench.ingest",
    "http": "bench.http_publish",
    "readside": "bench.readside",
    "queries": "bench.http_queries",
    "cfpb": "bench.cfpb_import",
}
TITLES = {
    "ingest": "ingest",
    "http": "HTTP publish",
    "readside": "read side",
    "queries": "HTTP queries",
    "cfpb": "CFPB import",
}
REPORT_START = "load average after"
"""The read side prints its report after this line."""


def say(line: str = "") -> None:
    print(line, flush=True)


@dataclass
class Outcome:
    name: str
    status: int
    seconds: float
    peak_kib: int | None
    output: list[str] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)


def run_one(name: str, args: Sequence[str], workdir: Path) -> Outcome:
    summary_path = workdir / f"{name}.json"
    command = [sys.executable, "-m", BENCHMARKS[name], *args]
    if name != "readside":
        command += ["--summary", str(summary_path)]
    say(f"\n===== {TITLES[name]}: {shlex.join(command[1:])}")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.decode(errors="replace").rstrip("\n")
        output.append(line)
        say(line)
    peak = memory.wait_peak(process)
    seconds = time.perf_counter() - started
    summary = orjson.loads(summary_path.read_bytes()) if summary_path.exists() else []
    return Outcome(name, process.returncode or 0, seconds, peak, output, summary)


def _ratio(entry: dict[str, Any]) -> str:
    ratio = entry.get("ratio")
    return "" if ratio is None else f"{ratio:.3f}x"


def _peaks(entry: dict[str, Any]) -> str:
    peaks = {k: v for k, v in (entry.get("peaks_kib") or {}).items() if v is not None}
    return ", ".join(f"{k} {memory.mib(v)}" for k, v in peaks.items())


def figures(outcome: Outcome) -> list[str]:
    """The figures of ingest and HTTP publish, each beside its baseline."""
    rows = [e for e in outcome.summary if "label" in e]
    if not rows:
        return []
    width = max(len(e["label"]) for e in rows)
    base = max((len(e.get("baseline", "")) for e in rows), default=8)
    lines = [
        f"{'size':>9}  {'measurement':<{width}}  {'events/s':>9}  {'p50 ms':>7} {'p99 ms':>7}"
        f"  {'baseline':<{base}}  {'events/s':>9}  {'ratio':>7}  peak MiB",
    ]
    for e in rows:
        p50 = "" if e.get("p50_ms") is None else f"{e['p50_ms']:.2f}"
        p99 = "" if e.get("p99_ms") is None else f"{e['p99_ms']:.2f}"
        base_rate = "" if e.get("baseline_rate") is None else f"{e['baseline_rate']:,.0f}"
        rate = "" if e.get("rate") is None else f"{e['rate']:,.0f}"
        lines.append(
            f"{e['size']:>9,}  {e['label']:<{width}}  {rate:>9}  {p50:>7} {p99:>7}"
            f"  {e.get('baseline', ''):<{base}}  {base_rate:>9}  {_ratio(e):>7}  {_peaks(e)}"
        )
    for e in outcome.summary:
        for label, value in (e.get("ratios") or {}).items():
            shown = "n/a" if value is None else f"{value:.3f}x"
            lines.append(f"{e['size']:>9,}  {label:<58}  {shown}")
    return lines


def goal_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """Every goal the benchmarks reported (``bench.report.goal_entry``), one line each."""
    goals = [e for o in outcomes for e in o.summary if "goal" in e]
    if not goals:
        return []
    width = max(len(g["goal"]) for g in goals)
    lines = [f"{'goal':<{width}}  {'verdict':<12}  {'ratio':>7}  figure; baseline (same run)"]
    for g in goals:
        shown = "" if g.get("ratio") is None else f"{g['ratio']:.3f}x"
        lines.append(
            f"{g['goal']:<{width}}  {g['verdict']:<12}  {shown:>7}  {g['figure']};"
            f" {g.get('baseline') or '-'}"
        )
    return lines


def tail_report(outcome: Outcome) -> list[str]:
    """What a benchmark printed after its last "load average after" line: its report."""
    starts = [n for n, line in enumerate(outcome.output) if line.startswith(REPORT_START)]
    return outcome.output[starts[-1] + 1 :] if starts else outcome.output[-40:]


def growth_block(outcome: Outcome) -> list[str]:
    """The growth lines a benchmark printed (from its "growth," line to the next blank)."""
    lines: list[str] = []
    for line in outcome.output:
        if line.startswith("growth,"):
            lines = [line]
        elif lines and line.strip():
            lines.append(line)
        elif lines:
            break
    return lines


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bench.suite", description=__doc__)
    root.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated subset of {', '.join(BENCHMARKS)} (default all, in that order)",
    )
    root.add_argument("--ingest-args", default="", help="arguments of bench.ingest")
    root.add_argument("--http-args", default="", help="arguments of bench.http_publish")
    root.add_argument("--readside-args", default="", help="arguments of bench.readside")
    root.add_argument(
        "--queries-args", default="", help="arguments of bench.http_queries (after readside)"
    )
    root.add_argument("--cfpb-args", default="", help="arguments of bench.cfpb_import")
    root.add_argument(
        "--budget", type=float, default=30.0, help="minutes the whole may take (default 30)"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        say(f"bench.suite: unknown benchmarks {sorted(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    extra = {
        "ingest": args.ingest_args,
        "http": args.http_args,
        "readside": args.readside_args,
        "queries": args.queries_args,
        "cfpb": args.cfpb_args,
    }
    load_before = machine.load()
    began = time.perf_counter()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="journey-bench-suite-") as tmp:
        for name in chosen:
            outcomes.append(run_one(name, shlex.split(extra[name]), Path(tmp)))
    total = time.perf_counter() - began

    say("\n" + "=" * 100)
    say("journey benchmark suite: summary")
    for line in machine.describe("see above", "see above")[:2]:
        say(line)
    say(f"code: commit {machine.code()}")
    say(f"load average before: {load_before}; after: {machine.load()}")
    say()
    say(f"{'benchmark':<14}  {'seconds':>8}  {'peak MiB':>8}  status  (peak: the benchmark's own")
    say(f"{'-' * 14}  {'-' * 8}  {'-' * 8}  ------   process; its children in its tables)")
    for o in outcomes:
        status = "ok" if o.status == 0 else f"FAILED ({o.status})"
        say(f"{TITLES[o.name]:<14}  {o.seconds:>8.0f}  {memory.mib(o.peak_kib):>8}  {status}")
    over = total > args.budget * 60
    verdict = f"over the {args.budget:.0f}-minute budget" if over else "within the budget"
    say(f"{'total':<14}  {total:>8.0f}  {'':>8}  {total / 60:.1f} minutes, {verdict}")
    for o in outcomes:
        lines = [*figures(o), "", *growth_block(o)] if o.summary else tail_report(o)
        if lines:
            say()
            say(f"-- {TITLES[o.name]} --")
            for line in lines:
                say(line)
    goals = goal_lines(outcomes)
    if goals:
        say()
        say("-- goals (issue 18; the read side's are in its report above) --")
        for line in goals:
            say(line)
    failed = any(o.status for o in outcomes)
    return 1 if failed or over else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

"""``python -m bench.http_queries``: the read side's queries through HTTP beside the same
calls in process: the ratio is what the API adds (uvicorn, middleware, authentication,
validation and JSON of the answer, the access log for auditors' reads).

It needs the store ``bench.readside`` filled and cached (``.run/bench/readside/``; run that
first, as ``make bench`` does) and works on a copy of it, so the cache is not changed. On the
copy: a ``journey serve`` with the API alone (embedded log, ``JOURNEY_WORKERS=``) in its own
process, and the same composition root built in this process. For each workload the same
arguments (drawn with ``Random(seed)``) go once through the in-process call and once through
``GET`` from one keep-alive client (httpx), one call at a time, the two alternating, each
timed on its own (wall):

- ledger page 1, no filter: ``ComplaintLedger.page(51, …)`` / ``GET /v1/complaints`` (50 a
  page, the route asks for 51);
- customer 360: ``Customer360.view`` / ``GET /v1/customers/{id}`` (analyst key: the route
  also masks the profile's personal data);
- KPIs, the 7 days from a day a case opened, by channel: ``KpiCounters.kpis`` /
  ``GET /v1/kpis``;
- case history, random case and the long case: ``Auditor.history`` /
  ``GET /v1/cases/{ref}/history`` (auditor key: each read is written to the access log).

Then, on the same server, the console's pages as the browser loads them
(``bench.console_pages``: each page's data calls, goal p95 < 200 ms).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from random import Random
from typing import Any

import httpx
import orjson

from bench import console_pages, machine, memory
from bench.http_load import percentile
from bench.http_publish import ApiProcess, say
from bench.ingest import BenchError
from bench.readside_store import load_any, settings_for
from journey.bootstrap import Runtime, build

WARMUP = 10


@dataclass(frozen=True)
class Query:
    label: str
    here: list[Callable[[], Any]]
    paths: list[str]
    role: str


@dataclass(frozen=True)
class Timing:
    label: str
    calls: int
    here_p50: float
    here_p99: float
    http_p50: float
    http_p99: float


def _ms(call: Callable[[], Any]) -> float:
    began = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - began) / 1e6


def _timed_pairs(
    here: Sequence[Callable[[], Any]], remote: Sequence[Callable[[], Any]]
) -> tuple[list[float], list[float]]:
    """Each argument's in-process call, then its HTTP call, alternating, so that a burst of
    other work on the host falls on both sides alike; the first ``WARMUP`` untimed first."""
    for a, b in zip(here[:WARMUP], remote[:WARMUP], strict=True):
        a()
        b()
    here_ms, remote_ms = [], []
    for a, b in zip(here, remote, strict=True):
        here_ms.append(_ms(a))
        remote_ms.append(_ms(b))
    return sorted(here_ms), sorted(remote_ms)


def population(runtime: Runtime) -> tuple[list[str], list[dict[str, Any]]]:
    """The store's customer ids and cases (``case_ref``, ``opened_at``)."""
    ledger, c360 = runtime.ledger, runtime.customers
    ids = [
        r["customer_id"]
        for r in c360.store.query(
            f"SELECT customer_id FROM {c360.t('c360_customers')} ORDER BY customer_id"
        )
    ]
    cases = ledger.store.query(
        f"SELECT case_ref, opened_at FROM {ledger.t('complaint_ledger')} ORDER BY case_ref"
    )
    if not ids or not cases:
        raise BenchError("the cached store has no customers or no cases")
    return ids, cases


def queries(runtime: Runtime, long_case: str, reps: int, seed: int) -> list[Query]:
    rng = Random(seed)  # noqa: S311 - reproducible arguments, not secrets
    ledger, c360, kpis, auditor = runtime.ledger, runtime.customers, runtime.kpis, runtime.auditor
    ids, cases = population(runtime)
    customers = [rng.choice(ids) for _ in range(reps)]
    refs = [rng.choice(cases)["case_ref"] for _ in range(reps)]
    days = [datetime.fromisoformat(rng.choice(cases)["opened_at"]).date() for _ in range(reps)]

    def week(day: date) -> tuple[date, date]:
        return day, day + timedelta(days=6)

    return [
        Query(
            "ledger page 1, no filter",
            [partial(ledger.page, 51, None, None, "opened_at", True) for _ in range(reps)],
            ["/v1/complaints?sort=-opened_at&limit=50"] * reps,
            "analyst",
        ),
        Query(
            "customer 360 view, random customer",
            [partial(c360.view, c) for c in customers],
            [f"/v1/customers/{c}" for c in customers],
            "analyst",
        ),
        Query(
            "KPI query, 7 days by channel",
            [partial(kpis.kpis, *week(d), ["channel"]) for d in days],
            [f"/v1/kpis?start={week(d)[0]}&end={week(d)[1]}&group_by=channel" for d in days],
            "analyst",
        ),
        Query(
            "case history, random case",
            [partial(auditor.history, r) for r in refs],
            [f"/v1/cases/{r}/history" for r in refs],
            "auditor",
        ),
        Query(
            "case history, the long case",
            [partial(auditor.history, long_case) for _ in range(reps)],
            [f"/v1/cases/{long_case}/history"] * reps,
            "auditor",
        ),
    ]


def measure(runtime: Runtime, url: str, keys: dict[str, str], work: list[Query]) -> list[Timing]:
    out = []
    with httpx.Client(base_url=url, timeout=60.0) as http:
        for q in work:
            headers = {"authorization": f"Bearer {keys[q.role]}"}

            def get(path: str, headers: dict[str, str] = headers) -> None:
                response = http.get(path, headers=headers)
                if response.status_code != 200:
                    raise BenchError(f"GET {path}: {response.status_code} {response.text[:300]}")

            here, remote = _timed_pairs(q.here, [partial(get, p) for p in q.paths])
            out.append(
                Timing(
                    q.label,
                    len(q.paths),
                    percentile(here, 0.5),
                    percentile(here, 0.99),
                    percentile(remote, 0.5),
                    percentile(remote, 0.99),
                )
            )
            t = out[-1]
            say(f"  {q.label}: p99 in process {t.here_p99:.2f} ms, HTTP {t.http_p99:.2f} ms")
    return out


def table(timings: Sequence[Timing], server_peak: int | None) -> list[str]:
    width = max(len(t.label) for t in timings)
    lines = [
        f"{'':<{width}}  {'':>5}  {'in process ms':^15}  {'HTTP ms':^15}"
        f"  {'HTTP / in process':^17}",
        f"{'query':<{width}}  {'calls':>5}  {'p50':>7} {'p99':>7}  {'p50':>7} {'p99':>7}"
        f"  {'p50':>8} {'p99':>8}",
        f"{'-' * width}  {'-' * 5}  {'-' * 15}  {'-' * 15}  {'-' * 17}",
    ]
    for t in timings:
        lines.append(
            f"{t.label:<{width}}  {t.calls:>5}  {t.here_p50:>7.2f} {t.here_p99:>7.2f}"
            f"  {t.http_p50:>7.2f} {t.http_p99:>7.2f}"
            f"  {t.http_p50 / t.here_p50:>7.2f}x {t.http_p99 / t.here_p99:>7.2f}x"
        )
    lines.append(f"journey serve peak memory: {memory.mib(server_peak)} MiB")
    return lines


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bench.http_queries", description=__doc__.split("\n")[0]
    )
    root.add_argument(
        "--sizes",
        default="100000,1000000",
        help="sizes of the cached stores to query (default 100000,1000000)",
    )
    root.add_argument("--seed", type=int, default=4, help="the cached store's seed")
    root.add_argument("--reps", type=int, default=200, help="calls per query (default 200)")
    root.add_argument("--summary", type=Path, help="also write the figures here as JSON")
    return root


Measured = tuple[list[Timing], list[console_pages.PageTiming], int | None, str]


def measure_size(size: int, seed: int, reps: int) -> Measured:
    """The queries and the console's pages on a copy of the cached ``size``-event store:
    timings, the server's peak memory (KiB), a note (why nothing was measured, or which
    store)."""
    cached = load_any(size, seed)
    if cached is None:
        return [], [], None, f"no cached {size:,}-event store: run python -m bench.readside first"
    folder, manifest = cached
    work_dir = Path(tempfile.mkdtemp(prefix="journey-bench-queries-"))
    copy = work_dir / "store"
    began = time.perf_counter()
    shutil.copytree(folder, copy)
    say(f"{size:,} events: copied {folder.name} in {time.perf_counter() - began:.1f} s")
    settings = settings_for(copy)
    env = {
        "JOURNEY_DATA_DIR": str(copy),
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_TOPIC_PREFIX": settings.topic_prefix,
        "JOURNEY_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "JOURNEY_WORKERS": "",
    }
    server = ApiProcess(env, work_dir / "serve.log")
    server_peak: int | None = None
    runtime = build(settings)
    try:
        keys = {
            "analyst": runtime.api_keys.create("analyst", "bench").secret_text,
            "auditor": runtime.api_keys.create("auditor", "bench").secret_text,
            "admin": runtime.api_keys.create("admin", "bench").secret_text,
        }
        server.start()
        work = queries(runtime, manifest.long_case_ref, reps, seed)
        timings = measure(runtime, server.url, keys, work)
        ids, cases = population(runtime)
        refs = [c["case_ref"] for c in cases]
        pages = console_pages.measure(server.url, keys, refs, ids, max(20, reps // 4), seed)
        server_peak = memory.peak(server.pid)
    except BenchError as error:
        raise BenchError(f"{error}\n{server.output()}") from None
    finally:
        stopped = server.stop()
        server_peak = server_peak or stopped
        runtime.close()
        shutil.rmtree(work_dir, ignore_errors=True)
    return timings, pages, server_peak, f"store {folder.name}"


def growth(by_size: dict[int, list[Timing]]) -> list[str]:
    sizes = sorted(size for size, timings in by_size.items() if timings)
    if len(sizes) < 2:
        return []
    small, large = by_size[sizes[0]], {t.label: t for t in by_size[sizes[-1]]}
    lines = [
        f"growth, {sizes[0]:,} → {sizes[-1]:,} events ({sizes[-1] / sizes[0]:.0f}x), p99 ms:",
        f"{'query':<44}  {'in process':>17}  {'HTTP':>17}",
    ]
    for a in small:
        b = large.get(a.label)
        if b is None:
            continue
        here, http = b.here_p99 / a.here_p99, b.http_p99 / a.http_p99
        lines.append(
            f"{a.label:<44}  {a.here_p99:>6.2f} → {b.here_p99:>6.2f} ({here:.2f}x)"
            f"  {a.http_p99:>6.2f} → {b.http_p99:>6.2f} ({http:.2f}x)"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    say(f"journey HTTP query benchmark: {', '.join(f'{n:,}' for n in sizes)} stored events")
    for line in machine.describe("not used", "not used")[:2]:
        say(line)
    say(f"load average before: {machine.load()}")
    status = 0
    by_size: dict[int, list[Timing]] = {}
    pages: dict[int, list[console_pages.PageTiming]] = {}
    peaks: dict[int, int | None] = {}
    notes: dict[int, str] = {}
    for size in sizes:
        try:
            by_size[size], pages[size], peaks[size], notes[size] = measure_size(
                size, args.seed, args.reps
            )
        except Exception as error:  # report the other sizes, then fail
            say(f"bench: error at {size:,} events: {error}")
            status = 1
    say(f"load average after: {machine.load()}")
    for size, timings in by_size.items():
        say()
        say(f"{size:,} events ({notes[size]}), one client, {args.reps} calls a query:")
        for line in table(timings, peaks[size]) if timings else []:
            say(line)
        for line in console_pages.table(pages[size]) if pages.get(size) else []:
            say(line)
    lines = growth(by_size)
    if lines:
        say()
        for line in lines:
            say(line)
    if args.summary is not None:
        args.summary.write_bytes(
            orjson.dumps(
                [
                    {
                        "phase": "http queries",
                        "size": size,
                        "label": f"GET {t.label}",
                        "rate": None,
                        "p50_ms": t.http_p50,
                        "p99_ms": t.http_p99,
                        "baseline": f"in process, p99 {t.here_p99:.2f} ms",
                        "ratio": t.http_p99 / t.here_p99 if t.here_p99 else None,
                        "peaks_kib": {"server": peaks[size]},
                    }
                    for size, timings in sorted(by_size.items())
                    for t in timings
                ]
                + [
                    {
                        "phase": "console pages",
                        "size": size,
                        "label": f"console {p.name} (slowest call p95, {p.slowest_call})",
                        "rate": None,
                        "p95_ms": p.slowest_call_p95,
                        "page_p95_ms": p.page_p95,
                        "baseline": f"goal p95 < {console_pages.GOAL_MS:.0f} ms:"
                        f" {'met' if p.met else 'missed'}",
                        "ratio": p.slowest_call_p95 / console_pages.GOAL_MS,
                    }
                    for size, timed in sorted(pages.items())
                    for p in timed
                ]
            )
        )
    if not any(by_size.values()):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

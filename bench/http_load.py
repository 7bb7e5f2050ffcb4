"""``python -m bench.http_load``: the load generator of ``bench.http_publish``, in its own
process (so that its CPU and memory are not the server's).

It reads the events to post from a file (``--values``: one event's JSON a line, written by
the parent from the benchmark's stream) and posts them to ``POST /v1/events`` from
``--clients`` concurrent clients (asyncio + httpx, one connection each), ``--batch`` events a
request (1: each event as a JSON object; more: a JSON array). Each request is timed on its
own (``perf_counter_ns`` around the call, wall).

Protocol with the parent, one line each on stdout: ``ready`` once the bodies are built (the
parent takes its CPU snapshot and answers with a line on stdin), ``done <json>`` when every
request was answered; then it waits for one more line on stdin before exiting, so that the
parent can read its CPU time and peak memory while it still exists. The API key, if any,
comes in ``JOURNEY_BENCH_API_KEY`` (not on the command line, where ``ps`` shows it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import memory

API_KEY_ENV = "JOURNEY_BENCH_API_KEY"


def bodies(values: Sequence[bytes], batch: int) -> list[tuple[bytes, int]]:
    """(request body, events in it): each value alone, or JSON arrays of ``batch``."""
    if batch == 1:
        return [(value, 1) for value in values]
    return [
        (b"[" + b",".join(values[i : i + batch]) + b"]", len(values[i : i + batch]))
        for i in range(0, len(values), batch)
    ]


def read_values(path: Path) -> list[bytes]:
    """The events to post, one JSON document a line (as ``write_values`` wrote them)."""
    data = path.read_bytes()
    return data.split(b"\n") if data else []


def write_values(path: Path, values: Sequence[bytes]) -> None:
    """One event's JSON a line: compact JSON holds no raw line break."""
    if any(b"\n" in value for value in values):
        raise ValueError("an event's JSON holds a line break")
    path.write_bytes(b"\n".join(values))


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * share // 1))
    return float(sorted_values[int(rank) - 1])


async def load(
    url: str, work: list[tuple[bytes, int]], clients: int, api_key: str | None
) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    latencies: list[int] = []
    statuses: Counter[int] = Counter()
    placed: Counter[str] = Counter()
    accepted = 0
    failures: list[str] = []
    next_index = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal next_index, accepted
        while next_index < len(work):
            body, events = work[next_index]
            next_index += 1
            started = time.perf_counter_ns()
            response = await http.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter_ns() - started)
            statuses[response.status_code] += 1
            if response.status_code != 202:
                if len(failures) < 5:
                    failures.append(f"{response.status_code}: {response.text[:300]}")
                continue
            answer = orjson.loads(response.content)["accepted"]
            if len(answer) != events:
                failures.append(f"{len(answer)} accepted of {events} posted")
            accepted += len(answer)
            for item in answer:
                placed[f"{item['topic']}/{item['partition']}"] += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120.0) as http:
        # One connection per client before the clock (a GET that publishes nothing).
        base = str(httpx.URL(url).copy_with(path="/healthz"))
        await asyncio.gather(*(http.get(base) for _ in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - started
    latencies.sort()
    ms = [value / 1e6 for value in latencies]
    return {
        "requests": len(latencies),
        "accepted": accepted,
        "seconds": seconds,
        "p50_ms": percentile(ms, 0.50),
        "p90_ms": percentile(ms, 0.90),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": ms[-1] if ms else 0.0,
        "statuses": {str(k): v for k, v in statuses.items()},
        "placed": dict(placed),
        "failures": failures,
    }


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bench.http_load", description=__doc__)
    root.add_argument("--url", required=True, help="the POST /v1/events URL")
    root.add_argument(
        "--values", type=Path, required=True, help="the events to post, one JSON a line"
    )
    root.add_argument("--batch", type=int, default=1, help="events per request")
    root.add_argument("--clients", type=int, default=8, help="concurrent clients")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    work = bodies(read_values(args.values), args.batch)
    gc.collect()
    memory.reset_own_peak()  # the peak of the load, not of reading the file
    print("ready", flush=True)
    sys.stdin.readline()
    result = asyncio.run(load(args.url, work, args.clients, os.environ.get(API_KEY_ENV)))
    result["peak_kib"] = memory.peak(os.getpid())
    print("done " + orjson.dumps(result).decode(), flush=True)
    sys.stdin.readline()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.http_load``: the load generator of ``bench.http_publish``, in its own
process (so that its CPU and memory are not the server's).

It reads the events to post from a file (``--values``: one event's JSON a line, written by
the parent from the benchmark's stream) and posts them to ``POST /v1/events`` from
``--clients`` concurrent clients (asyncio on uvloop, one keep-alive HTTP/1.1 connection
each: :class:`Connection`), ``--batch`` events a
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
from urllib.parse import urlsplit

import orjson
import uvloop  # uvicorn[standard] brings it

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


class Connection:
    """One keep-alive HTTP/1.1 connection that posts prepared bodies. Written on asyncio
    streams rather than with httpx: httpx spent ≈ 1.7 ms of CPU a request, as much as the
    server it measured, on the same two cores; this spends a tenth of that. Answers must
    carry ``Content-Length`` (uvicorn's JSON answers do); anything else fails the run."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        lines = [f"Host: {self.host}:{self.port}", *(f"{k}: {v}" for k, v in headers.items())]
        self._head = "\r\n".join(lines)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    def _request(self, method: str, path: str, body: bytes) -> bytes:
        head = f"{method} {path} HTTP/1.1\r\n{self._head}\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body

    async def call(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        assert self._reader is not None
        assert self._writer is not None
        self._writer.write(self._request(method, path, body))
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = None
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {status_line}")
        return int(status_line.split()[1]), await self._reader.readexactly(length)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        return await self.call("POST", self.path, body)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()


async def load(
    url: str, work: list[tuple[bytes, int]], clients: int, api_key: str | None
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    latencies: list[int] = []
    statuses: Counter[int] = Counter()
    placed: Counter[str] = Counter()
    accepted = 0
    failures: list[str] = []
    next_index = 0

    async def client(connection: Connection) -> None:
        nonlocal next_index, accepted
        while next_index < len(work):
            body, events = work[next_index]
            next_index += 1
            started = time.perf_counter_ns()
            status, content = await connection.post(body)
            latencies.append(time.perf_counter_ns() - started)
            statuses[status] += 1
            if status != 202:
                if len(failures) < 5:
                    failures.append(f"{status}: {content[:300].decode(errors='replace')}")
                continue
            answer = orjson.loads(content)["accepted"]
            if len(answer) != events:
                failures.append(f"{len(answer)} accepted of {events} posted")
            accepted += len(answer)
            for item in answer:
                placed[f"{item['topic']}/{item['partition']}"] += 1

    connections = [Connection(url, headers) for _ in range(clients)]
    # One connection per client before the clock (a GET that publishes nothing).
    await asyncio.gather(*(c.open() for c in connections))
    await asyncio.gather(*(c.call("GET", "/healthz") for c in connections))
    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(c) for c in connections))
        seconds = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.close() for c in connections))
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
    result = uvloop.run(load(args.url, work, args.clients, os.environ.get(API_KEY_ENV)))
    result["peak_kib"] = memory.peak(os.getpid())
    print("done " + orjson.dumps(result).decode(), flush=True)
    sys.stdin.readline()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.http_publish``: events/s and request latency of ``POST /v1/events``
against raw kafka-python producer sends of the same records.

For each size N (``--sizes``), on the benchmark's stream (``bench/events.py``, N events,
deterministic for the seed), each shape on fresh topics of its own:

1. **raw producer, one flush at the end**: a ``KafkaProducer`` configured as the project's
   publisher (``acks=all``, idempotent, ``linger_ms=5``) sends all N records (same key,
   value and headers, to the topic the API would choose) and flushes once: the ceiling;
2. **raw producer, a flush every B records**, one thread: what one batch request asks of
   Kafka, timed per flush;
3. **HTTP, batches of B**: a real ``journey serve`` (uvicorn, Kafka log, API only:
   ``JOURNEY_WORKERS=``) in its own process; a load generator in another process
   (``bench/http_load.py``: asyncio + httpx, C concurrent clients) posts the N events as
   JSON arrays of B;
4. **raw producer, a flush after every record** and 5. **HTTP, single events**: the same
   for the first S events (``--single-events``), one event a request.

Every shape ends by checking that the topics hold exactly what was acknowledged: per
partition, the end offset equals the records the producer (or the API's answers) placed
there. Each server is started fresh, and its peak memory (``VmHWM``) is read just before it
is stopped; the load generator reports its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from adapters.sourcelog.base import TopicPartition
from adapters.topics import Topics
from bench import machine, memory, streamfile
from bench.cpu import Snapshot, Usage
from bench.events import SourceRecord
from bench.http_load import API_KEY_ENV, percentile, write_values
from bench.ingest import BenchError, settings_of
from bench.report import goal_entry
from journey.bootstrap import build, build_log
from journey.settings import Settings

READY_TIMEOUT_S = 90.0


def say(line: str = "") -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class Row:
    """One measured shape at one size."""

    label: str
    size: int
    events: int
    requests: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    usage: Usage | None = None
    """CPU used meanwhile; its ``ingest`` part is the producer's (this process) or the
    server's."""
    peaks: dict[str, int | None] = field(default_factory=dict)
    """Peak resident set, KiB, by process ("server", "load", "bench")."""
    note: str = ""
    load_cpu: float | None = None
    """CPU-seconds of the load generator during the clock."""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Run:
    kafka: str
    partitions: int
    clients: int
    batch: int
    seed: int
    workdir: Path
    api_key: str | None
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    prefixes: list[str] = field(default_factory=list)

    def topics(self, shape: str, size: int) -> Topics:
        prefix = f"bench-{self.run}-{shape}-{size}."
        self.prefixes.append(prefix)
        return Topics(prefix, self.partitions)

    def create(self, topics: Topics) -> None:
        admin = build_log(Settings(log_backend="kafka", kafka_bootstrap=self.kafka)).admin()
        try:
            admin.create_topics(topics.specs())
        finally:
            admin.close()

    def check_placed(self, what: str, topics: Topics, placed: Counter[str]) -> None:
        """Every acknowledged record is on its partition, and nothing else is."""
        admin = build_log(Settings(log_backend="kafka", kafka_bootstrap=self.kafka)).admin()
        try:
            wanted = [
                TopicPartition(topic, p) for topic in topics.ingress for p in range(self.partitions)
            ]
            ends = admin.end_offsets(wanted)
        finally:
            admin.close()
        held = {f"{tp.topic}/{tp.partition}": end for tp, end in ends.items() if end}
        if held != dict(+placed):
            raise BenchError(f"{what}: the topics hold {held}, the acknowledgements say {placed}")


# -- the raw producer --------------------------------------------------------------------------


def _producer(kafka: str) -> KafkaProducer:
    """The project's publisher's configuration (``adapters/sourcelog/kafka.py:KafkaPublisher``)."""
    return KafkaProducer(
        bootstrap_servers=kafka,
        client_id="bench-raw-producer",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )


def _send(producer: KafkaProducer, topics: Topics, r: SourceRecord) -> Any:
    return producer.send(
        topics.for_type(r.type),
        key=r.key.encode(),
        value=r.value,
        headers=[
            ("event_id", r.event_id.encode()),
            ("type", r.type.encode()),
            ("schema_version", str(r.schema_version).encode()),
        ],
    )


def raw_send(run: Run, records: Sequence[SourceRecord], every: int, label: str) -> Row:
    """Send ``records`` with one producer, flushing after each ``every`` (0: once, at the
    end); each flush is timed. The first record goes before the clock."""
    topics = run.topics(f"raw{every}", len(records))
    run.create(topics)
    memory.reset_own_peak()
    producer = _producer(run.kafka)
    placed: Counter[str] = Counter()
    flushes: list[float] = []
    futures: list[Any] = []
    step = every or len(records)
    try:
        # The first record before the clock: metadata, connection, producer id.
        futures.append(_send(producer, topics, records[0]))
        futures[0].get(timeout=60)
        before, started = Snapshot.take(), time.perf_counter()
        for start in range(1, len(records), step):
            began = time.perf_counter_ns()
            for r in records[start : start + step]:
                futures.append(_send(producer, topics, r))
            producer.flush(timeout=60)
            flushes.append((time.perf_counter_ns() - began) / 1e6)
        seconds = time.perf_counter() - started
        usage = Usage.between(before, Snapshot.take(), {os.getpid()})
        for future in futures:
            meta = future.get(timeout=60)
            placed[f"{meta.topic}/{meta.partition}"] += 1
    except KafkaError as error:
        raise BenchError(f"{label}: Kafka: {error}") from error
    finally:
        producer.close(timeout=30)
    run.check_placed(label, topics, placed)
    flushes.sort()
    timed = every > 0
    return Row(
        label,
        len(records),
        len(records) - 1,
        len(flushes),
        seconds,
        percentile(flushes, 0.5) if timed else None,
        percentile(flushes, 0.99) if timed else None,
        usage,
        peaks={"bench": memory.peak(os.getpid())},
        note="1 thread, " + (f"flush every {every}" if timed else "one flush at the end"),
    )


def raw_concurrent(run: Run, records: Sequence[SourceRecord], clients: int, label: str) -> Row:
    """One producer shared by ``clients`` threads, each sending one record at a time and
    waiting for its own acknowledgement (what a request of one event waits for): the raw
    producer at the HTTP clients' concurrency. Each send-to-ack is timed."""
    topics = run.topics(f"rawc{clients}", len(records))
    run.create(topics)
    memory.reset_own_peak()
    producer = _producer(run.kafka)
    placed: Counter[str] = Counter()
    waits: list[float] = []
    failures: list[BaseException] = []
    todo = iter(records[1:])
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                r = next(todo, None)
            if r is None:
                return
            began = time.perf_counter_ns()
            try:
                meta = _send(producer, topics, r).get(timeout=60)
            except BaseException as error:  # reported below, after the threads end
                failures.append(error)
                return
            with lock:
                waits.append((time.perf_counter_ns() - began) / 1e6)
                placed[f"{meta.topic}/{meta.partition}"] += 1

    try:
        meta = _send(producer, topics, records[0]).get(timeout=60)  # before the clock
        placed[f"{meta.topic}/{meta.partition}"] += 1
        threads = [threading.Thread(target=client) for _ in range(clients)]
        before, started = Snapshot.take(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        usage = Usage.between(before, Snapshot.take(), {os.getpid()})
    finally:
        producer.close(timeout=30)
    if failures:
        raise BenchError(f"{label}: {failures[0]!r}")
    run.check_placed(label, topics, placed)
    waits.sort()
    return Row(
        label,
        len(records),
        len(records) - 1,
        len(waits),
        seconds,
        percentile(waits, 0.5),
        percentile(waits, 0.99),
        usage,
        peaks={"bench": memory.peak(os.getpid())},
        note=f"{clients} threads, each waiting for its own ack",
    )


# -- the API -------------------------------------------------------------------------------------


def _journey_command() -> list[str]:
    script = Path(sys.executable).with_name("journey")
    return [str(script)] if script.exists() else [sys.executable, "-m", "journey.cli"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM, then SIGKILL after 30 s; the process's peak resident set, KiB."""
    if process.returncode is not None:
        return None
    process.terminate()
    try:
        return memory.wait_peak(process, 30)
    except subprocess.TimeoutExpired:
        process.kill()
        return memory.wait_peak(process)


class ApiProcess:
    """``journey serve`` on a free loopback port with the ``JOURNEY_*`` settings given (over
    this process's environment); its output goes to ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = _free_port()
        self.log_path = log_path
        self.env = env | {"JOURNEY_HOST": "127.0.0.1", "JOURNEY_PORT": str(self.port)}
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [*_journey_command(), "serve"],
            env=dict(os.environ) | self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise BenchError(f"journey serve exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"journey serve not ready after {READY_TIMEOUT_S:.0f} s")
            time.sleep(0.1)

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> int | None:
        """Stop it; its peak resident set, KiB."""
        peak = None
        if self.process is not None:
            peak = _stop(self.process)
        if self._log is not None:
            self._log.close()
        return peak


class Server(ApiProcess):
    """``journey serve`` with the API alone (Kafka log) on ``topics``."""

    def __init__(self, run: Run, topics: Topics, name: str) -> None:
        env = {
            "JOURNEY_LOG_BACKEND": "kafka",
            "JOURNEY_KAFKA_BOOTSTRAP": run.kafka,
            "JOURNEY_TOPIC_PREFIX": topics.prefix,
            "JOURNEY_TOPIC_PARTITIONS": str(run.partitions),
            "JOURNEY_CONSUMER_GROUP": f"bench-{run.run}-{name}",
            "JOURNEY_STORE_BACKEND": "sqlite",
            "JOURNEY_DATA_DIR": str(run.workdir / name),
            "JOURNEY_WORKERS": "",
            # Capacity, not the per-key rate limit (200/s by default), is what is measured;
            # the limiter still runs on every request.
            "JOURNEY_RATE_LIMIT_PER_S": "1000000",
            "JOURNEY_RATE_LIMIT_BURST": "1000000",
        }
        super().__init__(env, run.workdir / f"{name}.serve.log")

    def channel_key(self, given: str | None) -> str | None:
        """The key given, or a channel key created in the server's own store when the
        composition root offers API keys (``runtime.api_keys``), or none. Also an admin
        key: outside embedded mode ``journey serve`` refuses to start without one."""
        runtime = build(settings_of(self.env))
        try:
            keys = getattr(runtime, "api_keys", None)
            if keys is None:
                return given
            if not keys.has_active("admin"):
                keys.create("admin", "bench")
            if given:
                return given
            secret: str = keys.create("channel", "bench").secret_text
            return secret
        finally:
            runtime.close()


def _line(process: subprocess.Popen[bytes], expected: str) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith(expected):
        process.kill()
        process.wait()
        raise BenchError(f"load generator: expected {expected!r}, got {line!r}")
    return line[len(expected) :].strip()


def _answer(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    process.stdin.write(b"\n")
    process.stdin.flush()


def http_post(
    run: Run,
    size: int,
    records: Sequence[SourceRecord],
    batch: int,
    label: str,
    clients: int | None = None,
) -> Row:
    """A fresh API-only server; the load generator posts ``records`` (from the
    ``size``-event stream), ``batch`` a request, from ``clients`` (``run.clients``) clients."""
    clients = clients or run.clients
    # Topics and data folder of its own per concurrency (a run measures single events twice).
    shape = f"http{batch}" + ("" if clients == run.clients else f"c{clients}")
    first = len(records)
    values = run.workdir / f"{shape}-{size}.jsonl"
    write_values(values, [r.value for r in records])
    topics = run.topics(shape, size)
    server = Server(run, topics, f"{shape}-{size}")
    key = server.channel_key(run.api_key)
    server.start()
    server_peak: int | None = None
    load: subprocess.Popen[bytes] | None = None
    try:
        load = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.http_load",
                f"--url={server.url}/v1/events",
                f"--values={values}",
                f"--batch={batch}",
                f"--clients={clients}",
            ],
            env=dict(os.environ) | ({API_KEY_ENV: key} if key else {}),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        _line(load, "ready")
        before = Snapshot.take()
        _answer(load)
        result: dict[str, Any] = orjson.loads(_line(load, "done"))
        after = Snapshot.take()
        server_peak = memory.peak(server.process.pid) if server.process else None
        _answer(load)
        waited = memory.wait_peak(load, 60)
        load_peak = result.get("peak_kib") or waited  # the child's own: since it reset it
    finally:
        if load is not None and load.returncode is None:
            _stop(load)
        stopped_peak = server.stop()
    assert server.process is not None
    usage = Usage.between(before, after, {server.process.pid})
    load_usage = Usage.between(before, after, {load.pid})
    if result["failures"] or result["accepted"] != first:
        raise BenchError(
            f"{label}: {result['accepted']} of {first} accepted; statuses {result['statuses']};"
            f" {result['failures']}\nserver output:\n{server.output()}"
        )
    run.check_placed(label, topics, Counter(result["placed"]))
    return Row(
        label,
        size,
        result["accepted"],
        result["requests"],
        result["seconds"],
        result["p50_ms"],
        result["p99_ms"],
        usage,
        peaks={"server": server_peak or stopped_peak, "load": load_peak},
        note=f"{clients} clients" + (", API key" if key else ""),
        load_cpu=load_usage.ingest,
    )


# -- the report ----------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def table(rows: Sequence[Row]) -> list[str]:
    width = max(len(r.label) for r in rows)
    lines = [
        f"{'':<{width}}  {'':>9}  {'':>9}  {'':>8}  {'':>7}  {'request ms':^15}"
        f"  {'CPU ms per event':^20}  {'rest':>5}  {'peak MiB':^11}",
        f"{'shape':<{width}}  {'events/s':>9}  {'events':>9}  {'requests':>8}  {'seconds':>7}"
        f"  {'p50':>7} {'p99':>7}  {'ours':>6} {'load':>6} {'kafka':>6}  {'cores':>5}"
        f"  {'ours':>5} {'load':>5}  note",
        f"{'-' * width}  {'-' * 9}  {'-' * 9}  {'-' * 8}  {'-' * 7}  {'-' * 15}  {'-' * 20}"
        f"  {'-' * 5}  {'-' * 11}  ----",
    ]
    for r in rows:
        per = 1000 / r.events if r.events else 0.0
        u = r.usage
        cpu = (
            f"{u.ingest * per:>6.3f} {(r.load_cpu or 0.0) * per:>6.3f} {u.kafka * per:>6.3f}"
            f"  {max(0.0, u.other - (r.load_cpu or 0.0)) / r.seconds:>5.2f}"
            if u is not None and r.seconds
            else f"{'':>20}  {'':>5}"
        )
        ours = r.peaks.get("server", r.peaks.get("bench"))
        lines.append(
            f"{r.label:<{width}}  {r.rate:>9,.0f}  {r.events:>9,}  {r.requests:>8,}"
            f"  {r.seconds:>7.2f}  {_ms(r.p50_ms):>7} {_ms(r.p99_ms):>7}  {cpu}"
            f"  {memory.mib(ours):>5} {memory.mib(r.peaks.get('load')):>5}  {r.note}"
        )
    return lines


@dataclass(frozen=True)
class Comparison:
    label: str
    top: str
    bottom: str
    what: str  # "rate" or "p99"


def comparisons(batch: int) -> list[Comparison]:
    return [
        Comparison(
            f"HTTP batches of {batch} / raw producer, one flush", "http-batch", "raw", "rate"
        ),
        Comparison(
            f"HTTP batches of {batch} / raw producer, flush every {batch}",
            "http-batch",
            "raw-batch",
            "rate",
        ),
        Comparison(
            f"HTTP batches of {batch} p99 / raw flush of {batch} p99",
            "http-batch",
            "raw-batch",
            "p99",
        ),
        Comparison("HTTP single events / raw producer, one flush", "http-single", "raw", "rate"),
        Comparison(
            "HTTP single events / raw producer, flush every record",
            "http-single",
            "raw-single",
            "rate",
        ),
        Comparison(
            "HTTP single event p99 / raw flush of 1 p99", "http-single", "raw-single", "p99"
        ),
        Comparison(
            "HTTP single events / raw producer at the same concurrency",
            "http-single-c",
            "raw-single-c",
            "rate",
        ),
        Comparison(
            "HTTP single event p99 / raw send-to-ack p99, same concurrency",
            "http-single-c",
            "raw-single-c",
            "p99",
        ),
    ]


SINGLE_GOAL = 0.8
SINGLE_P99_MS = 50.0


def goals(found: dict[str, Row]) -> list[dict[str, object]]:
    """Issue 18's goal of HTTP publish: single events from C concurrent clients at ≥ 0.8x
    the raw producer at the same concurrency, p99 < 50 ms."""
    http, raw = found.get("http-single-c"), found.get("raw-single-c")
    clients = http.note.split(" ")[0] if http else "16"
    goal = (
        f"HTTP publish, single events, {clients} clients ≥ {SINGLE_GOAL}x raw producer,"
        f" p99 < {SINGLE_P99_MS:.0f} ms"
    )
    if http is None or raw is None or not raw.rate:
        return [goal_entry(goal, "not measured", "", None, None)]
    value = http.rate / raw.rate
    p99 = http.p99_ms if http.p99_ms is not None else float("inf")
    return [
        goal_entry(
            goal,
            f"{http.rate:,.0f} events/s, p99 {p99:.1f} ms",
            f"raw producer, {raw.note}: {raw.rate:,.0f}/s, p99 {_ms(raw.p99_ms)} ms",
            value,
            value >= SINGLE_GOAL and p99 < SINGLE_P99_MS,
        )
    ]


def _value(row: Row, what: str) -> float | None:
    return row.rate if what == "rate" else row.p99_ms


def ratio_lines(found: dict[str, Row], batch: int) -> list[tuple[str, float | None]]:
    out = []
    for c in comparisons(batch):
        top, bottom = found.get(c.top), found.get(c.bottom)
        a = _value(top, c.what) if top else None
        b = _value(bottom, c.what) if bottom else None
        out.append((c.label, a / b if a is not None and b else None))
    return out


def growth(by_size: dict[int, dict[str, Row]]) -> list[str]:
    """Largest against smallest size, per shape measured at both: rate and p99."""
    sizes = sorted(by_size)
    if len(sizes) < 2:
        return []
    small, large = by_size[sizes[0]], by_size[sizes[-1]]
    lines = [
        f"growth, {sizes[0]:,} → {sizes[-1]:,} events ({sizes[-1] / sizes[0]:.0f}x):",
        f"{'shape':<48}  {'small':>9}  {'large':>9}  {'large/small':>11}",
    ]
    for key in small:
        if key not in large:
            continue
        a, b = small[key], large[key]
        lines.append(
            f"{a.label:<48}  {a.rate:>9,.0f}  {b.rate:>9,.0f}  {b.rate / a.rate:>10.2f}x"
            "  events/s (flat = linear time)"
        )
        if a.p99_ms and b.p99_ms:
            lines.append(
                f"{'':<48}  {a.p99_ms:>9.2f}  {b.p99_ms:>9.2f}  {b.p99_ms / a.p99_ms:>10.2f}x"
                "  p99 ms"
            )
    return lines


def summary_rows(by_size: dict[int, dict[str, Row]], batch: int) -> list[dict[str, Any]]:
    """What ``bench.suite`` prints in its one summary."""
    rows: list[dict[str, Any]] = []
    for size, found in sorted(by_size.items()):
        ratios = dict(ratio_lines(found, batch))
        baseline = {
            "http-batch": (f"raw producer, flush every {batch}", "raw-batch"),
            "http-single": ("raw producer, flush every record", "raw-single"),
            "http-single-c": ("raw producer at the same concurrency", "raw-single-c"),
        }
        for key, row in found.items():
            entry: dict[str, Any] = {
                "phase": "http publish",
                "size": size,
                "label": row.label,
                "rate": row.rate,
                "p50_ms": row.p50_ms,
                "p99_ms": row.p99_ms,
                "peaks_kib": row.peaks,
            }
            if key in baseline:
                name, other = baseline[key]
                if other in found:
                    entry["baseline"] = name
                    entry["baseline_rate"] = found[other].rate
                    entry["ratio"] = row.rate / found[other].rate if found[other].rate else None
            rows.append(entry)
        rows.append({"phase": "http publish", "size": size, "ratios": ratios})
        if "http-single-c" in found or "raw-single-c" in found:
            rows.extend(goals(found))
    return rows


# -- the command ---------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bench.http_publish", description=__doc__.split("\n")[0]
    )
    root.add_argument(
        "--sizes", default="100000", help="comma-separated stream sizes (default 100000)"
    )
    root.add_argument(
        "--single-events",
        type=int,
        default=3000,
        help="events posted one a request, at the smallest size only (default 3000; 0: none)",
    )
    root.add_argument("--batch", type=int, default=100, help="events per batch request")
    root.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    root.add_argument(
        "--single-clients",
        type=int,
        default=16,
        help="concurrent clients of the single-event goal, HTTP and raw alike (default 16;"
        " 0: not measured)",
    )
    root.add_argument("--seed", type=int, default=4)
    root.add_argument("--partitions", type=int, default=6)
    root.add_argument(
        "--kafka",
        default=os.environ.get("JOURNEY_TEST_KAFKA", "127.0.0.1:19092"),
        help="bootstrap servers (default $JOURNEY_TEST_KAFKA or 127.0.0.1:19092)",
    )
    root.add_argument("--summary", type=Path, help="also write the figures here as JSON")
    root.add_argument("--keep", action="store_true", help="keep topics and the data folder")
    return root


def measure(args: argparse.Namespace, run: Run, by_size: dict[int, dict[str, Row]]) -> None:
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    batch = args.batch

    def measured(size: int, key: str, row: Row) -> None:
        by_size.setdefault(size, {})[key] = row
        p99 = f", p99 {row.p99_ms:.2f} ms" if row.p99_ms is not None else ""
        say(f"  {row.label}: {row.rate:,.0f} events/s ({row.seconds:.2f} s{p99})")

    for n, size in enumerate(sizes):
        started = time.perf_counter()
        records = streamfile.generated(size, args.seed, run.workdir)
        say(
            f"{size:,} events: stream of {len({r.key for r in records}):,} customers,"
            f" {sum(len(r.value) for r in records) / len(records):.0f} bytes on average,"
            f" generated in {time.perf_counter() - started:.1f} s"
        )
        measured(size, "raw", raw_send(run, records, 0, "raw producer, one flush"))
        measured(
            size,
            "raw-batch",
            raw_send(run, records, batch, f"raw producer, flush every {batch}"),
        )
        measured(
            size,
            "http-batch",
            http_post(run, size, records, batch, f"HTTP POST, batches of {batch}"),
        )
        single = min(args.single_events, size)
        if n == 0 and single:
            measured(
                size,
                "raw-single",
                raw_send(run, records[:single], 1, "raw producer, flush every record"),
            )
            measured(
                size,
                "http-single",
                http_post(run, size, records[:single], 1, "HTTP POST, single events"),
            )
            if args.single_clients:
                c = args.single_clients
                measured(
                    size,
                    "raw-single-c",
                    raw_concurrent(run, records[:single], c, f"raw producer, {c} threads"),
                )
                label = f"HTTP POST, single events, {c} clients"
                measured(size, "http-single-c", http_post(run, size, records[:single], 1, label, c))
        del records  # the 1M stream holds ≈ 0.4 GB


def cleanup(run: Run) -> None:
    import shutil

    admin = KafkaAdminClient(bootstrap_servers=run.kafka, client_id="bench-admin")
    try:
        names = [spec.name for p in run.prefixes for spec in Topics(p, run.partitions).specs()]
        admin.delete_topics(names, raise_errors=False)
    except KafkaError as error:
        say(f"cleanup: Kafka: {error}")
    finally:
        admin.close()
    shutil.rmtree(run.workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)
    run = Run(
        kafka=args.kafka,
        partitions=args.partitions,
        clients=args.clients,
        batch=args.batch,
        seed=args.seed,
        workdir=Path(tempfile.mkdtemp(prefix="journey-bench-http-")),
        api_key=os.environ.get(API_KEY_ENV) or None,
    )
    admin = KafkaAdminClient(bootstrap_servers=run.kafka, client_id="bench-admin")
    broker = admin.describe_cluster()["brokers"][0]["broker_id"]
    kafka_version = f"{admin.get_broker_version_data(broker).broker_version_str} at {run.kafka}"
    admin.close()
    say(f"journey HTTP publish benchmark, run {run.run}: sizes {args.sizes}")
    for line in machine.describe(kafka_version, "PostgreSQL not used"):
        say(line)
    say(f"load average before: {machine.load()}")
    began = time.perf_counter()
    by_size: dict[int, dict[str, Row]] = {}
    status = 0
    try:
        measure(args, run, by_size)
    except BenchError as error:
        say(f"bench: error: {error}")
        status = 1
    except Exception:  # report what was measured so far, then the failure
        say(f"bench: error:\n{traceback.format_exc()}")
        status = 1
    finally:
        if args.keep:
            say(f"kept: topics {run.prefixes}, {run.workdir}")
        else:
            cleanup(run)
    say(
        f"load average after: {machine.load()}; the whole run took"
        f" {time.perf_counter() - began:.0f} s"
    )
    for size, found in sorted(by_size.items()):
        say()
        say(f"{size:,} events, {run.clients} concurrent clients, {run.partitions} partitions:")
        for line in table(list(found.values())):
            say(line)
        say()
        for label, value in ratio_lines(found, args.batch):
            say(f"{label:<58}  {'n/a' if value is None else f'{value:.3f}x'}")
    lines = growth(by_size)
    if lines:
        say()
        for line in lines:
            say(line)
    if args.summary is not None:
        args.summary.write_bytes(orjson.dumps(summary_rows(by_size, args.batch)))
    return status


if __name__ == "__main__":
    sys.exit(main())

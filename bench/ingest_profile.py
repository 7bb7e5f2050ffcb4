"""``python -m bench.ingest_profile``: the ingest's per-event budget, step by step.

Publishes N events (``bench/events.py``) to a fresh topic of six partitions, then drives
the real ``IngestWorker`` (built by the composition root) in this process into a fresh
store, with a ``time.perf_counter`` clock around each step of the path:

- **poll**: kafka-python fetching and parsing records (CRC included);
- **decode + validate**: ``decode_record`` (JSON parse, envelope and payload validation);
- **decide**: ``prepare_batch`` (the existence query, aggregate loads from the cache or the
  store, the handlers' rules and the SLA clocks' decisions);
- **encode**: the mapper's ``to_stored_event`` of each new event;
- **store**: the recorder's ``insert_events`` (the SQL inserts and the transaction's commit);
- **commit offsets**: the consumer's commit to Kafka;
- **rest**: what ``run_once`` spends outside those (dead letters, metrics, bookkeeping).

Every figure is µs per source record (and per stored event for encode and store), over the
records after the first poll batch; the raw kafka-python consume of the same topic, read in
the same run, is printed beside it. ``--profile FILE`` also writes a cProfile of one more,
separate ingest.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from application.service import JourneyApplication
from bench import streamfile
from bench.ingest import Bench, Postgres, publish, raw_consume, settings_of
from bench.report import profile_summary
from consumers.ingest import IngestWorker
from journey.bootstrap import build

STEPS = ("poll", "decode + validate", "decide", "encode", "store", "commit offsets")


class Clocks:
    """Seconds spent in each step; a step's clock runs only while no outer step's does
    (encode and store run inside the worker's apply, outside ``decide``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.running = True

    def wrap(self, step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.running:
                return function(*args, **kwargs)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[step] += time.perf_counter() - started
                self.calls[step] += 1

        return timed

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def _timed_loop(
    worker: IngestWorker, app: JourneyApplication, clocks: Clocks, count: int
) -> tuple[int, int, float]:
    """Drive ``worker`` until ``count`` records were read, each step on its clock; the
    records and stored events after the first batch, and their wall seconds."""
    consumer = worker._consumer
    consumer.poll = clocks.wrap("poll", consumer.poll)  # type: ignore[method-assign]
    consumer.commit = clocks.wrap("commit offsets", consumer.commit)  # type: ignore[method-assign]
    worker._decode = clocks.wrap("decode + validate", worker._decode)  # type: ignore[method-assign]
    app.prepare_batch = clocks.wrap("decide", app.prepare_batch)  # type: ignore[method-assign]
    mapper = app.events.mapper
    mapper.to_stored_event = clocks.wrap("encode", mapper.to_stored_event)  # type: ignore[method-assign]
    recorder = app.events.recorder
    recorder.insert_events = clocks.wrap("store", recorder.insert_events)  # type: ignore[method-assign]
    worker.start()
    read, first, started = 0, 0, 0.0
    limit = time.monotonic() + 600
    while read < count:
        got = worker.run_once(0.5)
        read += got
        if not first and got:
            first, started = got, time.perf_counter()
            clocks.reset()
        if time.monotonic() > limit:
            raise RuntimeError(f"ingest: {read} of {count} records after 600 s")
    seconds = time.perf_counter() - started
    worker.close()
    return read - first, clocks.calls["encode"], seconds


def ingest_timed(bench: Bench, store: str, name: str) -> tuple[int, int, float, Clocks]:
    """Records and stored events after the first batch, wall seconds, the steps' clocks
    (``name``: the run's own store and consumer group)."""
    runtime = build(settings_of(bench.env(store, f"{store}-{name}")))
    clocks = Clocks()
    try:
        records, stored, seconds = _timed_loop(
            runtime.ingest_worker(), runtime.app, clocks, bench.count
        )
        bench.check_store(runtime.app, "ingest")
    finally:
        runtime.close()
    return records, stored, seconds, clocks


def embedded_run(
    count: int, seed: int, workdir: Path
) -> tuple[float, tuple[int, int, float, Clocks]]:
    """Without Kafka: the same stream on the embedded log (``--log embedded``). Returns the
    raw consume's records/s (the embedded consumer's poll and ``orjson.loads`` only) and
    the timed ingest into SQLite."""
    from adapters.sourcelog.base import OutgoingRecord
    from journey.bootstrap import build_log
    from journey.settings import Settings

    settings = Settings(log_backend="embedded", store_backend="sqlite", data_dir=workdir / "data")
    runtime = build(settings)
    topic = runtime.topics.for_type("contact.opened")
    records = streamfile.generated(count, seed, workdir)
    runtime.publisher.publish_many(
        [OutgoingRecord(topic, r.key.encode(), r.value) for r in records]
    )
    del records
    raw = build_log(settings).consumer("raw")
    raw.subscribe([topic], lambda _: None, lambda _: None)
    read, first, started = 0, 0, 0.0
    while read < count:
        got = 0
        for batch in raw.poll(0.5, settings.poll_max_records).values():
            for record in batch:
                orjson.loads(record.value)
            got += len(batch)
        read += got
        if not first and got:
            first, started = got, time.perf_counter()
    raw_rate = (read - first) / (time.perf_counter() - started)
    raw.close()
    clocks = Clocks()
    try:
        worker = runtime.ingest_worker()
        done = _timed_loop(worker, runtime.app, clocks, count)
    finally:
        runtime.close()
    return raw_rate, (*done, clocks)


def budget_lines(records: int, stored: int, seconds: float, clocks: Clocks) -> list[str]:
    per = 1e6 / records
    lines = [
        f"{'step':<20} {'µs/record':>10} {'share':>7}",
    ]
    total = seconds * per
    accounted = 0.0
    for step in STEPS:
        us = clocks.seconds.get(step, 0.0) * per
        accounted += us
        extra = ""
        if step in ("encode", "store") and stored:
            extra = f"  ({clocks.seconds.get(step, 0.0) * 1e6 / stored:.1f} µs per stored event)"
        lines.append(f"{step:<20} {us:>10.1f} {us / total:>6.1%}{extra}")
    rest = total - accounted
    lines.append(f"{'rest':<20} {rest:>10.1f} {rest / total:>6.1%}")
    lines.append(
        f"{'total (wall)':<20} {total:>10.1f} {1:>6.0%}  {records / seconds:,.0f} records/s"
    )
    lines.append(f"stored events per record: {stored / records:.2f}")
    return lines


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bench.ingest_profile", description=__doc__)
    root.add_argument("--events", type=int, default=5000)
    root.add_argument("--seed", type=int, default=4)
    root.add_argument("--stores", default="sqlite", help="sqlite and/or postgres, comma-separated")
    root.add_argument("--kafka", default=os.environ.get("JOURNEY_TEST_KAFKA", "127.0.0.1:19092"))
    root.add_argument("--profile", type=Path, help="also write a cProfile of the SQLite ingest")
    root.add_argument(
        "--log",
        choices=("kafka", "embedded"),
        default="kafka",
        help="embedded: the embedded log and SQLite, no services (not the goals' baseline)",
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("kafka").setLevel(logging.ERROR)
    if args.log == "embedded":
        workdir = Path(tempfile.mkdtemp(prefix="journey-budget-"))
        try:
            raw_rate, (n, stored, seconds, clocks) = embedded_run(args.events, args.seed, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(
            f"{args.events:,} events, embedded log; raw embedded consume: {raw_rate:,.0f}"
            f" records/s, {1e6 / raw_rate:.1f} µs/record"
        )
        print(
            f"\ningest → sqlite: {n / seconds:,.0f} records/s ({n / seconds / raw_rate:.3f}x raw)"
        )
        for line in budget_lines(n, stored, seconds, clocks):
            print("  " + line)
        return 0
    bench = Bench(
        kafka=args.kafka,
        postgres=Postgres.from_env(),
        count=args.events,
        partitions=6,
        timeout_s=600,
        workdir=Path(tempfile.mkdtemp(prefix="journey-budget-")),
    )
    from bench.ingest import cleanup

    try:
        records = streamfile.generated(bench.count, args.seed, bench.workdir)
        publish(bench, records)
        del records
        raw = raw_consume(bench, bench.log_settings().poll_max_records)
        print(
            f"{args.events:,} events; raw kafka-python consume: {raw.rate:,.0f} records/s,"
            f" {1e6 / raw.rate:.1f} µs/record"
        )
        for store in [s.strip() for s in args.stores.split(",") if s.strip()]:
            records_n, stored, seconds, clocks = ingest_timed(bench, store, "budget")
            print(
                f"\ningest → {store}: {records_n / seconds:,.0f} records/s"
                f" ({records_n / seconds / raw.rate:.3f}x raw)"
            )
            for line in budget_lines(records_n, stored, seconds, clocks):
                print("  " + line)
        if args.profile is not None:
            profiler = cProfile.Profile()
            profiler.enable()
            ingest_timed(bench, "sqlite", "profiled")
            profiler.disable()
            profiler.dump_stats(args.profile)
            for line in profile_summary(pstats.Stats(str(args.profile))):
                print(line)
    finally:
        cleanup(bench)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ingest's store side with and without the aggregate cache, at several batch sizes.

What the cache is for: a batch of ``n`` records per partition loads every aggregate it
touches; without the cache each batch replays them from the store again. Large batches
(a backlog: kafka-python's polls of 500) reuse aggregates within the batch; small ones
(live traffic: a few records per poll) replay nearly every aggregate every time. This
measures decode + ``prepare_batch`` + commit (no Kafka: the log side is the same either
way, see ``bench.ingest``) for the same stream, uncached (the baseline) and cached, per
batch size and store, in one run.

    python -m bench.ingest_cache [--events 30000] [--batches 5,83,500]
        [--stores sqlite[,postgres]]      # postgres: JOURNEY_TEST_POSTGRES_* as in make test

Not a test; ``make bench`` does not run it (about a minute with SQLite).
"""

from __future__ import annotations

import argparse
import base64
import secrets
import shutil
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.sourcelog.base import TopicPartition
from application.aggregate_cache import AggregateCache
from application.service import JourneyApplication
from bench.events import SourceRecord, stream
from bench.ingest import Postgres
from bench.machine import describe
from contracts.envelope import decode
from domain.provenance import SourceRef
from journey.bootstrap import build
from journey.settings import Settings

PARTITIONS = 6
NOW = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Result:
    store: str
    batch: int
    cached: bool
    seconds: float
    cpu_s: float
    events: int
    stored: int
    loads: int
    """Aggregates read from the store (the cache's misses, or every load without it)."""

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_s / self.events


def by_partition(records: list[SourceRecord]) -> list[list[SourceRecord]]:
    parts: list[list[SourceRecord]] = [[] for _ in range(PARTITIONS)]
    for record in records:
        parts[zlib.crc32(record.key.encode()) % PARTITIONS].append(record)
    return parts


@contextmanager
def application(postgres: Postgres | None) -> Iterator[JourneyApplication]:
    """A fresh event store built by the composition root: PostgreSQL (a schema of its
    own, dropped afterwards) if given, else SQLite."""
    folder = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    values: dict[str, object] = {"data_dir": folder, "workers": set()}
    schema = f"bench_cache_{uuid.uuid4().hex[:8]}"
    if postgres is not None:
        values |= {
            "store_backend": "postgres",
            "postgres_host": postgres.host,
            "postgres_port": postgres.port,
            "postgres_db": postgres.db,
            "postgres_user": postgres.user,
            "postgres_password": postgres.password,
            "postgres_schema": schema,
            "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    runtime = build(Settings.model_validate(values))
    try:
        yield runtime.app
    finally:
        runtime.close()
        shutil.rmtree(folder, ignore_errors=True)
        if postgres is not None:
            postgres.drop_schemas([schema])


def measure(
    store: str, postgres: Postgres | None, parts: list[list[SourceRecord]], batch: int, cached: bool
) -> Result:
    with application(postgres if store == "postgres" else None) as app:
        cache = AggregateCache(app.process_recorder, 20_000) if cached else None
        loads = 0
        original = app.repository.get

        def counted(*args: object, **kwargs: object) -> object:
            nonlocal loads
            loads += 1
            return original(*args, **kwargs)  # type: ignore[arg-type]

        app.repository.get = counted  # type: ignore[method-assign,assignment]
        offsets = [0] * PARTITIONS
        events = sum(map(len, parts))
        started, cpu = time.perf_counter(), time.process_time()
        while any(offsets[p] < len(parts[p]) for p in range(PARTITIONS)):
            for p, records in enumerate(parts):
                chunk = records[offsets[p] : offsets[p] + batch]
                if not chunk:
                    continue
                partition = TopicPartition("bench.contacts", p)
                valid = []
                for offset, record in enumerate(chunk, start=offsets[p]):
                    event = decode(
                        record.value, now=NOW, max_future=timedelta(minutes=5), max_bytes=1 << 18
                    )
                    valid.append((SourceRef(event.event_id, partition.topic, p, offset), event))
                offsets[p] += len(chunk)
                pending = app.prepare_batch(partition, valid, offsets[p], cache)
                if pending.refusals:
                    raise SystemExit(f"refused: {pending.refusals[0][1]}")
                pending.commit()
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        stored = app.process_recorder.max_notification_id() or 0
    return Result(store, batch, cached, seconds, cpu_s, events, stored, loads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--batches", default="5,83,500")
    parser.add_argument("--stores", default="sqlite")
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]
    stores = args.stores.split(",")
    postgres = Postgres.from_env() if "postgres" in stores else None
    if "postgres" in stores and postgres is None:
        print(
            "--stores postgres needs JOURNEY_TEST_POSTGRES_HOST (as in make test)", file=sys.stderr
        )
        return 2
    print("ingest store side, uncached (baseline) against cached, same stream, one run")
    for line in describe("(not used)", postgres.version() if postgres else "(not used)"):
        print(line)
    records = stream(args.events, args.seed)
    parts = by_partition(records)
    print(f"stream: {len(records):,} events (bench.events, seed {args.seed}),", end=" ")
    print(f"{PARTITIONS} partitions")
    print()
    header = (
        f"{'store':<9}{'batch':>6}  {'':<9}{'events/s':>9}{'CPU ms/ev':>10}"
        f"{'loads':>8}{'stored':>8}  ratio"
    )
    print(header)
    print("-" * len(header))
    for store in stores:
        for batch in batches:
            base = measure(store, postgres, parts, batch, cached=False)
            with_cache = measure(store, postgres, parts, batch, cached=True)
            if with_cache.stored != base.stored:
                print(f"stored {with_cache.stored} events, uncached {base.stored}", file=sys.stderr)
                return 1
            for result in (base, with_cache):
                ratio = (
                    f"{result.rate / base.rate:.2f}x events/s,"
                    f" {base.cpu_ms / result.cpu_ms:.2f}x less CPU"
                )
                print(
                    f"{store:<9}{batch:>6}  {'cached' if result.cached else 'uncached':<9}"
                    f"{result.rate:>9,.0f}{result.cpu_ms:>10.3f}{result.loads:>8,}{result.stored:>8,}"
                    f"  {ratio if result.cached else 'baseline'}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())

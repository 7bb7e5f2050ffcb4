"""``python -m bench.ingest``: raw kafka-python consume rate against our end-to-end ingest.

One run publishes N realistic source events (``bench/events.py``) to one topic of six
partitions, then measures on that same topic and data:

1. **raw**: a kafka-python consumer-group member that only decodes each record
   (``orjson.loads``), nothing else;
2. **ingest → SQLite, → PostgreSQL**: the real ``IngestWorker`` from the composition root
   (``journey.bootstrap.build``) in this process: decode and validate, apply to the
   aggregates, store the new events with the partition's position in one transaction,
   commit to Kafka;
3. **one ``journey ingest`` process against three in one consumer group**, on PostgreSQL
   and on SQLite.

Clocks. (1) and (2) start once the first poll batch has been handled, so the group join,
the assignment and the seek are left out (and so are that batch's records). (3) starts
when the group is stable with every member holding partitions of the topic, and counts
the records stored after that moment; progress is read from the group's committed
offsets, which the worker commits right after each store commit. Every run ends by
checking that the store's position of each partition is the partition's end offset and
that no record went to the dead-letter topic: the data is valid, so a refusal is a bug.

Topics, consumer groups, PostgreSQL schemas and the data folder are unique to the run and
removed at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import logging
import os
import pstats
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaError

from adapters.sourcelog.base import Log, OutgoingRecord, TopicPartition
from adapters.topics import Topics
from application.service import JourneyApplication
from bench import machine, memory, streamfile
from bench.cpu import Snapshot, Usage
from bench.events import SourceRecord, mix
from bench.report import Figure, Ratio, ceiling, goal_entry, profile_summary, ratio, table
from journey.bootstrap import build, build_log
from journey.settings import Settings

PHASES = ("raw", "sqlite", "postgres", "group-postgres", "group-sqlite")
PHASE_STORES = ("postgres", "sqlite")
STORE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
POLL_INTERVAL_S = 0.05
"""How often the group phases look at the processes' output, the group and its offsets."""
STARTED = b"journey: ingesting"
"""What ``journey ingest`` prints once its runtime is built."""


class BenchError(Exception):
    """A run that cannot give a valid figure (timeout, refusal, dead process)."""


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    db: str
    user: str
    password: str

    @classmethod
    def from_env(cls) -> Postgres | None:
        env = os.environ
        if not env.get("JOURNEY_TEST_POSTGRES_HOST"):
            return None
        return cls(
            host=env["JOURNEY_TEST_POSTGRES_HOST"],
            port=int(env.get("JOURNEY_TEST_POSTGRES_PORT", "5432")),
            db=env.get("JOURNEY_TEST_POSTGRES_DB", "journey_test"),
            user=env.get("JOURNEY_TEST_POSTGRES_USER", "journey"),
            password=env.get("JOURNEY_TEST_POSTGRES_PASSWORD", ""),
        )

    def conninfo(self) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.host, port=self.port, dbname=self.db, user=self.user, password=self.password
        )

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.conninfo()) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'} at {self.host}:{self.port}"

    def drop_schemas(self, schemas: Sequence[str]) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            for schema in schemas:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


@dataclass
class Bench:
    kafka: str
    postgres: Postgres | None
    count: int
    partitions: int
    timeout_s: float
    workdir: Path
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    groups: list[str] = field(default_factory=list)
    schemas: list[str] = field(default_factory=list)
    master_key: str = field(
        default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    )
    """``JOURNEY_MASTER_KEY`` of the PostgreSQL runs (outside embedded mode the runtime
    refuses to start without one): random, the run's own."""

    @property
    def topics(self) -> Topics:
        return Topics(f"bench-{self.run}.", self.partitions)

    @property
    def topic(self) -> str:
        return self.topics.for_type("contact.opened")

    @property
    def topic_partitions(self) -> list[TopicPartition]:
        return [TopicPartition(self.topic, p) for p in range(self.partitions)]

    def group(self, name: str) -> str:
        group = f"bench-{self.run}-{name}"
        self.groups.append(group)
        return group

    def env(self, store: str, name: str) -> dict[str, str]:
        """The ``JOURNEY_*`` settings of one measured run; ``name`` makes it unique."""
        env = {
            "JOURNEY_LOG_BACKEND": "kafka",
            "JOURNEY_KAFKA_BOOTSTRAP": self.kafka,
            "JOURNEY_TOPIC_PREFIX": self.topics.prefix,
            "JOURNEY_TOPIC_PARTITIONS": str(self.partitions),
            "JOURNEY_CONSUMER_GROUP": self.group(name),
            "JOURNEY_DATA_DIR": str(self.workdir / name),
            "JOURNEY_STORE_BACKEND": store,
        }
        if store == "postgres":
            if self.postgres is None:
                raise BenchError("PostgreSQL is not configured (JOURNEY_TEST_POSTGRES_HOST)")
            schema = f"bench_{self.run}_{name.replace('-', '_')}"
            self.schemas.append(schema)
            env |= {
                "JOURNEY_POSTGRES_HOST": self.postgres.host,
                "JOURNEY_POSTGRES_PORT": str(self.postgres.port),
                "JOURNEY_POSTGRES_DB": self.postgres.db,
                "JOURNEY_POSTGRES_USER": self.postgres.user,
                "JOURNEY_POSTGRES_PASSWORD": self.postgres.password,
                "JOURNEY_POSTGRES_SCHEMA": schema,
                "JOURNEY_MASTER_KEY": self.master_key,
            }
        return env

    def deadline(self, what: str) -> Callable[[], None]:
        limit = time.monotonic() + self.timeout_s

        def check() -> None:
            if time.monotonic() > limit:
                raise BenchError(f"{what}: not done after {self.timeout_s:.0f} s")

        return check

    def admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=self.kafka, client_id="bench-admin")

    def log_settings(self) -> Settings:
        return Settings(log_backend="kafka", kafka_bootstrap=self.kafka)

    def log(self) -> Log:
        return build_log(self.log_settings())

    def end_offsets(self, topic: str) -> dict[TopicPartition, int]:
        admin = self.log().admin()
        try:
            return admin.end_offsets([TopicPartition(topic, p) for p in range(self.partitions)])
        finally:
            admin.close()

    def dead_letters(self) -> int:
        return sum(self.end_offsets(self.topics.dead_letters).values())

    def check_store(self, app: JourneyApplication, what: str) -> None:
        """Every partition's stored position is its end offset."""
        ends = self.end_offsets(self.topic)
        stored = {tp: app.next_offset(tp) for tp in ends}
        if stored != ends:
            raise BenchError(f"{what}: store positions {stored} are not the end offsets {ends}")


def settings_of(env: dict[str, str]) -> Settings:
    """Settings from ``JOURNEY_*`` values given here, over this process's environment."""
    return Settings.model_validate(
        {key.removeprefix("JOURNEY_").lower(): value for key, value in env.items()}
    )


@contextmanager
def no_new_dead_letters(bench: Bench, what: str) -> Iterator[None]:
    before = bench.dead_letters()
    yield
    refused = bench.dead_letters() - before
    if refused:
        raise BenchError(f"{what}: {refused} records were refused to the dead letters")


def say(line: str = "") -> None:
    print(line, flush=True)


# -- the phases ------------------------------------------------------------------------------


def publish(bench: Bench, records: Sequence[SourceRecord]) -> Figure:
    """Create the run's topics and publish the stream with the project's publisher."""
    log = bench.log()
    admin = log.admin()
    try:
        admin.create_topics(bench.topics.specs())
    finally:
        admin.close()
    publisher = log.publisher()
    started = time.perf_counter()
    try:
        for start in range(0, len(records), 5000):
            publisher.publish_many(
                [
                    OutgoingRecord(
                        bench.topic,
                        r.key.encode(),
                        r.value,
                        (
                            ("event_id", r.event_id.encode()),
                            ("type", r.type.encode()),
                            ("schema_version", str(r.schema_version).encode()),
                        ),
                    )
                    for r in records[start : start + 5000]
                ]
            )
    finally:
        publisher.close()
    seconds = time.perf_counter() - started
    placed = sum(bench.end_offsets(bench.topic).values())
    if placed != len(records):
        raise BenchError(f"published {len(records)} records but the topic holds {placed}")
    return Figure("publish (project publisher, acks=all)", len(records), seconds, "setup only")


def raw_consume(bench: Bench, max_records: int, profiler: cProfile.Profile | None = None) -> Figure:
    """A bare kafka-python group member: poll, ``orjson.loads`` each value, nothing else."""
    consumer = KafkaConsumer(
        bootstrap_servers=bench.kafka,
        group_id=bench.group("raw" + ("-profiled" if profiler else "")),
        client_id="bench-raw",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    consumer.subscribe([bench.topic])
    memory.reset_own_peak()
    check = bench.deadline("raw consume")
    read, first, started = 0, 0, 0.0
    if profiler:
        profiler.enable()
    try:
        while read < bench.count:
            got = 0
            for records in consumer.poll(timeout_ms=500, max_records=max_records).values():
                for record in records:
                    orjson.loads(record.value)
                got += len(records)
            read += got
            if not first and got:
                started, first, before = time.perf_counter(), got, Snapshot.take()
            check()
        ended = time.perf_counter()
        usage = Usage.between(before, Snapshot.take(), {os.getpid()})
    finally:
        if profiler:
            profiler.disable()
        consumer.close(autocommit=False)
    label = "raw kafka-python consume, orjson.loads only"
    peak = memory.peak(os.getpid())
    return Figure(label, read - first, ended - started, "1 member", usage, peak)


def ingest_here(
    bench: Bench, store: str, label: str, profiler: cProfile.Profile | None = None
) -> Figure:
    """The real IngestWorker, built by the composition root, driven in this process."""
    name = f"{store}-here" + ("-profiled" if profiler else "")
    memory.reset_own_peak()
    runtime = build(settings_of(bench.env(store, name)))
    check = bench.deadline(label)
    read, first, started = 0, 0, 0.0
    try:
        with no_new_dead_letters(bench, label):
            worker = runtime.ingest_worker()
            if profiler:
                profiler.enable()
            worker.start()
            while read < bench.count:
                got = worker.run_once(0.5)
                read += got
                if not first and got:
                    started, first, before = time.perf_counter(), got, Snapshot.take()
                check()
            ended = time.perf_counter()
            usage = Usage.between(before, Snapshot.take(), {os.getpid()})
            peak = memory.peak(os.getpid())
            if profiler:
                profiler.disable()
            worker.close()
        bench.check_store(runtime.app, label)
    finally:
        runtime.close()
    return Figure(label, read - first, ended - started, "IngestWorker, 1 member", usage, peak)


def _journey_command() -> list[str]:
    script = Path(sys.executable).with_name("journey")
    return [str(script)] if script.exists() else [sys.executable, "-m", "journey.cli"]


def _child_env(env: dict[str, str]) -> dict[str, str]:
    """Like this process's settings: the run's values over the inherited environment."""
    return dict(os.environ) | env


def _stable(admin: KafkaAdminClient, group: str, members: int, topic: str) -> bool:
    """The group is stable with ``members`` members, each holding partitions of ``topic``."""
    try:
        info: dict[str, Any] = admin.describe_groups([group])[group]
    except KafkaError:
        return False
    if info.get("group_state") != "Stable" or len(info.get("members") or []) != members:
        return False
    for member in info["members"]:
        assigned = member["member_assignment"]["assigned_partitions"]
        if not any(a["topic"] == topic and a["partitions"] for a in assigned):
            return False
    return True


def _committed(admin: KafkaAdminClient, group: str, partitions: list[TopicPartition]) -> int:
    wanted = [KafkaTopicPartition(tp.topic, tp.partition) for tp in partitions]
    offsets = admin.list_group_offsets({group: wanted}).get(group, {})
    return sum(max(0, o.offset) for o in offsets.values())


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (finish the batch, commit, leave the group); SIGKILL after 30 s."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ingest_group(bench: Bench, store: str, members: int) -> Figure:
    """``members`` processes of ``journey ingest`` in one consumer group."""
    label = f"journey ingest x{members} → {STORE_NAMES[store]}"
    name = f"{store}-x{members}"
    env = bench.env(store, name)
    group = env["JOURNEY_CONSUMER_GROUP"]
    # Build once here: creates the schema and tables before the processes would race to.
    runtime = build(settings_of(env))
    logs: list[IO[bytes]] = []
    processes: list[subprocess.Popen[bytes]] = []
    admin = bench.admin()
    check = bench.deadline(label)
    try:
        with no_new_dead_letters(bench, label):

            def alive() -> None:
                for n, process in enumerate(processes):
                    if process.poll() is not None:
                        tail = (bench.workdir / f"{name}.{n}.log").read_text()[-2000:]
                        raise BenchError(f"{label}: process {n} exited early:\n{tail}")
                check()

            for n in range(members):
                path = bench.workdir / f"{name}.{n}.log"
                logs.append(path.open("wb"))
                processes.append(
                    subprocess.Popen(
                        [*_journey_command(), "ingest"],
                        env=_child_env(env),
                        stdout=logs[-1],
                        stderr=subprocess.STDOUT,
                        cwd=bench.workdir,
                    )
                )
                # One at a time, each once it has built its runtime: started together on
                # PostgreSQL, eventsourcing's CREATE OR REPLACE FUNCTION at start-up races
                # ("tuple concurrently updated") and a process dies (docs/BENCHMARKS.md).
                while STARTED not in path.read_bytes():
                    alive()
                    time.sleep(POLL_INTERVAL_S)

            while not _stable(admin, group, members, bench.topic):
                alive()
                time.sleep(POLL_INTERVAL_S)
            started, before = time.perf_counter(), Snapshot.take()
            done_at_start = _committed(admin, group, bench.topic_partitions)
            while (done := _committed(admin, group, bench.topic_partitions)) < bench.count:
                alive()
                time.sleep(POLL_INTERVAL_S)
            ended = time.perf_counter()
            usage = Usage.between(before, Snapshot.take(), {p.pid for p in processes})
            peaks = [memory.peak(p.pid) for p in processes]
            _stop(processes)
        bench.check_store(runtime.app, label)
    finally:
        _stop(processes)
        for log in logs:
            log.close()
        admin.close()
        runtime.close()
    if done_at_start >= bench.count:
        return Figure(label, 0, 0.0, "not measured: all stored before the group was stable")
    note = f"{done_at_start:,} stored before the group was stable"
    peak = max((p for p in peaks if p is not None), default=None)
    return Figure(label, done - done_at_start, ended - started, note, usage, peak)


def cleanup(bench: Bench) -> None:
    admin = bench.admin()
    try:
        admin.delete_topics([spec.name for spec in bench.topics.specs()], raise_errors=False)
        admin.delete_groups(sorted(set(bench.groups)))
    except KafkaError as error:
        say(f"cleanup: Kafka: {error}")
    finally:
        admin.close()
    if bench.postgres is not None and bench.schemas:
        bench.postgres.drop_schemas(bench.schemas)
    shutil.rmtree(bench.workdir, ignore_errors=True)


# -- the command -----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.split("\n")[0]
    )
    root.add_argument("--events", type=int, default=30_000, help="N events (default 30000)")
    root.add_argument(
        "--sizes",
        help="comma-separated sizes, each measured on its own topics (overrides --events);"
        " a growth line compares the largest with the smallest",
    )
    root.add_argument("--seed", type=int, default=4, help="seed of the event stream")
    root.add_argument("--partitions", type=int, default=6)
    root.add_argument("--members", type=int, default=3, help="consumers in the group phase")
    root.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {', '.join(PHASES)}",
    )
    root.add_argument(
        "--kafka",
        default=os.environ.get("JOURNEY_TEST_KAFKA", "127.0.0.1:19092"),
        help="bootstrap servers (default $JOURNEY_TEST_KAFKA or 127.0.0.1:19092)",
    )
    root.add_argument("--timeout", type=float, default=900, help="seconds per phase")
    root.add_argument(
        "--profile",
        type=Path,
        help="after the measurements, ingest once more under cProfile; write the stats here",
    )
    root.add_argument(
        "--profile-phase",
        choices=("sqlite", "postgres", "raw"),
        default="sqlite",
        help="what --profile profiles: the ingest into sqlite (default) or postgres, or the"
        " raw consume",
    )
    root.add_argument("--keep", action="store_true", help="keep topics, schemas, data folder")
    root.add_argument("--summary", type=Path, help="also write the figures here as JSON")
    return root


@dataclass
class Results:
    """What a run measured so far: printed even when a later phase fails."""

    figures: list[Figure] = field(default_factory=list)
    found: dict[str, Figure] = field(default_factory=dict)
    profile: list[str] = field(default_factory=list)

    def measured(self, key: str, figure: Figure) -> None:
        self.found[key] = figure
        self.figures.append(figure)
        say(f"  {figure.label}: {figure.rate:,.0f} events/s ({figure.seconds:.2f} s)")

    def ratios(self, members: int) -> list[Ratio]:
        """Issue 18's goals, each against its baseline of the same run."""
        found = self.found
        return [
            ratio("ingest → SQLite / raw consume", found.get("sqlite"), found.get("raw"), 0.25),
            ratio(
                "ingest → PostgreSQL / raw consume", found.get("postgres"), found.get("raw"), 0.15
            ),
            ratio(
                f"journey ingest x{members} / x1, PostgreSQL",
                found.get("postgres-xN"),
                found.get("postgres-x1"),
                1.8,
            ),
            ratio(
                f"journey ingest x{members} / x1, SQLite",
                found.get("sqlite-xN"),
                found.get("sqlite-x1"),
                1.8,
            ),
        ]

    def notes(self, members: int) -> list[str]:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        bounds = [ceiling(self.found.get(f"{s}-x1"), members, cores) for s in PHASE_STORES]
        return [bound for bound in bounds if bound]


def run(args: argparse.Namespace, bench: Bench, results: Results) -> None:
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise BenchError(f"unknown phases {sorted(unknown)}; known: {', '.join(PHASES)}")
    max_records = bench.log_settings().poll_max_records

    started = time.perf_counter()
    records = streamfile.generated(bench.count, args.seed, bench.workdir)
    size = sum(len(r.value) for r in records)
    say(
        f"stream: {len(records):,} events for {len({r.key for r in records}):,} customers,"
        f" {size / len(records):.0f} bytes on average, seed {args.seed},"
        f" generated in {time.perf_counter() - started:.1f} s"
    )
    say("  mix: " + ", ".join(f"{kind} {n:,}" for kind, n in mix(records).most_common()))
    results.figures.append(publish(bench, records))
    say(f"published to {bench.topic} ({bench.partitions} partitions)")
    del records

    if "raw" in phases:
        results.measured("raw", raw_consume(bench, max_records))
    if "sqlite" in phases:
        results.measured("sqlite", ingest_here(bench, "sqlite", "ingest → SQLite"))
    if "postgres" in phases:
        results.measured("postgres", ingest_here(bench, "postgres", "ingest → PostgreSQL"))
    for store in PHASE_STORES:
        if f"group-{store}" in phases:
            results.measured(f"{store}-x1", ingest_group(bench, store, 1))
            results.measured(f"{store}-xN", ingest_group(bench, store, args.members))

    if args.profile is not None:
        profiler = cProfile.Profile()
        phase = args.profile_phase
        if phase == "raw":
            what = "raw consume"
            profiled = raw_consume(bench, max_records, profiler)
        else:
            what = f"ingest → {STORE_NAMES[phase]}"
            profiled = ingest_here(bench, phase, f"{what} under cProfile", profiler)
        say(f"  {what} under cProfile: {profiled.rate:,.0f} events/s (slowed by the profiler)")
        profiler.dump_stats(args.profile)
        results.profile = [
            f"profile of the {what} written to {args.profile}",
            *profile_summary(pstats.Stats(str(args.profile))),
        ]


def growth(by_size: dict[int, Results]) -> list[str]:
    """Largest against smallest size, per measurement made at both: events/s (flat means
    the time grows linearly with the events)."""
    sizes = sorted(by_size)
    if len(sizes) < 2:
        return []
    small, large = by_size[sizes[0]].found, by_size[sizes[-1]].found
    lines = [
        f"growth, {sizes[0]:,} → {sizes[-1]:,} events ({sizes[-1] / sizes[0]:.0f}x):",
        f"{'measurement':<44}  {'small':>9}  {'large':>9}  {'large/small':>11}",
    ]
    for key, a in small.items():
        b = large.get(key)
        if b is None or not a.rate:
            continue
        lines.append(
            f"{a.label:<44}  {a.rate:>9,.0f}  {b.rate:>9,.0f}  {b.rate / a.rate:>10.2f}x"
            "  events/s (flat = linear time)"
        )
    return lines


BASELINES = {
    "sqlite": "raw",
    "postgres": "raw",
    "sqlite-xN": "sqlite-x1",
    "postgres-xN": "postgres-x1",
}


def summary_rows(by_size: dict[int, Results], members: int) -> list[dict[str, Any]]:
    """What ``bench.suite`` prints in its one summary."""
    rows: list[dict[str, Any]] = []
    for size, results in sorted(by_size.items()):
        for key, figure in results.found.items():
            entry: dict[str, Any] = {
                "phase": "ingest",
                "size": size,
                "label": figure.label,
                "rate": figure.rate,
                "peaks_kib": {"process": figure.peak_kib},
            }
            base = results.found.get(BASELINES.get(key, ""))
            if base is not None and base.rate:
                entry |= {"baseline": base.label, "baseline_rate": base.rate}
                entry["ratio"] = figure.rate / base.rate
            rows.append(entry)
        rows.extend(goal_rows(results, members))
    return rows


GOAL_KEYS = {
    "ingest → SQLite / raw consume": ("sqlite", "raw"),
    "ingest → PostgreSQL / raw consume": ("postgres", "raw"),
}


def goal_rows(results: Results, members: int) -> list[dict[str, Any]]:
    """Each of issue 18's ingest goals with its figure, baseline, ratio and verdict."""
    rows: list[dict[str, Any]] = []
    for r in results.ratios(members):
        top_key, base_key = GOAL_KEYS.get(r.label) or (
            ("postgres-xN", "postgres-x1")
            if "PostgreSQL" in r.label
            else ("sqlite-xN", "sqlite-x1")
        )
        top, base = results.found.get(top_key), results.found.get(base_key)
        figure = f"{top.rate:,.0f} events/s" if top else "not measured"
        baseline = f"{base.label} {base.rate:,.0f} events/s" if base else ""
        met = None if r.value is None or r.goal is None else r.value >= r.goal
        rows.append(goal_entry(f"{r.label} ≥ {r.goal}x", figure, baseline, r.value, met))
    return rows


def measure_size(args: argparse.Namespace, size: int, results: Results) -> int:
    """One size: its own topics, groups, schemas and data folder, removed at the end."""
    bench = Bench(
        kafka=args.kafka,
        postgres=Postgres.from_env(),
        count=size,
        partitions=args.partitions,
        timeout_s=args.timeout,
        workdir=Path(tempfile.mkdtemp(prefix="journey-bench-")),
    )
    say(f"run {bench.run}: {size:,} events")
    status = 0
    try:
        run(args, bench, results)
    except BenchError as error:
        say(f"bench: error: {error}")
        status = 1
    except Exception:  # report what was measured so far, then the failure
        say(f"bench: error:\n{traceback.format_exc()}")
        status = 1
    finally:
        if args.keep:
            say(f"kept: topics {bench.topics.prefix}*, schemas {bench.schemas}, {bench.workdir}")
        else:
            cleanup(bench)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()}) if args.sizes else []
    sizes = sizes or [args.events]
    postgres = Postgres.from_env()
    admin = KafkaAdminClient(bootstrap_servers=args.kafka, client_id="bench-admin")
    broker = admin.describe_cluster()["brokers"][0]["broker_id"]
    kafka_version = f"{admin.get_broker_version_data(broker).broker_version_str} at {args.kafka}"
    admin.close()
    postgres_version = postgres.version() if postgres else "PostgreSQL not configured"
    say(f"journey ingest benchmark: {', '.join(f'{n:,}' for n in sizes)} events")
    for line in machine.describe(kafka_version, postgres_version):
        say(line)
    say(f"load average before: {machine.load()}")
    began = time.perf_counter()
    status = 0
    by_size: dict[int, Results] = {}
    for size in sizes:
        by_size[size] = Results()
        status |= measure_size(args, size, by_size[size])
        if status:
            break
    say(
        f"load average after: {machine.load()}; the whole run took"
        f" {time.perf_counter() - began:.0f} s"
    )
    for size, results in by_size.items():
        if results.figures:
            say()
            say(f"{size:,} events:")
            for line in table(results.figures, results.ratios(args.members)):
                say(line)
            for line in results.notes(args.members):
                say(line)
        if results.profile:
            say()
            for line in results.profile:
                say(line)
    lines = growth(by_size)
    if lines:
        say()
        for line in lines:
            say(line)
    if args.summary is not None:
        args.summary.write_bytes(orjson.dumps(summary_rows(by_size, args.members)))
    return status


if __name__ == "__main__":
    sys.exit(main())

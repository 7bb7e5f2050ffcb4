"""``python -m bench.cfpb_projections [--shares N] [--pragma NAME=VALUE] DATA_DIR``: the
read models' share of a CFPB catch-up, alone. In the data folder of a CFPB import
(``bench.cfpb_import --replay-projections``, or the one ``--keep-data DIR`` leaves;
``journey serve`` stopped), every projection's tables are emptied and its position set to
0, the audit chain's too; then the projection runner (as ``journey project`` runs it, the
cycle collector tuned alike) applies the whole notification log again, with nothing else
running: in this process, or with ``--shares N`` in N processes at once, each following
the log for its share of the read models (``JOURNEY_PROJECTION_SHARE``, as ``journey
serve`` runs them with ``JOURNEY_PROJECTION_PROCESSES``). Prints one JSON line:
notifications, applications (notifications times read models), wall seconds until the
last process was done, CPU seconds of them all, and the bytes they wrote (``wchar``).
``--pragma`` sets a PRAGMA of the read store's connections over the project's own, for
experiments with its SQLite settings (docs/BENCHMARKS.md, "What the read side's time is
made of").

Why: in the whole import the ingest, the timer and the read models share two cores, so
their figures move with each other and with the host. This is the floor the import cannot
go below while the read models follow the log in that many processes; its CPU per
notification is the figure to compare across changes of the read side.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _written_bytes() -> int:
    """Bytes this process has handed to ``write`` so far (``wchar``: the WAL's frames and
    the checkpoints' pages, whether or not they reached the disk yet)."""
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))


def use_pragmas(pragmas: Sequence[str]) -> None:
    """The read store's connections set these (``NAME=VALUE``) instead of, or beside, the
    ones of ``adapters.readstore.SQLITE_PRAGMAS``: for experiments with its settings."""
    import adapters.readstore

    names = {p.split("=", 1)[0].strip() for p in pragmas}
    kept = [p for p in adapters.readstore.SQLITE_PRAGMAS if p.split("=", 1)[0] not in names]
    adapters.readstore.SQLITE_PRAGMAS = (*kept, *pragmas)


def runtime_of(data_dir: Path, share: str | None = None) -> Any:
    """The runtime over a data folder of a CFPB import (embedded log, SQLite stores)."""
    os.environ.update(
        JOURNEY_LOG_BACKEND="embedded",
        JOURNEY_STORE_BACKEND="sqlite",
        JOURNEY_DATA_DIR=str(data_dir),
    )
    os.environ.pop("JOURNEY_PROJECTION_SHARE", None)
    if share is not None:
        os.environ["JOURNEY_PROJECTION_SHARE"] = share
    from journey.bootstrap import build
    from journey.settings import Settings

    return build(Settings())


def reset(data_dir: Path) -> int:
    """Every read model emptied and back at position 0; returns the log's head."""
    runtime = runtime_of(data_dir)
    try:
        for projection in runtime.projections:
            projection.drop_tables()
            projection.create_tables()
        chain = runtime.audit_chain
        with runtime.read_store.transaction() as cursor:
            for table in chain.tables:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute(
                "UPDATE projection_positions SET position = 0 WHERE name = :name",
                {"name": chain.position_name},
            )
        head: int = runtime.projection_runner.reader.head()
        return head
    finally:
        runtime.close()


def follow(data_dir: Path, share: str | None = None) -> dict[str, Any]:
    """The runner of ``share`` (all read models when None) until it applied everything."""
    from adapters.collector import freeze_start_up, tune_collector

    runtime = runtime_of(data_dir, share)
    try:
        freeze_start_up()  # as `journey project` runs the runner (adapters.collector)
        tune_collector()
        started_wall, started_cpu, started_written = time.perf_counter(), cpu_s(), _written_bytes()
        applied = 0
        while step := runtime.projection_runner.run_once():
            applied += step
        wall, cpu = time.perf_counter() - started_wall, cpu_s() - started_cpu
        written = _written_bytes() - started_written
        names = runtime.projection_runner.names
    finally:
        runtime.close()
    return {
        "share": share,
        "read_models": names,
        "applied": applied,
        "wall_s": wall,
        "cpu_s": cpu,
        "written_bytes": written,
    }


def replay(data_dir: Path, shares: int = 1, pragmas: Sequence[str] = ()) -> dict[str, Any]:
    notifications = reset(data_dir)
    if shares == 1:
        return {"notifications": notifications, "shares": 1} | follow(data_dir)
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.cfpb_projections",
                "--follow",
                f"{i}/{shares}",
                *(f"--pragma={p}" for p in pragmas),
                str(data_dir),
            ],
            stdout=subprocess.PIPE,
        )
        for i in range(1, shares + 1)
    ]
    each = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"a share's runner failed with {process.returncode}")
        each.append(orjson.loads(out.splitlines()[-1]))
    return {
        "notifications": notifications,
        "shares": shares,
        "applied": sum(e["applied"] for e in each),
        "wall_s": time.perf_counter() - started,
        "cpu_s": sum(e["cpu_s"] for e in each),
        "written_bytes": sum(e["written_bytes"] for e in each),
        "each": each,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cfpb_projections")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--shares", type=int, default=1, help="processes at once (default 1)")
    parser.add_argument("--follow", metavar="I/N", help=argparse.SUPPRESS)  # one share's process
    parser.add_argument(
        "--pragma",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PRAGMA the read store's connections set, over adapters.readstore's (repeatable;"
        " one a connection can change: synchronous, cache_size, wal_autocheckpoint...)",
    )
    args = parser.parse_args(argv)
    if args.shares < 1:
        parser.error("--shares: at least 1")
    if any("=" not in p for p in args.pragma):
        parser.error("--pragma: NAME=VALUE")
    use_pragmas(args.pragma)
    found = (
        follow(args.data_dir, args.follow)
        if args.follow
        else replay(args.data_dir, args.shares, args.pragma)
    )
    print(orjson.dumps(found).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.cfpb_projections DATA_DIR``: the read models' share of a CFPB catch-up,
alone: in the data folder ``bench.cfpb_import --replay-projections`` leaves (``journey
serve`` stopped), every projection's tables are emptied and its position set to 0, the
audit chain's too, and the projection runner (as ``journey project`` runs it, the cycle
collector tuned alike) applies the whole notification log again in this process, with
nothing else running. Prints one JSON line: notifications, applications (notifications
times read models), wall and CPU seconds.

Why: in the whole import the ingest, the timer and the read models share two cores, so
their figures move with each other and with the host. This is the floor the import cannot
go below while the read models follow the log in one process; its CPU per notification is
the figure to compare across changes of the read side.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import orjson


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def replay(data_dir: Path) -> dict[str, float | int]:
    os.environ.update(
        JOURNEY_LOG_BACKEND="embedded",
        JOURNEY_STORE_BACKEND="sqlite",
        JOURNEY_DATA_DIR=str(data_dir),
    )
    from adapters.collector import freeze_start_up, tune_collector
    from journey.bootstrap import build
    from journey.settings import Settings

    runtime = build(Settings())
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
        notifications = runtime.projection_runner.reader.head()
        freeze_start_up()  # as `journey project` runs the runner (adapters.collector)
        tune_collector()
        started_wall, started_cpu = time.perf_counter(), _cpu_s()
        applied = 0
        while step := runtime.projection_runner.run_once():
            applied += step
        wall, cpu = time.perf_counter() - started_wall, _cpu_s() - started_cpu
    finally:
        runtime.close()
    return {"notifications": notifications, "applied": applied, "wall_s": wall, "cpu_s": cpu}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m bench.cfpb_projections DATA_DIR", file=sys.stderr)
        return 2
    print(orjson.dumps(replay(Path(args[0]))).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

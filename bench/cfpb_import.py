"""``python -m bench.cfpb_import``: ``journey import cfpb`` into embedded mode, until every
read model has caught up (issue 18: ≤ 60 s for the whole Bank of America file).

In a fresh data folder (embedded log, SQLite store): the clock starts, ``journey import
cfpb --data FILE [--limit N] --new-store`` publishes the data set to the embedded log, then
``journey serve`` (its workers: ingest, projections, timer) applies it; its ``/metrics`` is
scraped every ``--poll`` seconds (every 5 while far behind) until the ingest lag, every
read model's lag and the timer's backlog are 0. The clock stops at the first answer saying
so (so the figure is at most one poll late). Baseline, in the same run: the import alone
(the log's write side), so the ratio says what the ingest and the read models add. No
records may be dead-lettered.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from bench import machine
from bench.http_publish import _free_port, _journey_command

DEFAULT_DATA = Path("/work/shared/data/cfpb-complaints-bank-of-america")
GOAL_S = 60.0


class BenchError(Exception):
    pass


def say(line: str = "") -> None:
    print(line, flush=True)


def _env(workdir: Path, shares: int = 1) -> dict[str, str]:
    return dict(os.environ) | {
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_DATA_DIR": str(workdir / "data"),
        "JOURNEY_PROJECTION_PROCESSES": str(shares),
    }


def status_of(metrics_text: str) -> dict[str, Any]:
    """What ``caught_up`` reads, from a scrape of ``/metrics``: the ingest lag summed over
    the partitions, every read model's lag, the timer's backlog and the dead letters, as
    ``journey status --json`` names them. Empty when the scrape could not read the log or
    the store (``journey_status_up`` 0)."""
    values: dict[str, float] = {}
    ingest_lag = 0.0
    lags: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "journey_ingest_lag":
                ingest_lag += sample.value
            elif sample.name == "journey_projection_lag":
                lags[sample.labels["projection"]] = sample.value
            else:
                values[sample.name] = sample.value
    if values.get("journey_status_up") != 1:
        return {}
    return {
        "ingest_lag": int(ingest_lag),
        "projections": [{"name": name, "lag": int(lag)} for name, lag in lags.items()],
        "timer_backlog": int(values["journey_timer_backlog_deadlines"]),
        "dead_letters": int(values["journey_dead_letters"]),
        "notifications": int(values["journey_notifications_max_id"]),
    }


FAR_POLL_S = 5.0
"""Seconds between scrapes while far from caught up. A scrape is not free: the status it
reads counts the open deadlines by rule (a scan of a table that holds hundreds of
thousands of rows during the catch-up), ≈ 50 ms of the serve's CPU, which its ingest and
timer share; scraped every second, that was 11 % of the serve's profile."""

NEAR_LAG = 50_000
"""Stored events behind, from which the bench scrapes every ``--poll`` seconds."""


def nearly_caught_up(status: dict[str, Any]) -> bool:
    """The ingest done and every read model within ``NEAR_LAG`` of the head (or nothing
    known yet: the serve starting)."""
    if not status:
        return True
    lags = [p["lag"] for p in status["projections"]]
    return status["ingest_lag"] == 0 and max(lags, default=0) < NEAR_LAG


class Timeline:
    """When, since the import started, the ingest had stored every record (its lag first
    0), and when the last stored event appeared (the timer's last breach, mostly): what the
    read models still had to apply after that is theirs alone."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.ingest_done_s: float | None = None
        self.last_event_s: float | None = None
        self._notifications = -1

    def saw(self, status: dict[str, Any]) -> None:
        if not status:
            return
        now = time.perf_counter() - self.started
        if self.ingest_done_s is None and status["ingest_lag"] == 0 and status["notifications"]:
            self.ingest_done_s = now
        if status["notifications"] != self._notifications:
            self._notifications, self.last_event_s = status["notifications"], now


def _scrape(url: str) -> dict[str, Any]:
    """``journey serve``'s ``/metrics``, as Prometheus scrapes it: answered by the running
    process. (Running ``journey status`` instead built the whole runtime in a new process
    every poll: ≈ 1.1 CPU s each, a third of a core taken from the import measured.)"""
    try:
        answer = httpx.get(f"{url}/metrics", timeout=30)
    except httpx.TransportError:  # not listening yet
        return {}
    return status_of(answer.text) if answer.status_code == 200 else {}


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds a live process, and its live children together (the
    workers ``journey serve`` runs in processes of their own), have used
    (``/proc/<pid>/stat``)."""
    own = children = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        used = int(fields[11]) + int(fields[12])
        if stat.parent.name == str(pid):
            own += used
        elif fields[1] == str(pid):
            children += used
    tick = os.sysconf("SC_CLK_TCK")
    return own / tick, children / tick


def projected(status: dict[str, Any]) -> bool:
    """Every record stored and every read model up to date."""
    projections = status.get("projections") or []
    return status["ingest_lag"] == 0 and all(p["lag"] == 0 for p in projections)


def caught_up(status: dict[str, Any]) -> bool:
    """Every record stored, every read model up to date, and every deadline the
    watermark passed breached: the figures an analyst sees are the final ones."""
    return projected(status) and status.get("timer_backlog", 0) == 0


def measure(
    data: Path,
    limit: int | None,
    poll_s: float,
    timeout_s: float,
    replay: bool = False,
    shares: int = 1,
    keep: Path | None = None,
) -> dict[str, Any]:
    """The import, then ``journey serve`` (its read models shared among ``shares``
    processes) until caught up; with ``replay``, also the read models alone over what was
    stored, in as many processes (``bench.cfpb_projections``). The data folder is removed
    at the end, or moved to ``keep`` (for ``bench.cfpb_projections`` runs of its own)."""
    workdir = Path(tempfile.mkdtemp(prefix="journey-bench-cfpb-"))
    try:
        found = _measure(workdir, data, limit, poll_s, timeout_s, shares)
        if replay:
            found["replay"] = _replay(workdir / "data", shares)
        if keep is not None:
            shutil.move(workdir / "data", keep)
        return found
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _replay(data_dir: Path, shares: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cfpb_projections", "--shares", str(shares), str(data_dir)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(
            f"projections replay failed: {done.stderr.decode(errors='replace')[-800:]}"
        )
    answer: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return answer


def _measure(
    workdir: Path,
    data: Path,
    limit: int | None,
    poll_s: float,
    timeout_s: float,
    shares: int = 1,
    workers: str | None = None,
    done: Callable[[dict[str, Any]], bool] = caught_up,
) -> dict[str, Any]:
    """The import, then ``journey serve`` until ``done`` says so of its ``/metrics``;
    ``workers``: its ``JOURNEY_WORKERS`` (default: the settings' own, all of them). When
    it returns, no process of the serve has the data folder open any more."""
    env = _env(workdir, shares)
    if workers is not None:
        env["JOURNEY_WORKERS"] = workers
    command = [*_journey_command(), "import", "cfpb", "--data", str(data), "--new-store", "--json"]
    if limit is not None:
        command += ["--limit", str(limit)]
    started = time.perf_counter()
    imported = subprocess.run(command, env=env, capture_output=True, check=False)
    import_s = time.perf_counter() - started
    if imported.returncode != 0:
        raise BenchError(
            f"journey import failed: {imported.stderr.decode(errors='replace')[-800:]}"
        )
    summary = orjson.loads(imported.stdout)
    published = int(summary.get("published") or summary.get("events_published") or 0)
    log_path = workdir / "serve.log"
    port = _free_port()
    with log_path.open("wb") as log:
        serve = subprocess.Popen(
            [*_journey_command(), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        timeline = Timeline(started)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if serve.poll() is not None:
                    raise BenchError(f"journey serve exited:\n{log_path.read_text()[-2000:]}")
                status = _scrape(f"http://127.0.0.1:{port}")
                timeline.saw(status)
                if status and done(status):
                    break
                if time.monotonic() > deadline:
                    raise BenchError(f"not caught up after {timeout_s:.0f} s: {status}")
                time.sleep(poll_s if nearly_caught_up(status) else max(poll_s, FAR_POLL_S))
            total_s = time.perf_counter() - started
            serve_cpu_s, children_cpu_s = cpu_seconds(serve.pid)
        finally:
            serve.terminate()
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
    wait_closed(workdir / "data", timeout_s=60)
    if status.get("dead_letters"):
        raise BenchError(f"{status['dead_letters']} records were dead-lettered")
    return {
        "published": published,
        "import_s": import_s,
        "total_s": total_s,
        "ingest_done_s": timeline.ingest_done_s,
        "last_event_s": timeline.last_event_s,
        "serve_cpu_s": serve_cpu_s + children_cpu_s,
        "serve_own_cpu_s": serve_cpu_s,
        "projections": [p["name"] for p in status.get("projections") or []],
        "summary": summary,
    }


def wait_closed(data_dir: Path, timeout_s: float) -> None:
    """Until no process has the data folder as its ``JOURNEY_DATA_DIR``: the read models'
    child of ``journey serve`` outlives it by a moment, and what follows (a replay, a copy,
    a move) must not find the stores still in use."""
    mark = f"JOURNEY_DATA_DIR={data_dir}".encode()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        users = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if mark in environ.read_bytes().split(b"\0"):
                    users.append(environ.parent.name)
            except OSError:  # gone meanwhile, or not ours to read
                continue
        if not users:
            return
        time.sleep(0.2)
    raise BenchError(f"processes still use {data_dir} after {timeout_s:.0f} s")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bench.cfpb_import", description=__doc__)
    root.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the CFPB data folder or CSV")
    root.add_argument("--limit", type=int, help="the first N complaints (default: all)")
    root.add_argument("--poll", type=float, default=1.0, help="seconds between scrapes of /metrics")
    root.add_argument("--timeout", type=float, default=1800)
    root.add_argument("--summary", type=Path, help="also write the figures here as JSON")
    root.add_argument(
        "--replay-projections",
        action="store_true",
        help="then apply the stored events again with the read models alone, and print"
        " their CPU per notification (bench.cfpb_projections)",
    )
    root.add_argument(
        "--projection-processes",
        type=int,
        default=1,
        help="journey serve's JOURNEY_PROJECTION_PROCESSES, and the replay's processes (default 1)",
    )
    root.add_argument(
        "--keep-data",
        type=Path,
        metavar="DIR",
        help="move the data folder (log, store, read models) to DIR, which must not exist,"
        " instead of removing it: the DATA_DIR of bench.cfpb_projections",
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    root = parser()
    args = root.parse_args(argv)
    if args.keep_data is not None and args.keep_data.exists():
        root.error(f"--keep-data: {args.keep_data} exists")
    say(f"journey import cfpb benchmark: {args.data}, limit {args.limit or 'none'}")
    for line in machine.describe("not used (embedded log)", "not used (embedded SQLite store)"):
        say(line)
    say(f"load average before: {machine.load()}")
    try:
        found = measure(
            args.data,
            args.limit,
            args.poll,
            args.timeout,
            args.replay_projections,
            args.projection_processes,
            args.keep_data,
        )
    except BenchError as error:
        say(f"bench: error: {error}")
        return 1
    say(f"load average after: {machine.load()}")
    n, total, alone = found["published"], found["total_s"], found["import_s"]
    full = args.limit is None
    verdict = ("met" if total <= GOAL_S else "MISSED") if full else "not judged (--limit)"
    say(
        f"published {n:,} source events; import alone {alone:.1f} s ({n / alone:,.0f} events/s);"
        f" until {len(found['projections'])} read models and the timer caught up {total:.1f} s"
        f" ({n / total:,.0f} events/s); ratio {alone / total:.3f}x the import alone"
    )
    cpu, own = found["serve_cpu_s"], found["serve_own_cpu_s"]
    say(
        f"journey serve and its workers used {cpu:.1f} CPU s until caught up:"
        f" {cpu / n * 1e6:,.0f} µs per source event, {cpu / total:.2f} cores"
        f" (serve itself: ingest, timer, API {own:.1f} s; its children {cpu - own:.1f} s)"
    )
    if found["ingest_done_s"] is not None and found["last_event_s"] is not None:
        say(
            f"timeline (s since the import started, as polled): the ingest had stored every"
            f" record at {found['ingest_done_s']:.1f}; the last stored event appeared at"
            f" {found['last_event_s']:.1f} (the timer's breaches); every read model caught up"
            f" at {total:.1f}"
        )
    if "replay" in found:
        r = found["replay"]
        say(
            f"read models alone, again over the {r['notifications']:,} stored events"
            f" in {r['shares']} process{'es' if r['shares'] > 1 else ''}:"
            f" {r['wall_s']:.1f} s, {r['cpu_s']:.1f} CPU s,"
            f" {r['cpu_s'] / r['notifications'] * 1e6:,.0f} µs per stored event"
            f" ({r['notifications'] / n:.2f} stored events per source event)"
        )
    say(f"goal: the whole file ≤ {GOAL_S:.0f} s: {verdict}")
    if args.summary is not None:
        goal = {
            "goal": f"journey import cfpb, embedded, until read models caught up ≤ {GOAL_S:.0f} s",
            "figure": f"{total:.1f} s for {n:,} events ({n / total:,.0f}/s)",
            "baseline": f"import alone {alone:.1f} s",
            "ratio": alone / total,
            "verdict": verdict,
        }
        rows = [
            {
                "phase": "cfpb import",
                "size": n,
                "label": "journey import cfpb → read models caught up",
                "rate": n / total,
                "baseline": "journey import alone",
                "baseline_rate": n / alone,
                "ratio": alone / total,
            },
            goal,
        ]
        args.summary.write_bytes(orjson.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A real ``journey serve`` for the console's browser tests, seeded with a simulation
published to its embedded log (bad records among them, so there are dead letters: the API
would refuse those at the door), and waited for until every record is consumed and every
read model has caught up."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson

from tests.e2e.journey_service import Running, Service, development_keys, free_port
from tests.factories import unique
from tests.integration.metrics_text import samples

SIMULATION = ("--customers", "40", "--days", "21", "--seed", "5", "--bad-rate", "0.05")


def _settled(url: str, published: int) -> tuple[float, ...] | None:
    """The store's head once every published record is consumed and no read model lags."""
    metrics = samples(httpx.get(f"{url}/metrics", timeout=10).text)

    def total(name: str) -> float:
        return sum(v for (n, _), v in metrics.items() if n == name)

    ends = total("journey_ingest_log_end_offset")
    if ends < published or total("journey_ingest_lag") or total("journey_projection_lag"):
        return None
    return (ends, total("journey_notifications_max_id"))


def wait_settled(url: str, published: int, timeout_s: float = 180) -> None:
    """Until the service has applied everything: two looks in a row see the same head."""
    deadline = time.monotonic() + timeout_s
    before = None
    while True:
        now = _settled(url, published)
        if now is not None and now == before:
            return
        before = now
        assert time.monotonic() < deadline, "the service did not settle"
        time.sleep(0.2)  # polling a condition with a deadline, not synchronising


@contextmanager
def seeded_service(folder: Path) -> Iterator[tuple[Running, Path]]:
    """``journey serve`` (embedded log, SQLite) with a simulation applied; its keys and
    its data folder."""
    port = free_port()
    data = folder / "data"
    env = {
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_DATA_DIR": str(data),
        "JOURNEY_TOPIC_PREFIX": unique("t") + ".",
        "JOURNEY_CONSUMER_GROUP": unique("g"),
        "JOURNEY_PORT": str(port),
    }
    service = Service(env, folder)
    url = f"http://127.0.0.1:{port}"
    try:
        service.start("serve")
        service.wait_healthy(url)
        keys = development_keys((folder / "serve.log").read_text())
        done = subprocess.run(
            [sys.executable, "-m", "journey.cli", "simulate", *SIMULATION, "--json"],
            capture_output=True,
            text=True,
            timeout=300,
            env={**service.env, "PYTHONPATH": str(Path(__file__).parents[2])},
        )
        assert done.returncode == 0, done.stderr
        wait_settled(url, sum(orjson.loads(done.stdout)["records_by_topic"].values()))
        yield Running(url, keys), data
    finally:
        service.stop()

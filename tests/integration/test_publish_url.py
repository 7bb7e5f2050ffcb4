"""``journey simulate --url --key``: a running service receives and applies what is
published, from any folder; a wrong key fails in one line; without ``--url`` a fresh data
folder is refused instead of silently becoming a store no service reads (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.e2e.journey_service import Running, Service, development_keys, free_port
from tests.factories import unique
from tests.integration.datasets import data_set
from tests.integration.metrics_text import samples


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """``journey serve`` (embedded) as a real process; its development keys."""
    tmp_path = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_DATA_DIR": str(tmp_path / "data"),
        "JOURNEY_TOPIC_PREFIX": unique("t") + ".",
        "JOURNEY_CONSUMER_GROUP": unique("g"),
        "JOURNEY_PORT": str(port),
    }
    service = Service(env, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        service.start("serve")
        service.wait_healthy(url)
        keys = development_keys((tmp_path / "serve.log").read_text())
        assert "channel" in keys, service.output()
        yield Running(url, keys)
    finally:
        service.stop()


def elsewhere_env() -> dict[str, str]:
    """The environment of someone in another folder: no JOURNEY_* settings at all."""
    return {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}


def journey(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journey.cli", *argv],
        cwd=cwd,
        env={**elsewhere_env(), "PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=300,
    )


SIMULATE = ("simulate", "--customers", "8", "--days", "10", "--seed", "3", "--json")


def stored(url: str) -> float:
    metrics = samples(httpx.get(f"{url}/metrics", timeout=10).text)
    return sum(v for (name, _), v in metrics.items() if name == "journey_ingest_stored_offset")


def test_simulate_over_url_is_applied_by_the_running_service(
    running: Running, tmp_path: Path
) -> None:
    before = stored(running.url)
    done = journey(tmp_path, *SIMULATE, "--url", running.url, "--key", running.keys["channel"])
    assert done.returncode == 0, done.stderr
    summary = orjson.loads(done.stdout)
    assert summary["events"] > 0
    key_id = running.keys["channel"].split("_")[1]
    assert f"publishing to {running.url} (key jk_{key_id}_…)" in done.stderr
    assert running.keys["channel"] not in done.stderr  # the secret is never shown
    assert list(tmp_path.iterdir()) == []  # no data folder, no master key made here
    deadline = time.monotonic() + 120
    while stored(running.url) < before + summary["events"]:
        assert time.monotonic() < deadline, "the service did not apply the simulated events"
        time.sleep(0.1)  # polling a condition with a deadline, not synchronising
    assert stored(running.url) == before + summary["events"]


def test_import_over_url_is_applied_by_the_running_service(
    running: Running, tmp_path: Path
) -> None:
    before = stored(running.url)
    olist = str(data_set("olist-ecommerce"))
    argv = ("import", "olist", "--data", olist, "--limit", "20", "--json")
    done = journey(tmp_path, *argv, "--url", running.url, "--key", running.keys["channel"])
    assert done.returncode == 0, done.stderr
    published = orjson.loads(done.stdout)["events_published"]
    assert published > 0
    assert list(tmp_path.iterdir()) == []
    deadline = time.monotonic() + 120
    while stored(running.url) < before + published:
        assert time.monotonic() < deadline, "the service did not apply the imported events"
        time.sleep(0.1)  # polling a condition with a deadline, not synchronising


def test_a_wrong_key_fails_in_one_line(running: Running, tmp_path: Path) -> None:
    wrong = "jk_nosuchkey_" + "x" * 43
    done = journey(tmp_path, *SIMULATE, "--url", running.url, "--key", wrong)
    assert done.returncode == 1, done.stderr
    (line,) = [ln for ln in done.stderr.splitlines() if ln.startswith("journey: ")]
    assert "401" in line
    assert running.url in line
    assert wrong not in done.stderr
    assert done.stdout == ""


def test_without_url_a_fresh_data_folder_is_refused(tmp_path: Path) -> None:
    done = journey(tmp_path, *SIMULATE)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("journey: simulate: no embedded log in ")
    for hint in ("--url", "JOURNEY_API_URL", "JOURNEY_DATA_DIR", "--new-store"):
        assert hint in line
    assert list(tmp_path.iterdir()) == []  # nothing created: no var/, no master key

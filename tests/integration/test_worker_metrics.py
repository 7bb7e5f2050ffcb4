"""``journey ingest``, ``project`` and ``timer`` serve ``/metrics`` on JOURNEY_METRICS_PORT
(issue 17, item 5): a scaled deployment scrapes each worker, and the ingest's own counts are
no longer kept to itself. Run as real processes on every pairing; the scrape is polled until
the server answers, with a deadline, and the process stops cleanly on SIGTERM."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from contracts.clock_needs import CLOCK_NEEDS
from journey.bootstrap import Runtime
from tests.integration.drive import env_of
from tests.integration.processes import JourneyProcesses

CLOCK_RULES = {need.rule.partition(" ")[0] for need in CLOCK_NEEDS}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int, deadline_s: float = 60) -> dict[str, float]:
    """The samples of ``http://127.0.0.1:<port>/metrics`` once it answers."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                text = answer.read().decode()
            break
        except OSError:
            assert time.monotonic() < deadline, f"nothing answered on port {port}"
            time.sleep(0.05)  # polling the condition, not standing in for it
    return {
        sample.name + str(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.parametrize(("command", "worker"), [("ingest", "ingest"), ("project", "project")])
def test_a_worker_process_serves_its_metrics(
    runtime: Runtime, tmp_path: Path, command: str, worker: str
) -> None:
    port = free_port()
    processes = JourneyProcesses(env_of(runtime.settings), tmp_path / "logs")
    try:
        processes.start(worker, command, JOURNEY_METRICS_PORT=str(port))
        got = scrape(port)
        assert got["journey_status_up[]"] == 1
        assert any(name.startswith("journey_projection_position") for name in got)
        assert not any("_created" in name for name in got)
        breached = {name for name in got if name.startswith("journey_breached_deadlines[")}
        assert breached == {
            f"journey_breached_deadlines[('rule', '{rule}')]" for rule in CLOCK_RULES
        }  # every rule with a clock, read from the KPI counters of the shared store
        processes.stop(worker)
    finally:
        processes.close()

"""The thin slice through a real uvicorn server on loopback, as a channel and an analyst
use it: POST an event, read it back from the complaint ledger.

Embedded: one ``journey serve`` process runs API, ingest and projection. Scaled: the API,
an ingest consumer and a projection worker run as three processes against a real Kafka
broker and a real PostgreSQL, as in the compose file.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PostgresServer
from tests.factories import contact_opened, unique

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Service:
    """``journey <command>`` processes sharing one settings environment."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, **env}
        self.logs = logs
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, *command: str, **extra_env: str) -> None:
        log = (self.logs / f"{'-'.join(command)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "journey.cli", *command],
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append((" ".join(command), process))

    def output(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.logs.glob("*.log"))
        )

    def wait_healthy(self, base_url: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    pytest.fail(f"`journey {name}` exited early:\n{self.output()}")
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"service not ready after {timeout_s}s:\n{self.output()}")

    def stop(self) -> None:
        for _, process in self.processes:
            process.terminate()
        for _, process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


MODES = ["embedded", pytest.param("scaled", marks=[pytest.mark.kafka, pytest.mark.postgres])]


@pytest.fixture(scope="module", params=MODES)
def base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One running service per mode, shared by this module's tests (each test uses its
    own customers and events)."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    port = free_port()
    env = {
        "JOURNEY_DATA_DIR": str(tmp_path / "data"),
        "JOURNEY_TOPIC_PREFIX": unique("t") + ".",
        "JOURNEY_CONSUMER_GROUP": unique("g"),
        "JOURNEY_PORT": str(port),
    }
    if request.param == "scaled":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        env |= server.settings_env(unique("e2e_"))
        env |= {
            "JOURNEY_LOG_BACKEND": "kafka",
            "JOURNEY_KAFKA_BOOTSTRAP": request.getfixturevalue("kafka_bootstrap"),
        }
    service = Service(env, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        if request.param == "scaled":
            service.start("topics", "create")
            _, topics = service.processes.pop()
            assert topics.wait(60) == 0, service.output()
            service.start("serve", JOURNEY_WORKERS="")
            service.start("ingest")
            service.start("project")
        else:
            service.start("serve")
        service.wait_healthy(url)
        yield url
    finally:
        service.stop()
        print(service.output())


def test_a_published_contact_appears_in_the_complaint_ledger(base_url: str) -> None:
    customer = unique("cust-")
    first = contact_opened(customer_id=customer, contact_id="c-1", channel="app")
    answer = httpx.post(f"{base_url}/v1/events", json=first, timeout=30)
    assert answer.status_code == 202, answer.text
    [accepted] = answer.json()["accepted"]
    assert accepted["event_id"] == first["event_id"]
    assert (
        accepted["position"] == f"{accepted['topic']}:{accepted['partition']}:{accepted['offset']}"
    )

    # The same case continued on another channel (R-CH-01), published as a batch of one.
    second = contact_opened(customer_id=customer, contact_id="c-2", case_id="c-1", channel="phone")
    answer = httpx.post(f"{base_url}/v1/events", json=[second], timeout=30)
    assert answer.status_code == 202, answer.text
    position = answer.json()["accepted"][0]["position"]

    ledger = httpx.get(
        f"{base_url}/v1/complaints", params={"consistent_with": position}, timeout=30
    )
    assert ledger.status_code == 200, ledger.text
    [row] = [r for r in ledger.json()["items"] if r["customer_id"] == customer]
    assert row["case_ref"] == "c-1"
    assert row["channels"] == ["app", "phone"]
    assert row["contacts"] == 2
    assert row["classification"] == "complaint"
    assert row["opened_at"] == "2026-03-02T01:30:00+00:00"
    assert row["status"] == "open"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"schema_version": "1"}, "schema_version"),
        ({"type": "contact.vanished"}, "type"),
        ({"event_id": None}, "event_id"),
    ],
)
def test_an_invalid_envelope_gets_422_naming_the_field(
    base_url: str, change: dict[str, object], field: str
) -> None:
    body = {**contact_opened(), **change}
    answer = httpx.post(f"{base_url}/v1/events", json=body, timeout=30)
    assert answer.status_code == 422, answer.text
    assert [p["field"] for p in answer.json()["problems"]] == [field]
    assert field in answer.json()["detail"]

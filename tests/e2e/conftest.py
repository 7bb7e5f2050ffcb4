"""A running service for e2e tests: ``journey`` processes on loopback, embedded (one
``journey serve``) or scaled (API, ingest and projection processes on a real Kafka broker
and a real PostgreSQL, as in the compose file)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import unique
from tests.services import PostgresServer


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


Auth = Callable[[str], dict[str, str]]
"""``auth("analyst")``: the headers that authenticate as a key of that role."""

ROLES = ("channel", "analyst", "auditor", "admin")


@dataclass(frozen=True)
class Running:
    url: str
    keys: dict[str, str]
    """role -> API key"""

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def development_keys(output: str) -> dict[str, str]:
    """The keys ``journey serve`` printed on its first embedded start."""
    keys = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "journey:" and words[1] in ROLES:
            keys[words[1]] = words[2]
    return keys


MODES = ["embedded", pytest.param("scaled", marks=[pytest.mark.kafka, pytest.mark.postgres])]


@pytest.fixture(scope="module", params=MODES)
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """One running service per mode, shared by this module's tests (each test uses its
    own customers and events), and a key for each role: embedded, the development keys
    ``journey serve`` prints on its first start; scaled, keys made with ``journey keys
    create`` before the API starts (it refuses to start without an admin key)."""
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
            keys = {role: _create_key(service, role) for role in ROLES}
            service.start("serve", JOURNEY_WORKERS="")
            service.start("ingest")
            service.start("project")
        else:
            service.start("serve")
        service.wait_healthy(url)
        if request.param == "embedded":
            keys = development_keys((tmp_path / "serve.log").read_text())
        assert set(keys) == set(ROLES), service.output()
        yield Running(url, keys)
    finally:
        service.stop()
        print(service.output())


def _create_key(service: Service, role: str) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "journey.cli", "keys", "create", "--role", role, "--json"],
        env=service.env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    key: str = json.loads(made.stdout)["key"]
    return key


@pytest.fixture(scope="module")
def base_url(running: Running) -> str:
    return running.url


@pytest.fixture(scope="module")
def auth(running: Running) -> Auth:
    return running.auth

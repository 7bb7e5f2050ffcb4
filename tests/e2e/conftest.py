"""A running service for e2e tests: ``journey`` processes on loopback, embedded (one
``journey serve``) or scaled (API, ingest and projection processes on a real Kafka broker
and a real PostgreSQL, as in the compose file)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.journey_service import ROLES, Auth, Running, Service, development_keys, free_port
from tests.factories import unique
from tests.services import PostgresServer

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

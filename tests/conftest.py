"""Shared fixtures: the real services the integration and e2e tiers talk to.

``make test`` starts a real Kafka broker and a real PostgreSQL on loopback and exports
where they are (``JOURNEY_TEST_KAFKA``, ``JOURNEY_TEST_POSTGRES_*``). Outside CI a test
whose service is absent is skipped with the reason; with ``CI=true`` it fails, and so
does any skip at all: in CI every test must run.

Fixtures more than one tier uses are plugins in ``tests/fixtures``, registered here by
``pytest_plugins``; test modules import helpers (``tests/services.py``,
``tests/builders``), never a conftest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import unique
from tests.services import PostgresServer

pytest_plugins = ["tests.fixtures.apps", "tests.fixtures.readmodels"]

IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing(what: str) -> None:
    message = f"{what} is not configured; run the suite with `make test`"
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    address = os.environ.get("JOURNEY_TEST_KAFKA", "")
    if not address:
        _missing("Kafka (JOURNEY_TEST_KAFKA)")
    return address


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    env = os.environ
    if not env.get("JOURNEY_TEST_POSTGRES_HOST"):
        _missing("PostgreSQL (JOURNEY_TEST_POSTGRES_HOST)")
    server = PostgresServer(
        host=env["JOURNEY_TEST_POSTGRES_HOST"],
        port=int(env.get("JOURNEY_TEST_POSTGRES_PORT", "5432")),
        db=env.get("JOURNEY_TEST_POSTGRES_DB", "journey_test"),
        user=env.get("JOURNEY_TEST_POSTGRES_USER", "journey"),
        password=env.get("JOURNEY_TEST_POSTGRES_PASSWORD", ""),
    )
    import psycopg

    try:
        with psycopg.connect(
            host=server.host,
            port=server.port,
            dbname=server.db,
            user=server.user,
            password=server.password,
            connect_timeout=5,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is configured but does not answer: {error}")
    return server


@pytest.fixture
def postgres_schema(postgres_server: PostgresServer) -> Iterator[str]:
    schema = unique("t_")
    yield schema
    import psycopg

    with psycopg.connect(
        host=postgres_server.host,
        port=postgres_server.port,
        dbname=postgres_server.db,
        user=postgres_server.user,
        password=postgres_server.password,
        autocommit=True,
    ) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def settings_env(tmp_path: Path) -> dict[str, str]:
    """Embedded mode in a fresh data folder, with unique topic names."""
    return {
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_DATA_DIR": str(tmp_path / "data"),
        "JOURNEY_TOPIC_PREFIX": unique("t") + ".",
        "JOURNEY_CONSUMER_GROUP": unique("g"),
    }

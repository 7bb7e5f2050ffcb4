"""Several processes start at once against one PostgreSQL schema (e.g. three
``journey ingest`` members): setting up tables and functions must not race."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest.mock import patch

import pytest

from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.services import PostgresServer

pytestmark = pytest.mark.postgres


def test_concurrent_start_ups_on_a_fresh_schema_all_succeed(
    postgres_server: PostgresServer, postgres_schema: str, tmp_path: Path
) -> None:
    env = {"JOURNEY_DATA_DIR": str(tmp_path), **postgres_server.settings_env(postgres_schema)}
    with patch.dict(os.environ, env):
        settings = Settings()

    def start(_: int) -> Runtime:
        return build(settings)

    with ThreadPoolExecutor(max_workers=4) as pool:
        runtimes = list(pool.map(start, range(4)))
    try:
        assert all(r.app.process_recorder.max_notification_id() in (None, 0) for r in runtimes)
        assert {r.ledger.position() for r in runtimes} == {0}
    finally:
        for runtime in runtimes:
            runtime.close()

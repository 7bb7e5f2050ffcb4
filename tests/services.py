"""The real services of the integration and e2e tiers, as tests name them.

The fixtures that find them (``kafka_bootstrap``, ``postgres_server``, ``postgres_schema``)
are in ``tests/conftest.py``; test modules and helpers import this module, never a conftest.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

TEST_MASTER_KEY = base64.b64encode(os.urandom(32)).decode()
"""Wraps the customer keys of PostgreSQL test runtimes (one per test session)."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    db: str
    user: str
    password: str

    def settings_env(self, schema: str) -> dict[str, str]:
        return {
            "JOURNEY_STORE_BACKEND": "postgres",
            "JOURNEY_POSTGRES_HOST": self.host,
            "JOURNEY_POSTGRES_PORT": str(self.port),
            "JOURNEY_POSTGRES_DB": self.db,
            "JOURNEY_POSTGRES_USER": self.user,
            "JOURNEY_POSTGRES_PASSWORD": self.password,
            "JOURNEY_POSTGRES_SCHEMA": schema,
            "JOURNEY_MASTER_KEY": TEST_MASTER_KEY,
        }

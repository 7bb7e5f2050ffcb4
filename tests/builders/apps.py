"""The application on a temporary SQLite event store; the whole runtime in embedded mode."""

from __future__ import annotations

import os
from pathlib import Path
from unittest.mock import patch

from adapters.privacy.personal import PersonalData
from application.service import JourneyApplication
from journey.bootstrap import Runtime, build
from journey.settings import Settings


def make_app(folder: Path, personal: PersonalData | None = None) -> JourneyApplication:
    """The application on a SQLite event store in ``folder`` (two processes on one store
    share the customers' keys: pass the first one's ``personal``)."""
    return JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(folder / "events.sqlite"),
        },
        personal=personal,
    )


def embedded_runtime(folder: Path) -> Runtime:
    """The whole runtime in embedded mode (embedded log of one partition a topic, SQLite
    stores) in ``folder``, built from settings as ``journey serve`` builds it."""
    env = {
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_DATA_DIR": str(folder / "data"),
        "JOURNEY_TOPIC_PARTITIONS": "1",
    }
    with patch.dict(os.environ, env):
        return build(Settings())

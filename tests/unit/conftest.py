"""Fixtures of the unit tier: our own code, with temporary SQLite files at most."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from application.service import JourneyApplication


def make_app(folder: Path) -> JourneyApplication:
    """The application on a SQLite event store in ``folder``."""
    return JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(folder / "events.sqlite"),
        }
    )


@pytest.fixture
def app(tmp_path: Path) -> Iterator[JourneyApplication]:
    application = make_app(tmp_path)
    yield application
    application.close()

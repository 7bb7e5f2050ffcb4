"""Fixtures of the unit tier: our own code, with temporary SQLite files at most."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.privacy.personal import PersonalData
from application.service import JourneyApplication


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


@pytest.fixture
def app(tmp_path: Path) -> Iterator[JourneyApplication]:
    application = make_app(tmp_path)
    yield application
    application.close()

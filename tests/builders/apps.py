"""The application on a temporary SQLite event store."""

from __future__ import annotations

from pathlib import Path

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

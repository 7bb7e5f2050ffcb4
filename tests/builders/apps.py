"""The application on a temporary SQLite event store."""

from __future__ import annotations

from pathlib import Path

from application.service import JourneyApplication


def make_app(folder: Path) -> JourneyApplication:
    """The application on a SQLite event store in ``folder``."""
    return JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(folder / "events.sqlite"),
        }
    )

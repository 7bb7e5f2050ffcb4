"""Which exceptions are trouble with what the service runs on — the event store, the read
store, the log — rather than with a record. The ingest retries those (nothing is skipped)
and dead-letters a record for anything else it raises."""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing.persistence import PersistenceError

from adapters.sourcelog.base import LogUnavailable

INFRASTRUCTURE: tuple[type[BaseException], ...] = (
    PersistenceError,
    sqlite3.Error,
    psycopg.Error,
    LogUnavailable,
    OSError,
)


def is_infrastructure(error: BaseException) -> bool:
    return isinstance(error, INFRASTRUCTURE)

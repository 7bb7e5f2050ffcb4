"""Which exceptions are trouble with what the service runs on — the event store, the read
store, the log — rather than with a record. The ingest retries those (nothing is skipped)
and dead-letters a record for anything else it raises."""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError

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


TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    LogUnavailable,
    OSError,
    MemoryError,
)


def is_transient(error: BaseException) -> bool:
    """Trouble that says nothing about what was being written: the connection lost, the
    database locked, shut down or unreadable, the disk or memory short. The read side
    retries those; anything else a read model raises on one event (a value the store
    refuses, a bug in the read model) holds that event back for that read model alone
    (``projections.quarantine``). A SQLite file that is not a database (``DatabaseError``
    itself, not one of its subclasses) is trouble with the store too."""
    return isinstance(error, TRANSIENT) or type(error) is sqlite3.DatabaseError

"""The key store: one data key per customer, wrapped by the master key; erasure deletes it.

An erased customer keeps a row without a key (a tombstone), so that no later write makes a
new key for them: a personal value that arrives for an erased customer is sealed as
``erased``, never stored readable.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.privacy.cipher import new_key, unwrap, wrap
from adapters.readstore import ReadStore

TABLE = "customer_keys"


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    erased_at: datetime
    had_key: bool
    """False when the customer never had personal data sealed (or was erased before)."""


class CustomerKeys(ABC):
    @abstractmethod
    def for_writing(self, customer_id: str) -> bytes | None:
        """The customer's data key, made on first use; None once the customer is erased."""

    @abstractmethod
    def for_reading(self, customer_id: str) -> bytes | None:
        """The customer's data key; None when erased (or never made)."""

    @abstractmethod
    def erase(self, customer_id: str, at: datetime) -> Erasure:
        """Delete the customer's key for good. Idempotent: the first erasure time stays."""

    @abstractmethod
    def erased_at(self, customer_id: str) -> datetime | None: ...


class StoredCustomerKeys(CustomerKeys):
    """Keys in a table of the read store (SQLite file or PostgreSQL schema). Not a read model:
    never rebuilt, and not derived from events (deleting a key is the point)."""

    def __init__(self, store: ReadStore, master: bytes) -> None:
        self._store = store
        self._master = master

    def create_tables(self) -> None:
        with self._store.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (customer_id TEXT PRIMARY KEY,"
                " wrapped_key TEXT, created_at TEXT NOT NULL, erased_at TEXT)"
            )

    def _row(self, customer_id: str) -> dict[str, str | None] | None:
        rows = self._store.query(
            f"SELECT wrapped_key, erased_at FROM {TABLE} WHERE customer_id = :c",
            {"c": customer_id},
        )
        return rows[0] if rows else None

    def for_writing(self, customer_id: str) -> bytes | None:
        row = self._row(customer_id)
        if row is None:
            with self._store.transaction() as cursor:
                cursor.execute(
                    f"INSERT INTO {TABLE} (customer_id, wrapped_key, created_at)"
                    " VALUES (:c, :k, :at) ON CONFLICT (customer_id) DO NOTHING",
                    {
                        "c": customer_id,
                        "k": wrap(self._master, customer_id, new_key()),
                        "at": datetime.now(UTC).isoformat(),
                    },
                )
            row = self._row(customer_id)  # another writer may have won the race
        return self._key(customer_id, row)

    def for_reading(self, customer_id: str) -> bytes | None:
        return self._key(customer_id, self._row(customer_id))

    def _key(self, customer_id: str, row: dict[str, str | None] | None) -> bytes | None:
        if row is None or row["wrapped_key"] is None:
            return None
        return unwrap(self._master, customer_id, row["wrapped_key"])

    def erase(self, customer_id: str, at: datetime) -> Erasure:
        with self._store.transaction() as cursor:
            cursor.execute(
                f"SELECT wrapped_key, erased_at FROM {TABLE} WHERE customer_id = :c",
                {"c": customer_id},
            )
            rows = cursor.fetchall()
            if rows and rows[0]["erased_at"] is not None:
                return Erasure(customer_id, datetime.fromisoformat(rows[0]["erased_at"]), False)
            cursor.execute(
                f"INSERT INTO {TABLE} (customer_id, wrapped_key, created_at, erased_at)"
                " VALUES (:c, NULL, :at, :at) ON CONFLICT (customer_id)"
                " DO UPDATE SET wrapped_key = NULL, erased_at = :at",
                {"c": customer_id, "at": at.astimezone(UTC).isoformat()},
            )
        return Erasure(customer_id, at, bool(rows) and rows[0]["wrapped_key"] is not None)

    def erased_at(self, customer_id: str) -> datetime | None:
        row = self._row(customer_id)
        erased = row["erased_at"] if row else None
        return datetime.fromisoformat(erased) if erased else None


class InMemoryCustomerKeys(CustomerKeys):
    """The same contract in memory, for unit tests of our own code."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes | None] = {}
        self._erased: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def for_writing(self, customer_id: str) -> bytes | None:
        with self._lock:
            if customer_id not in self._keys:
                self._keys[customer_id] = new_key()
            return self._keys[customer_id]

    def for_reading(self, customer_id: str) -> bytes | None:
        return self._keys.get(customer_id)

    def erase(self, customer_id: str, at: datetime) -> Erasure:
        with self._lock:
            if customer_id in self._erased:
                return Erasure(customer_id, self._erased[customer_id], False)
            had_key = self._keys.get(customer_id) is not None
            self._keys[customer_id] = None
            self._erased[customer_id] = at
            return Erasure(customer_id, at, had_key)

    def erased_at(self, customer_id: str) -> datetime | None:
        return self._erased.get(customer_id)

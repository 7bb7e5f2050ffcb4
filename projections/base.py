"""A read model that follows the event store's notification log.

Each projection applies a batch of notifications and moves its position in the same
transaction, so a notification is applied exactly once in effect however often it is
delivered: a batch whose first notification is at or below the stored position is
skipped up to the position, and the position only moves forward.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from journey.readstore import Cursor, ReadStore

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_positions ("
    " name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)

Notified = tuple[int, Any]
"""A notification id and the domain event it carries."""


class Projection(ABC):
    name: str

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def create_tables(self) -> None:
        with self.store.transaction() as cursor:
            cursor.execute(POSITIONS_DDL)
            for statement in self.ddl():
                cursor.execute(statement)

    @abstractmethod
    def ddl(self) -> Sequence[str]:
        """Statements that create the projection's tables if absent."""

    @abstractmethod
    def apply(self, cursor: Cursor, notification_id: int, event: Any) -> None:
        """Apply one domain event to the rows (unknown event types are ignored)."""

    def position(self) -> int:
        rows = self.store.query(
            "SELECT position FROM projection_positions WHERE name = :name", {"name": self.name}
        )
        return int(rows[0]["position"]) if rows else 0

    def process(self, batch: Sequence[Notified]) -> int:
        """Apply the notifications after the stored position and store the new position,
        in one transaction. Returns how many were applied."""
        if not batch:
            return 0
        with self.store.transaction() as cursor:
            cursor.execute(
                "SELECT position FROM projection_positions WHERE name = :name",
                {"name": self.name},
            )
            rows = cursor.fetchall()
            current = int(rows[0]["position"]) if rows else 0
            fresh = [(nid, event) for nid, event in batch if nid > current]
            for nid, event in fresh:
                self.apply(cursor, nid, event)
            if fresh:
                cursor.execute(
                    "INSERT INTO projection_positions (name, position) VALUES (:name, :pos)"
                    " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                    {"name": self.name, "pos": fresh[-1][0]},
                )
        return len(fresh)

"""Where a read model is in the event store's notification log: one row of
``projection_positions`` per read model (a rebuild's copy has its own), moved in the same
transaction as the rows it stands for (``projections.base``, the audit chain)."""

from __future__ import annotations

from adapters.readstore import Cursor, ReadStore

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_positions ("
    " name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


class LogPosition:
    """The position of the read model named ``position_name`` in ``store``."""

    store: ReadStore
    position_name: str

    def position(self) -> int:
        rows = self.store.query(
            "SELECT position FROM projection_positions WHERE name = :name",
            {"name": self.position_name},
        )
        return int(rows[0]["position"]) if rows else 0

    def locked_position(self, cursor: Cursor) -> int:
        """The stored position, locked until the transaction ends (PostgreSQL; SQLite's
        write transactions are serial already)."""
        lock = " FOR UPDATE" if self.store.dialect == "postgres" else ""
        cursor.execute(
            f"SELECT position FROM projection_positions WHERE name = :name{lock}",
            {"name": self.position_name},
        )
        rows = cursor.fetchall()
        return int(rows[0]["position"]) if rows else 0

    def set_position(self, cursor: Cursor, position: int) -> None:
        cursor.execute(
            "INSERT INTO projection_positions (name, position) VALUES (:name, :pos)"
            " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            {"name": self.position_name, "pos": position},
        )

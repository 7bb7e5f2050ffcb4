"""Open SLA deadlines and the latest event time seen: what the clock timer needs.

Follows the clock decision events of every aggregate: a deadline is open from
``DeadlineStarted`` until it is met, breached, or cancelled. The latest ``occurred_at`` of
any fact is the event-time watermark.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.readstore import Cursor
from domain.aggregate import JourneyAggregate, is_fact
from projections.base import Index, Projection

_CLOSING = (
    JourneyAggregate.DeadlineMet,
    JourneyAggregate.DeadlineBreached,
    JourneyAggregate.DeadlineCancelled,
)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


class DeadlineIndex(Projection):
    name = "deadline_index"
    tables = ("open_deadlines", "event_time")

    def ddl(self) -> Sequence[str]:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.t('open_deadlines')} ("
            " aggregate_id TEXT NOT NULL, key TEXT NOT NULL, rule TEXT NOT NULL,"
            " due_at TEXT NOT NULL, PRIMARY KEY (aggregate_id, key))",
            f"CREATE TABLE IF NOT EXISTS {self.t('event_time')}"
            " (name TEXT PRIMARY KEY, latest TEXT NOT NULL)",
        )

    def indexes(self) -> Sequence[Index]:
        return (Index("open_deadlines_due", "open_deadlines", "due_at", query_only=True),)

    def apply(self, cursor: Cursor, notification_id: int, event: Any) -> None:
        if isinstance(event, JourneyAggregate.DeadlineStarted):
            cursor.execute(
                f"INSERT INTO {self.t('open_deadlines')} VALUES (:id, :key, :rule, :due)"
                " ON CONFLICT (aggregate_id, key) DO UPDATE SET due_at = excluded.due_at",
                {
                    "id": str(event.originator_id),
                    "key": event.key,
                    "rule": event.rule,
                    "due": _utc(event.due_at),
                },
            )
        elif isinstance(event, _CLOSING):
            cursor.execute(
                f"DELETE FROM {self.t('open_deadlines')} WHERE aggregate_id = :id AND key = :key",
                {"id": str(event.originator_id), "key": event.key},
            )
        if is_fact(event):
            cursor.execute(
                f"INSERT INTO {self.t('event_time')} AS w VALUES ('watermark', :at)"
                " ON CONFLICT (name) DO UPDATE SET latest = excluded.latest"
                " WHERE w.latest < excluded.latest",
                {"at": _utc(event.occurred_at)},
            )

    def watermark(self) -> datetime | None:
        """The latest event time of any fact recorded so far."""
        rows = self.store.query(
            f"SELECT latest FROM {self.t('event_time')} WHERE name = 'watermark'"
        )
        return datetime.fromisoformat(rows[0]["latest"]) if rows else None

    def due_before(self, at: datetime, limit: int = 500) -> list[UUID]:
        """Aggregates with a deadline due before ``at``, soonest first."""
        rows = self.store.query(
            f"SELECT aggregate_id, MIN(due_at) AS due FROM {self.t('open_deadlines')}"
            " WHERE due_at < :at"
            " GROUP BY aggregate_id ORDER BY due LIMIT :limit",
            {"at": _utc(at), "limit": limit},
        )
        return [UUID(row["aggregate_id"]) for row in rows]

    def open_count(self) -> int:
        rows = self.store.query(f"SELECT COUNT(*) AS n FROM {self.t('open_deadlines')}")
        return int(rows[0]["n"])

"""What the audit chain answers: an aggregate's links, the verification of its stored
events against them (``chain.compare``), and the aggregates opened in a period."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from adapters.readstore import ReadStore
from projections.audit_chain.chain import Link, VerifyReport, compare
from projections.audit_chain.rows import Subject, utc_text


class AuditQueries:
    """The reading half of ``AuditChain``."""

    store: ReadStore
    position_name: str
    _recorder: ApplicationRecorder

    def links(self, aggregate_id: UUID) -> tuple[int, list[Link]]:
        """The follower's position and the aggregate's links, read in that order in one
        transaction (so every notification up to the position has its link)."""
        with self.store.transaction() as cursor:
            cursor.execute(
                "SELECT position FROM projection_positions WHERE name = :name",
                {"name": self.position_name},
            )
            rows = cursor.fetchall()
            position = int(rows[0]["position"]) if rows else 0
            cursor.execute(
                "SELECT version, notification_id, hash FROM audit_chain"
                " WHERE aggregate_id = :id ORDER BY version",
                {"id": str(aggregate_id)},
            )
            links = [
                Link(int(r["version"]), int(r["notification_id"]), r["hash"])
                for r in cursor.fetchall()
            ]
        return position, links

    def verify(self, aggregate_id: UUID) -> VerifyReport:
        """Compare the aggregate's stored events with its chain (see ``compare`` for why
        the reads go in this order)."""
        position, links = self.links(aggregate_id)
        stored = self._recorder.select_events(aggregate_id)
        head = self._recorder.max_notification_id() or 0
        return compare(aggregate_id, stored, links, position=position, head=head)

    def opened_between(
        self,
        start: datetime,
        end: datetime,
        kinds: Collection[str] | None = None,
        limit: int = 1000,
    ) -> list[Subject]:
        """Aggregates whose creation event happened in ``[start, end)``, in that order."""
        params: dict[str, Any] = {
            "start": utc_text(start),
            "end": utc_text(end),
            "limit": limit,
        }
        where = ""
        if kinds is not None:
            names = {f"k{i}": kind for i, kind in enumerate(sorted(kinds))}
            if not names:
                return []
            where = f" AND kind IN ({', '.join(':' + n for n in names)})"
            params |= names
        rows = self.store.query(
            "SELECT aggregate_id, kind, ref, customer_id, opened_at FROM audit_subjects"
            f" WHERE opened_at >= :start AND opened_at < :end{where}"
            " ORDER BY opened_at, aggregate_id LIMIT :limit",
            params,
        )
        return [
            Subject(
                UUID(r["aggregate_id"]),
                r["kind"],
                r["ref"],
                r["customer_id"],
                datetime.fromisoformat(r["opened_at"]),
            )
            for r in rows
        ]

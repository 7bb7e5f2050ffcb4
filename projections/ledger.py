"""The complaint ledger: one row per case (R-CMP-06).

This first cut carries the case's identity, customer, channels, classification and
opening time; later columns (SLA targets, breaches, options, refunds, satisfaction,
reopen count, policy version) arrive with the events that carry them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

import orjson

from domain.case import Case
from journey.readstore import Cursor, Row
from projections.base import Projection


class ComplaintLedger(Projection):
    name = "complaint_ledger"

    def ddl(self) -> Sequence[str]:
        return (
            "CREATE TABLE IF NOT EXISTS complaint_ledger ("
            " case_id TEXT PRIMARY KEY, case_ref TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " channel TEXT NOT NULL, channels TEXT NOT NULL, store_id TEXT, agent_group TEXT,"
            " classification TEXT NOT NULL, topic TEXT NOT NULL, status TEXT NOT NULL,"
            " opened_at TEXT NOT NULL, contacts INTEGER NOT NULL, version INTEGER NOT NULL,"
            " opened_by_event_id TEXT NOT NULL, last_notification_id BIGINT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS complaint_ledger_opened"
            " ON complaint_ledger (opened_at, case_id)",
        )

    def apply(self, cursor: Cursor, notification_id: int, event: Any) -> None:
        if isinstance(event, Case.Opened):
            cursor.execute(
                "INSERT INTO complaint_ledger VALUES (:case_id, :case_ref, :customer_id,"
                " :channel, :channels, :store_id, :agent_group, :classification, :topic,"
                " 'open', :opened_at, 1, :version, :event_id, :nid)",
                {
                    "case_id": str(event.originator_id),
                    "case_ref": event.case_ref,
                    "customer_id": event.customer_id,
                    "channel": event.channel,
                    "channels": orjson.dumps([event.channel]).decode(),
                    "store_id": event.store_id,
                    "agent_group": event.agent_group,
                    "classification": event.classification,
                    "topic": event.topic,
                    "opened_at": event.occurred_at.astimezone(UTC).isoformat(),
                    "version": event.originator_version,
                    "event_id": event.source.event_id,
                    "nid": notification_id,
                },
            )
        elif isinstance(event, Case.ContactJoined):
            cursor.execute(
                "SELECT channels FROM complaint_ledger WHERE case_id = :case_id",
                {"case_id": str(event.originator_id)},
            )
            channels = orjson.loads(cursor.fetchall()[0]["channels"])
            if event.channel not in channels:
                channels.append(event.channel)
            cursor.execute(
                "UPDATE complaint_ledger SET contacts = contacts + 1, channels = :channels,"
                " version = :version, last_notification_id = :nid WHERE case_id = :case_id",
                {
                    "case_id": str(event.originator_id),
                    "channels": orjson.dumps(channels).decode(),
                    "version": event.originator_version,
                    "nid": notification_id,
                },
            )

    def page(self, limit: int, after: tuple[str, str] | None = None) -> list[Row]:
        """Cases in order of opening time, ``limit`` at a time after the cursor
        ``(opened_at, case_id)`` of the previous page's last row."""
        where, params = "", dict[str, object](limit=limit)
        if after is not None:
            where = "WHERE opened_at > :after_at OR (opened_at = :after_at AND case_id > :after_id)"
            params.update(after_at=after[0], after_id=after[1])
        rows = self.store.query(
            f"SELECT * FROM complaint_ledger {where} ORDER BY opened_at, case_id LIMIT :limit",
            params,
        )
        for row in rows:
            row["channels"] = orjson.loads(row["channels"])
        return rows

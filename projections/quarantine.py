"""Events a read model could not apply, held aside for that read model alone (issue 13,
item 5).

Every read model follows the same notification log; one that raises on a stored event
would, without this, retry that event for ever and hold back nothing but itself — but all
of them share the projections worker, so it held back every read model. Instead the runner
(``projections.runner``) tells apart:

- **trouble with the store** (``adapters.failures.is_transient``: the connection lost, the
  database locked or shut down): nothing is skipped, the worker raises and its supervisor
  builds it again after a backoff;
- **an event this read model cannot apply** (anything else it raises — a value the store
  refuses, a bug in the read model's code): the batch is applied again one notification at
  a time, and the one that still fails is *quarantined for that read model*: a row here
  with the reason, written in the same transaction that moves the read model's position
  past it. The other read models apply it as usual; this one carries on with the next.

A quarantined event is visible (``journey status``, ``/readyz`` reports ``degraded``,
``/metrics`` ``journey_read_model_quarantined_events``, ``GET /v1/admin/quarantine``). It is
recovered by rebuilding the read model once the cause is fixed (``journey rebuild``): the
fresh copy applies every event again and its own quarantine, empty if all went well,
replaces the live one at the swap. The audit chain, which is never rebuilt, keeps its
quarantined events on record: ``verify`` reports such an aggregate as not matching its
chain, which is the truth.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.readstore import Cursor, ReadStore

logger = logging.getLogger(__name__)

DDL = (
    "CREATE TABLE IF NOT EXISTS read_model_quarantine ("
    " read_model TEXT NOT NULL,"
    " notification_id BIGINT NOT NULL,"
    " originator_id TEXT NOT NULL,"
    " originator_version BIGINT NOT NULL,"
    " topic TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " quarantined_at TEXT NOT NULL,"
    " PRIMARY KEY (read_model, notification_id))"
)

REASON_CHARS = 1000
"""A reason longer than this is cut (an exception's text can quote a whole row)."""


def printable(text: str, limit: int = REASON_CHARS) -> str:
    """``text`` without control characters (shown as ``\\xNN``), at most ``limit`` long:
    the reason quotes what failed, and the store may be unable to hold what failed (a NUL
    on PostgreSQL)."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def reason_of(error: BaseException) -> str:
    """``<exception class>: <its message>``, printable."""
    return printable(f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class Held:
    """The stored event a read model could not apply: its notification, whose event it is,
    and why not."""

    notification_id: int
    originator_id: str
    originator_version: int
    topic: str


@dataclass(frozen=True)
class Quarantined:
    read_model: str
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    reason: str
    quarantined_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "read_model": self.read_model,
            "notification_id": self.notification_id,
            "originator_id": self.originator_id,
            "originator_version": self.originator_version,
            "topic": self.topic,
            "reason": self.reason,
            "quarantined_at": self.quarantined_at.isoformat(),
        }


class Quarantine:
    """The quarantined events of every read model, in the read store."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def create_tables(self) -> None:
        with self.store.transaction() as cursor:
            cursor.execute(DDL)

    def hold(self, position_name: str, held: Held, error: BaseException) -> None:
        """Quarantine ``held`` for the read model whose position is ``position_name``, and
        move that position past it, in one transaction (never backwards: a runner that
        got there first wins)."""
        reason = reason_of(error)
        with self.store.transaction() as cursor:
            cursor.execute(
                "INSERT INTO read_model_quarantine (read_model, notification_id,"
                " originator_id, originator_version, topic, reason, quarantined_at)"
                " VALUES (:name, :id, :originator, :version, :topic, :reason, :at)"
                " ON CONFLICT (read_model, notification_id) DO NOTHING",
                {
                    "name": position_name,
                    "id": held.notification_id,
                    "originator": printable(held.originator_id),
                    "version": held.originator_version,
                    "topic": printable(held.topic),
                    "reason": reason,
                    "at": datetime.now(UTC).isoformat(),
                },
            )
            cursor.execute(
                "UPDATE projection_positions SET position = :id"
                " WHERE name = :name AND position < :id",
                {"name": position_name, "id": held.notification_id},
            )
        logger.error(
            "read model %s quarantined notification %d (%s version %d, %s): %s",
            position_name,
            held.notification_id,
            held.originator_id,
            held.originator_version,
            held.topic,
            reason,
        )

    def counts(self) -> dict[str, int]:
        """Read model → how many events it holds in quarantine (only those with any)."""
        rows = self.store.query(
            "SELECT read_model, COUNT(*) AS n FROM read_model_quarantine GROUP BY read_model"
        )
        return {str(r["read_model"]): int(r["n"]) for r in rows}

    def page(
        self, read_model: str | None = None, after: tuple[str, int] | None = None, limit: int = 100
    ) -> list[Quarantined]:
        """Quarantined events ordered by read model and notification id, after the
        ``(read_model, notification_id)`` cursor ``after``."""
        where: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        if read_model is not None:
            where.append("read_model = :model")
            params["model"] = read_model
        if after is not None:
            where.append(
                "(read_model > :after_model"
                " OR (read_model = :after_model AND notification_id > :after_id))"
            )
            params |= {"after_model": after[0], "after_id": after[1]}
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self.store.query(
            f"SELECT * FROM read_model_quarantine{clause}"
            " ORDER BY read_model, notification_id LIMIT :limit",
            params,
        )
        return [
            Quarantined(
                str(r["read_model"]),
                int(r["notification_id"]),
                str(r["originator_id"]),
                int(r["originator_version"]),
                str(r["topic"]),
                str(r["reason"]),
                datetime.fromisoformat(str(r["quarantined_at"])),
            )
            for r in rows
        ]

    @staticmethod
    def hand_over(cursor: Cursor, from_name: str, to_name: str) -> None:
        """At a rebuild's swap: the fresh copy's quarantine (``from_name``) replaces the
        live copy's (``to_name``)."""
        cursor.execute("DELETE FROM read_model_quarantine WHERE read_model = :to", {"to": to_name})
        cursor.execute(
            "UPDATE read_model_quarantine SET read_model = :to WHERE read_model = :from",
            {"to": to_name, "from": from_name},
        )

    @staticmethod
    def forget(cursor: Cursor, name: str) -> None:
        """Drop ``name``'s quarantine (a rebuild's copy that is started afresh)."""
        cursor.execute("DELETE FROM read_model_quarantine WHERE read_model = :name", {"name": name})

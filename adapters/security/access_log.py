"""The access log: every read of clear personal data — who (key id, role), which subject
(``customer:<id>`` or ``case:<ref>``), which route, the answer's status, and when (wall
clock, UTC: an operational record, not an event).

Only reads that show personal data in clear are recorded, i.e. by auditors and admins
(``sees_clear_personal_data``). Analysts' reads are masked (R-CUS-04), so they are not
recorded. A plain table in the read store (not a projection; never rebuilt), readable by
admins only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.readstore import ReadStore
from adapters.security import Principal
from adapters.security.apikeys import wall_clock_utc

TABLE = "access_log"
MAX_PAGE = 500


def _text(at: datetime) -> str:
    """One fixed format, so text order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AccessEntry:
    id: int
    at: str
    key_id: str
    role: str
    subject: str
    route: str
    method: str
    status: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AccessPage:
    entries: list[AccessEntry]
    next_after: int | None
    """The ``after_id`` of the next page, or None on the last page."""


class AccessLog:
    def __init__(self, store: ReadStore, clock: Callable[[], datetime] = wall_clock_utc) -> None:
        self.store = store
        self._clock = clock

    def create_tables(self) -> None:
        identity = (
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            if self.store.dialect == "postgres"
            else "INTEGER PRIMARY KEY AUTOINCREMENT"
        )
        with self.store.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                f" id {identity},"
                " at TEXT NOT NULL,"
                " key_id TEXT NOT NULL,"
                " role TEXT NOT NULL,"
                " subject TEXT NOT NULL,"
                " route TEXT NOT NULL,"
                " method TEXT NOT NULL,"
                " status INTEGER NOT NULL)"
            )
            for column in ("subject", "key_id", "at"):
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {TABLE}_{column} ON {TABLE} ({column}, id)"
                )

    def record(self, who: Principal, subject: str, route: str, method: str, status: int) -> None:
        with self.store.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (at, key_id, role, subject, route, method, status)"
                " VALUES (:at, :key_id, :role, :subject, :route, :method, :status)",
                {
                    "at": _text(self._clock()),
                    "key_id": who.key_id,
                    "role": who.role,
                    "subject": subject,
                    "route": route,
                    "method": method,
                    "status": status,
                },
            )

    def entries(
        self,
        *,
        subject: str | None = None,
        key_id: str | None = None,
        since: datetime | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> AccessPage:
        """Oldest first, at most ``limit``; ``after_id`` is the previous page's
        ``next_after``."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit: 1 to {MAX_PAGE}")
        where: list[str] = ["1 = 1"]
        params: dict[str, Any] = {"limit": limit + 1}
        if subject is not None:
            where.append("subject = :subject")
            params["subject"] = subject
        if key_id is not None:
            where.append("key_id = :key_id")
            params["key_id"] = key_id
        if since is not None:
            where.append("at >= :since")
            params["since"] = _text(since)
        if after_id is not None:
            where.append("id > :after_id")
            params["after_id"] = after_id
        rows = self.store.query(
            f"SELECT id, at, key_id, role, subject, route, method, status FROM {TABLE}"
            f" WHERE {' AND '.join(where)} ORDER BY id LIMIT :limit",
            params,
        )
        entries = [AccessEntry(**row) for row in rows[:limit]]
        return AccessPage(entries, entries[-1].id if len(rows) > limit else None)

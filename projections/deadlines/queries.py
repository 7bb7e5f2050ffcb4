"""What the deadline index answers the clock timer: the event-time watermark, and the
aggregates with a deadline due before an instant; and, for ``journey status`` and
``/metrics``, the open deadlines that are overdue at the timer's watermark."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from projections.base import Projection
from projections.deadlines.rows import utc


class Due(NamedTuple):
    """An aggregate with a deadline due, and its soonest due time, as the index keeps
    them (the id as text: ``str(UUID)``)."""

    aggregate_id: str
    due: str


class DeadlineQueries(Projection):
    """The reading half of ``DeadlineIndex``."""

    def watermark(self) -> datetime | None:
        """The latest event time of any fact recorded so far."""
        rows = self.store.query(
            f"SELECT latest FROM {self.t('event_time')} WHERE name = 'watermark'"
        )
        return datetime.fromisoformat(rows[0]["latest"]) if rows else None

    def due_before(self, at: datetime, limit: int = 500, after: Due | None = None) -> list[Due]:
        """Open deadlines due before ``at``, soonest first (then by aggregate id), each as
        its aggregate and due time; only those after ``after`` (a row of a previous call),
        so that the timer walks them all a page at a time along the ``due_at`` index. An
        aggregate with several due deadlines appears once for each."""
        params: dict[str, object] = {"at": utc(at), "limit": limit}
        after_row = ""
        if after is not None:
            after_row = " AND (due_at > :due OR (due_at = :due AND aggregate_id > :aggregate_id))"
            params |= {"due": after.due, "aggregate_id": after.aggregate_id}
        rows = self.store.query(
            f"SELECT aggregate_id, due_at FROM {self.t('open_deadlines')}"
            f" WHERE due_at < :at{after_row} ORDER BY due_at, aggregate_id LIMIT :limit",
            params,
        )
        return [Due(str(row["aggregate_id"]), str(row["due_at"])) for row in rows]

    def overdue(self, watermark: datetime | None, limit: int = 500) -> list[dict[str, str]]:
        """Open deadlines whose due time ``watermark`` (the timer's) is past: overdue, not
        breached yet (``domain.clocks.is_overdue``), soonest first."""
        if watermark is None:
            return []
        return [
            dict(row)
            for row in self.store.query(
                f"SELECT aggregate_id, key, rule, due_at FROM {self.t('open_deadlines')}"
                " WHERE due_at < :at ORDER BY due_at, aggregate_id, key LIMIT :limit",
                {"at": utc(watermark), "limit": limit},
            )
        ]

    def overdue_count(self, watermark: datetime | None) -> int:
        """How many open deadlines are overdue at ``watermark`` (``overdue``)."""
        if watermark is None:
            return 0
        rows = self.store.query(
            f"SELECT COUNT(*) AS n FROM {self.t('open_deadlines')} WHERE due_at < :at",
            {"at": utc(watermark)},
        )
        return int(rows[0]["n"])

    def timer_backlog(self, watermark: datetime | None, lateness: timedelta) -> int:
        """How many open deadlines are past due by more than ``lateness`` at ``watermark``:
        the clock timer has yet to breach them (0 once it has caught up)."""
        return 0 if watermark is None else self.overdue_count(watermark - lateness)

    def by_rule(self, watermark: datetime | None) -> dict[str, tuple[int, int]]:
        """Per rule: its open deadlines, and how many of them are overdue at ``watermark``
        (``overdue``)."""
        at = utc(watermark) if watermark is not None else ""  # no time is before ""
        rows = self.store.query(
            "SELECT rule, COUNT(*) AS n,"
            " SUM(CASE WHEN due_at < :at THEN 1 ELSE 0 END) AS late"
            f" FROM {self.t('open_deadlines')} GROUP BY rule ORDER BY rule",
            {"at": at},
        )
        return {str(r["rule"]): (int(r["n"]), int(r["late"] or 0)) for r in rows}

    def open_count(self) -> int:
        rows = self.store.query(f"SELECT COUNT(*) AS n FROM {self.t('open_deadlines')}")
        return int(rows[0]["n"])

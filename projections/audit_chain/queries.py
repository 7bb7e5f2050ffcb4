"""What the audit chain answers: an aggregate's links, the verification of its stored
events against them (``chain.compare``), one aggregate or a batch at a time, the aggregates
it knows a page at a time (for ``journey verify``), and the aggregates opened in a
period."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from adapters.readstore import ReadStore
from projections.audit_chain.chain import Link, VerifyReport, compare
from projections.audit_chain.rows import Subject, utc_text

CHUNK = 500
"""Ids per ``IN (...)`` list."""


def _in(ids: Sequence[str]) -> tuple[str, dict[str, str]]:
    """``IN (:a0, :a1, ...)`` over ``ids`` and its parameters."""
    names = {f"a{i}": value for i, value in enumerate(ids)}
    return f"IN ({', '.join(':' + n for n in names)})", names


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
        return self.verify_many([aggregate_id])[0]

    def verify_many(self, aggregate_ids: Sequence[UUID]) -> list[VerifyReport]:
        """``verify`` for each of ``aggregate_ids``, their links read together: the
        follower's position and every link first (one snapshot), then each aggregate's
        stored events, then the head, which keeps ``compare``'s order for each."""
        keys = [str(a) for a in aggregate_ids]
        links: dict[str, list[Link]] = {key: [] for key in keys}
        with self.store.reading() as cursor:
            cursor.execute(
                "SELECT position FROM projection_positions WHERE name = :name",
                {"name": self.position_name},
            )
            rows = cursor.fetchall()
            position = int(rows[0]["position"]) if rows else 0
            for start in range(0, len(keys), CHUNK):
                where, params = _in(keys[start : start + CHUNK])
                cursor.execute(
                    "SELECT aggregate_id, version, notification_id, hash FROM audit_chain"
                    f" WHERE aggregate_id {where} ORDER BY aggregate_id, version",
                    params,
                )
                for r in cursor.fetchall():
                    links[r["aggregate_id"]].append(
                        Link(int(r["version"]), int(r["notification_id"]), r["hash"])
                    )
        stored = [self._recorder.select_events(a) for a in aggregate_ids]
        head = self._recorder.max_notification_id() or 0
        return [
            compare(a, events, links[key], position=position, head=head)
            for a, key, events in zip(aggregate_ids, keys, stored, strict=True)
        ]

    # -- the aggregates the chain knows ------------------------------------------------------

    def subjects_after(
        self, after: UUID | None, limit: int, kinds: Collection[str] | None = None
    ) -> list[tuple[UUID, str, str | None]]:
        """(id, kind, reference) of up to ``limit`` aggregates the chain knows, in the order
        of their ids from after ``after`` (of ``kinds``, class names, default all)."""
        where, params = self._kinds(kinds)
        params |= {"after": "" if after is None else str(after), "limit": limit}
        rows = self.store.query(
            "SELECT aggregate_id, kind, ref FROM audit_subjects"
            f" WHERE aggregate_id > :after{where} ORDER BY aggregate_id LIMIT :limit",
            params,
        )
        return [(UUID(r["aggregate_id"]), r["kind"], r["ref"]) for r in rows]

    def subject_count(self, kinds: Collection[str] | None = None) -> int:
        where, params = self._kinds(kinds)
        rows = self.store.query(
            f"SELECT COUNT(*) AS n FROM audit_subjects WHERE 1 = 1{where}", params
        )
        return int(rows[0]["n"])

    def known(self, aggregate_ids: Sequence[UUID]) -> set[UUID]:
        """Which of ``aggregate_ids`` the chain knows."""
        keys = [str(a) for a in aggregate_ids]
        found: set[UUID] = set()
        for start in range(0, len(keys), CHUNK):
            where, params = _in(keys[start : start + CHUNK])
            rows = self.store.query(
                f"SELECT aggregate_id FROM audit_subjects WHERE aggregate_id {where}", params
            )
            found.update(UUID(r["aggregate_id"]) for r in rows)
        return found

    @staticmethod
    def _kinds(kinds: Collection[str] | None) -> tuple[str, dict[str, Any]]:
        if kinds is None:
            return "", {}
        names = {f"k{i}": kind for i, kind in enumerate(sorted(kinds))}
        if not names:
            return " AND 1 = 0", {}
        return f" AND kind IN ({', '.join(':' + n for n in names)})", names

    def opened_between(
        self,
        start: datetime,
        end: datetime,
        kinds: Collection[str] | None = None,
        limit: int = 1000,
        after: tuple[datetime, UUID] | None = None,
    ) -> list[Subject]:
        """Up to ``limit`` aggregates whose creation event happened in ``[start, end)``, in
        that order then by id, after the position ``after`` (the opening time and id of the
        previous page's last one): walking the pages sees each aggregate once."""
        params: dict[str, Any] = {
            "start": utc_text(start),
            "end": utc_text(end),
            "limit": limit,
        }
        if kinds is not None and not kinds:
            return []
        where, names = self._kinds(kinds)
        params |= names
        if after is not None:
            where += (
                " AND (opened_at > :after_at"
                " OR (opened_at = :after_at AND aggregate_id > :after_id))"
            )
            params |= {"after_at": utc_text(after[0]), "after_id": str(after[1])}
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

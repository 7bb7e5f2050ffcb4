"""``AuditChain``: follows the event store's notification log and chains every stored
record (``chain.link``) with its aggregate's subject row (``rows``), in the tables of
``tables``; the queries are ``queries``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification

from adapters.fast_decoding import decoder_of
from adapters.readstore import Cursor, ReadStore
from projections.audit_chain.chain import GENESIS, as_uuid, link
from projections.audit_chain.outcomes import OUTCOME_DDL, VerificationOutcomes
from projections.audit_chain.queries import AuditQueries
from projections.audit_chain.rows import subject_row
from projections.audit_chain.tables import DDL, TABLES
from projections.deferred_writes import Deferred, write_once
from projections.positions import POSITIONS_DDL, LogPosition
from projections.quarantine import Held
from projections.read_ahead import ReadAhead

logger = logging.getLogger("projections.audit_chain")  # the name it logged under as a module


class AuditChain(LogPosition, AuditQueries, VerificationOutcomes):
    """Follows the notification log and keeps the chain (see ``projections.audit_chain``),
    and what verifications found (``outcomes``).

    Run ``run_once()`` in the projections worker (or ``run(stop)`` in its own thread); it is
    not a ``Projection``: it reads raw records, not decoded events, and is never rebuilt.
    """

    name: ClassVar[str] = "audit_chain"
    tables: ClassVar[tuple[str, ...]] = TABLES

    def __init__(
        self,
        store: ReadStore,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        batch_size: int = 5000,
    ) -> None:
        self.store = store
        self.position_name = self.name
        self._recorder = recorder
        self._decode = decoder_of(mapper)
        self._batch_size = batch_size
        self.nudge = threading.Event()

    def create_tables(self) -> None:
        with self.store.transaction() as cursor:
            cursor.execute(POSITIONS_DDL)
            for statement in (*DDL, *OUTCOME_DDL):
                cursor.execute(statement)
            cursor.execute(
                "INSERT INTO projection_positions (name, position) VALUES (:name, 0)"
                " ON CONFLICT (name) DO NOTHING",
                {"name": self.position_name},
            )

    # -- following the log --------------------------------------------------------------------

    def run_once(self, limit: int | None = None, read: ReadAhead | None = None) -> int:
        """Chain the next ``limit`` notifications (default: the batch size); returns how
        many. Those of ``read`` (the projection runner's) are taken from it when it holds
        what follows the position, instead of reading the log again. On a store with one
        writer the links are computed in a read snapshot and only written under the lock,
        as a projection's batch is (``projections.deferred_writes``)."""
        limit = limit or self._batch_size
        return write_once(
            self,
            self.store,
            lambda seen: self._in_snapshot(seen, limit, read),
            lambda cursor: self._link(cursor, self.locked_position(cursor), limit, read),
        )

    def _in_snapshot(self, seen: Deferred, limit: int, read: ReadAhead | None) -> Deferred:
        notifications = self._following(seen.position, limit, read)
        if notifications:
            self._chain(seen.cursor, notifications)
            seen.applied(notifications[-1].id, len(notifications))
        return seen

    def _link(self, cursor: Cursor, position: int, limit: int, read: ReadAhead | None) -> int:
        notifications = self._following(position, limit, read)
        if not notifications:
            return 0
        self._chain(cursor, notifications)
        self.set_position(cursor, notifications[-1].id)
        return len(notifications)

    def _following(
        self, position: int, limit: int, read: ReadAhead | None
    ) -> Sequence[Notification]:
        notifications = None if read is None else read.following(position, limit)
        if notifications is None:
            notifications = self._recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
        return notifications

    def next_pending(self) -> Held | None:
        """The notification the chain would follow next (what a quarantine row holds of
        it), or None when it is caught up."""
        notifications = self._recorder.select_notifications(
            start=self.position(), limit=1, inclusive_of_start=False
        )
        if not notifications:
            return None
        n = notifications[0]
        return Held(n.id, str(as_uuid(n.originator_id)), n.originator_version, n.topic)

    def run(self, stop: threading.Event, idle_wait_s: float = 0.2) -> None:
        while not stop.is_set():
            if self.run_once() == 0:
                self.nudge.wait(idle_wait_s)
                self.nudge.clear()

    def _chain(self, cursor: Cursor, notifications: Sequence[Notification]) -> None:
        # Each aggregate's id as a UUID and as text, once per batch (``str(UUID)`` is slow).
        originators: dict[Any, tuple[UUID, str]] = {}
        for n in notifications:
            if n.originator_id not in originators:
                uuid = as_uuid(n.originator_id)
                originators[n.originator_id] = (uuid, str(uuid))
        heads = self._heads(cursor, [key for _, key in originators.values()])
        links: list[dict[str, Any]] = []
        subjects: dict[str, dict[str, Any]] = {}
        for n in notifications:
            originator, key = originators[n.originator_id]
            version, previous = heads.get(key, (0, GENESIS))
            if n.originator_version != version + 1:
                logger.warning(
                    "audit chain: %s version %d follows version %d",
                    key,
                    n.originator_version,
                    version,
                )
            digest = link(previous, originator, n.originator_version, n.topic, n.state)
            heads[key] = (n.originator_version, digest)
            links.append({"id": key, "v": n.originator_version, "n": n.id, "h": digest.hex()})
            if key not in subjects:
                subjects[key] = self._subject(key, n)
        for key, subject in subjects.items():
            version, digest = heads[key]
            subject["hv"], subject["hh"] = version, digest.hex()
        cursor.executemany(
            "INSERT INTO audit_chain (aggregate_id, version, notification_id, hash)"
            " VALUES (:id, :v, :n, :h) ON CONFLICT (aggregate_id, version) DO NOTHING",
            links,
        )
        cursor.executemany(
            "INSERT INTO audit_subjects"
            " (aggregate_id, kind, ref, customer_id, opened_at, head_version, head_hash)"
            " VALUES (:id, :kind, :ref, :customer, :opened, :hv, :hh)"
            " ON CONFLICT (aggregate_id) DO UPDATE"
            " SET head_version = excluded.head_version, head_hash = excluded.head_hash",
            list(subjects.values()),
        )

    @staticmethod
    def _heads(cursor: Cursor, ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """The head version and hash of each aggregate of ``ids`` the chain has seen."""
        heads: dict[str, tuple[int, bytes]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            names = {f"a{i}": aggregate for i, aggregate in enumerate(chunk)}
            cursor.execute(
                "SELECT aggregate_id, head_version, head_hash FROM audit_subjects"
                f" WHERE aggregate_id IN ({', '.join(':' + n for n in names)})",
                names,
            )
            for row in cursor.fetchall():
                heads[row["aggregate_id"]] = (
                    int(row["head_version"]),
                    bytes.fromhex(row["head_hash"]),
                )
        return heads

    def _subject(self, key: str, notification: Notification) -> dict[str, Any]:
        """What the creation event says about its aggregate (``None`` where the event
        cannot be read: the chain never stops on an event it cannot decode)."""
        if notification.originator_version != 1:
            return subject_row(key, notification, None)
        try:
            event = self._decode(notification)
        except Exception as error:  # the mapper raises several kinds for unknown topics
            logger.warning("audit chain: cannot decode %s: %s", notification.topic, error)
            return subject_row(key, notification, None)
        return subject_row(key, notification, event)

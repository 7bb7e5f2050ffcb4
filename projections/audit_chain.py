"""The audit chain: every stored event of every aggregate, linked by hash, kept in the read
store, so that an auditor can tell whether a stored event was altered or removed.

How it works. A follower of the event store's notification log reads the raw records
(``Notification``: originator id, version, topic, state bytes, exactly as stored — if
state is compressed or encrypted, the stored bytes, never a re-encoding) and records per
aggregate and version ``link = sha256(previous link ‖ originator id ‖ version ‖ topic ‖
state)``, with lengths framing the variable parts and a fixed genesis value before version
1. Links and the follower's position move in one transaction (exactly-once, as in
``projections.base``). ``verify`` recomputes the chain from the events stored now and
compares it link by link: the first version whose recomputed link differs is *altered*, a
version the chain holds but the store does not is *missing* (a gap, or the last event
deleted), an event the chain should hold but does not is *unexpected*.

Threat model, honestly:

- It detects a change to, or the removal of, any stored event *after the follower chained
  it* (normally well under a second after it was written), made directly in the event
  store — the SQLite file or the PostgreSQL table — by someone who did not also rewrite the
  chain to match.
- It does not prove that an event was legitimate when it was written: an event inserted
  with the next version before the follower reads it is chained like any other. Events not
  yet chained are reported as ``pending``, not verified.
- Someone who can write both stores can rewrite an event and recompute every later link
  of that aggregate; verify then reports nothing. In the scaled deployment both stores
  are the same PostgreSQL database, so a database superuser is such a person; in the
  embedded one, anyone who can write both SQLite files. Protection against them needs the
  chain heads published somewhere they cannot write (not built here).
- Changing only a link (not the event) is reported as an alteration of that version:
  the chain cannot tell which of the two was changed, only that they disagree.

The chain is the record of what was stored, so unlike the read models it must never be
rebuilt from the current event store: that would bless whatever is there now. A new
deployment starts it from the first notification.

It also keeps, per aggregate, its kind, external reference, customer and opening event
time (from the creation event), so that a what-if over a period can find the aggregates
opened in it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification, StoredEvent

from adapters.readstore import Cursor, ReadStore
from projections.base import POSITIONS_DDL

logger = logging.getLogger(__name__)

GENESIS = hashlib.sha256(b"journey/audit-chain/v1").digest()
"""What version 1 of every aggregate links to."""

REF_FIELDS = {
    "Case": "case_ref",
    "Contact": "contact_id",
    "Customer": "customer_id",
    "Order": "order_id",
    "ReturnRequest": "return_id",
    "Callback": "callback_id",
    "Survey": "survey_id",
}
"""The creation event's field that holds each aggregate kind's external id."""


def link(previous: bytes, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """One link of an aggregate's chain over one stored record."""
    digest = hashlib.sha256(previous)
    digest.update(originator_id.bytes)
    digest.update(version.to_bytes(8, "big", signed=True))
    encoded = topic.encode()
    digest.update(len(encoded).to_bytes(4, "big"))
    digest.update(encoded)
    digest.update(len(state).to_bytes(8, "big"))
    digest.update(state)
    return digest.digest()


def as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def utc_text(at: datetime) -> str:
    """A fixed-width UTC timestamp: compares as text in the order of time."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def kind_of(topic: str) -> str:
    """``domain.case:Case.Opened`` → ``Case``."""
    return topic.rpartition(":")[2].partition(".")[0] or topic


@dataclass(frozen=True)
class Link:
    version: int
    notification_id: int
    hash: str


@dataclass(frozen=True)
class Subject:
    """An aggregate the chain has seen."""

    aggregate_id: UUID
    kind: str
    ref: str | None
    customer_id: str | None
    opened_at: datetime | None


ProblemKind = Literal["altered", "missing", "unexpected"]


@dataclass(frozen=True)
class Problem:
    version: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    aggregate_id: UUID
    ok: bool
    events_checked: int
    """Stored events whose link matched the chain, before the first problem."""
    stored: int
    chained: int
    pending: int
    """Stored events the follower has not chained yet: not verified, not a problem."""
    problem: Problem | None

    def as_json(self) -> dict[str, Any]:
        problem = self.problem
        return {
            "aggregate_id": str(self.aggregate_id),
            "ok": self.ok,
            "events_checked": self.events_checked,
            "stored": self.stored,
            "chained": self.chained,
            "pending": self.pending,
            "problem": None
            if problem is None
            else {"version": problem.version, "kind": problem.kind, "detail": problem.detail},
        }


def compare(
    aggregate_id: UUID,
    stored: Sequence[StoredEvent],
    links: Sequence[Link],
    *,
    position: int,
    head: int,
) -> VerifyReport:
    """Recompute the chain from ``stored`` and compare it with ``links``.

    Read the links and the follower's ``position`` first, then the stored events, then the
    notification log's ``head``: every link is then of an event stored before the events
    were read (so a link without its event is a removal, never a race), and an event with
    no link is only *unexpected* when a later version is linked or the follower had passed
    the head before the events were read; otherwise it is *pending*."""
    events = {e.originator_version: e for e in stored}
    chain = {k.version: k for k in links}
    last = max([*events, *chain], default=0)
    last_linked = max(chain, default=0)
    previous = GENESIS
    checked = pending = 0

    def report(problem: Problem | None) -> VerifyReport:
        return VerifyReport(
            aggregate_id, problem is None, checked, len(events), len(chain), pending, problem
        )

    for version in range(1, last + 1):
        event, recorded = events.get(version), chain.get(version)
        if event is not None and recorded is not None:
            previous = link(previous, aggregate_id, version, event.topic, event.state)
            if previous.hex() != recorded.hash:
                return report(
                    Problem(version, "altered", "the stored event differs from the one chained")
                )
            checked += 1
        elif event is None:
            return report(
                Problem(version, "missing", "the chain holds this version; the store does not")
            )
        elif version < last_linked or position >= head:
            return report(
                Problem(
                    version, "unexpected", "stored, but the chain, which has passed it, lacks it"
                )
            )
        else:
            pending += 1
    return report(None)


class AuditChain:
    """Follows the notification log and keeps the chain (see the module docstring).

    Run ``run_once()`` in the projections worker (or ``run(stop)`` in its own thread); it is
    not a ``Projection``: it reads raw records, not decoded events, and is never rebuilt.
    """

    name: ClassVar[str] = "audit_chain"
    tables: ClassVar[tuple[str, ...]] = ("audit_chain", "audit_subjects")

    def __init__(
        self,
        store: ReadStore,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        batch_size: int = 1000,
    ) -> None:
        self.store = store
        self.position_name = self.name
        self._recorder = recorder
        self._mapper = mapper
        self._batch_size = batch_size
        self.nudge = threading.Event()

    def create_tables(self) -> None:
        with self.store.transaction() as cursor:
            cursor.execute(POSITIONS_DDL)
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS audit_chain ("
                " aggregate_id TEXT NOT NULL, version BIGINT NOT NULL,"
                " notification_id BIGINT NOT NULL, hash TEXT NOT NULL,"
                " PRIMARY KEY (aggregate_id, version))"
            )
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS audit_subjects ("
                " aggregate_id TEXT PRIMARY KEY, kind TEXT NOT NULL, ref TEXT,"
                " customer_id TEXT, opened_at TEXT,"
                " head_version BIGINT NOT NULL, head_hash TEXT NOT NULL)"
            )
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS audit_subjects_opened"
                " ON audit_subjects (opened_at, kind)"
            )
            cursor.execute(
                "INSERT INTO projection_positions (name, position) VALUES (:name, 0)"
                " ON CONFLICT (name) DO NOTHING",
                {"name": self.position_name},
            )

    # -- following the log --------------------------------------------------------------------

    def position(self) -> int:
        rows = self.store.query(
            "SELECT position FROM projection_positions WHERE name = :name",
            {"name": self.position_name},
        )
        return int(rows[0]["position"]) if rows else 0

    def run_once(self) -> int:
        """Chain the next batch of notifications; returns how many."""
        with self.store.transaction() as cursor:
            lock = " FOR UPDATE" if self.store.dialect == "postgres" else ""
            cursor.execute(
                f"SELECT position FROM projection_positions WHERE name = :name{lock}",
                {"name": self.position_name},
            )
            rows = cursor.fetchall()
            position = int(rows[0]["position"]) if rows else 0
            notifications = self._recorder.select_notifications(
                start=position, limit=self._batch_size, inclusive_of_start=False
            )
            if not notifications:
                return 0
            self._chain(cursor, notifications)
            cursor.execute(
                "INSERT INTO projection_positions (name, position) VALUES (:name, :pos)"
                " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                {"name": self.position_name, "pos": notifications[-1].id},
            )
            return len(notifications)

    def run(self, stop: threading.Event, idle_wait_s: float = 0.2) -> None:
        while not stop.is_set():
            if self.run_once() == 0:
                self.nudge.wait(idle_wait_s)
                self.nudge.clear()

    def _chain(self, cursor: Cursor, notifications: Sequence[Notification]) -> None:
        ids = list(dict.fromkeys(str(as_uuid(n.originator_id)) for n in notifications))
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
        links: list[dict[str, Any]] = []
        subjects: dict[str, dict[str, Any]] = {}
        for n in notifications:
            originator = as_uuid(n.originator_id)
            key = str(originator)
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
            links.append(
                {"id": key, "v": n.originator_version, "n": n.id, "h": digest.hex()},
            )
            subject = subjects.get(key) or self._subject(key, n)
            subjects[key] = subject | {"hv": n.originator_version, "hh": digest.hex()}
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

    def _subject(self, key: str, notification: Notification) -> dict[str, Any]:
        """What the creation event says about its aggregate (``None`` where the event
        cannot be read: the chain never stops on an event it cannot decode)."""
        kind = kind_of(notification.topic)
        subject: dict[str, Any] = {
            "id": key,
            "kind": kind,
            "ref": None,
            "customer": None,
            "opened": None,
        }
        if notification.originator_version != 1:
            return subject
        try:
            event = self._mapper.to_domain_event(notification)
        except Exception as error:  # the mapper raises several kinds for unknown topics
            logger.warning("audit chain: cannot decode %s: %s", notification.topic, error)
            return subject
        occurred_at = getattr(event, "occurred_at", None)
        ref = getattr(event, REF_FIELDS.get(kind, ""), None)
        customer = getattr(event, "customer_id", None)
        subject["ref"] = ref if isinstance(ref, str) else None
        subject["customer"] = customer if isinstance(customer, str) else None
        subject["opened"] = utc_text(occurred_at) if isinstance(occurred_at, datetime) else None
        return subject

    # -- reading ------------------------------------------------------------------------------

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

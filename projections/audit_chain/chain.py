"""The chain itself, pure: a link over one stored record, and the comparison of an
aggregate's stored events with its links (``compare``), reported as ``VerifyReport``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from eventsourcing.persistence import StoredEvent

GENESIS = hashlib.sha256(b"journey/audit-chain/v1").digest()
"""What version 1 of every aggregate links to."""


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


@dataclass(frozen=True)
class Link:
    version: int
    notification_id: int
    hash: str


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
            if not isinstance(event.state, bytes | bytearray | memoryview):
                # Written behind the store's back as another type (text): no longer what
                # was chained, and not hashable as bytes.
                return report(Problem(version, "altered", "the stored state is not bytes"))
            previous = link(previous, aggregate_id, version, event.topic, bytes(event.state))
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

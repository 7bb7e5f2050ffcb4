"""The auditor's side: a case's history, its state at a past point, proof that the stored
events of a case or of any aggregate were not altered (``application.verification``), and
what-if under another policy version (R-CH-02). No HTTP here:
every answer is JSON-ready (``as_json`` or plain dicts) for the API to return as it is.

Conventions of every answer:

- Times are ISO 8601 strings with their offset (event times as the source stated them;
  recorded times in UTC); durations (targets, actual times) are seconds as numbers.
- ``occurred_at`` is event time, carried by facts (creation included); clock decisions
  have none (their own times are in ``data``) but name the fact that caused them in
  ``caused_by``, or the watermark for a breach the timer detected.
- ``recorded_at`` is when the event store recorded the event (the eventsourcing event's
  ``timestamp``, taken when the aggregate decided it).

``state(at)`` answers at one of three points (``AsOf``), named so that nobody confuses
them:

- an **event time** (``as_of``, what an auditor means by default): what had *happened* by
  then — the facts whose ``occurred_at`` is at or before it, in the order they were
  recorded, with the SLA clocks decided again from them under the policy the case was
  opened under, and breached by a watermark at that time (``domain.aggregate.replay_facts``,
  as what-if does). A fact that arrived late counts from when it happened;
- a **recorded time** (``recorded_as_of``): the case as the system held it at that moment
  (the events recorded at or before it), which is what an auditor asks when checking what
  the service knew when it acted;
- a **version**: the case after that many stored events.

A date alone (``2026-03-05``) is an event time: the end of that day in the report time
zone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import StoredEvent

from application.as_of import AsOf, AsOfOutOfRange, parse_as_of, parse_recorded_as_of
from application.json_ready import plain
from application.service import JourneyApplication
from application.verification import Verifier
from application.what_if import (
    AggregateDifference,
    Position,
    WhatIfReport,
    outcome_differences,
)
from domain.aggregate import JourneyAggregate, is_fact, outcomes_under, replay_facts
from domain.case import Case
from domain.errors import DomainError, NotFound
from domain.policy import policy_named
from domain.registry import kind_named
from projections.audit_chain import AuditChain, VerifyReport

_T = TypeVar("_T")

__all__ = [
    "AsOf",
    "AsOfOutOfRange",
    "Auditor",
    "HistoryDamaged",
    "WhatIfScope",
    "parse_as_of",
    "parse_recorded_as_of",
]


class WhatIfScope(DomainError):
    """A what-if names both a case and a period, or neither."""


class HistoryDamaged(DomainError):
    """The stored events cannot be replayed (a gap, or an event that cannot be decoded):
    ``verify`` says which."""


@dataclass(frozen=True)
class Undecodable:
    """A stored event this build cannot read (unknown type, or bytes that were changed)."""

    version: int
    topic: str
    error: str


_ENVELOPE = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "occurred_at"}
)


def _cause(version: int, event: Any) -> dict[str, Any]:
    return {
        "kind": "fact",
        "version": version,
        "type": type(event).__name__,
        "event_id": event.source.event_id,
    }


def history_entries(events: list[tuple[StoredEvent, Any]]) -> list[dict[str, Any]]:
    """Every event in version order, JSON-ready (see ``Auditor.history``)."""
    entries: list[dict[str, Any]] = []
    cause: dict[str, Any] | None = None
    for stored, event in events:
        version = stored.originator_version
        if isinstance(event, Undecodable):
            cause = None
            entries.append(
                {
                    "version": version,
                    "type": stored.topic.rpartition(":")[2],
                    "kind": "undecodable",
                    "occurred_at": None,
                    "recorded_at": None,
                    "source": None,
                    "caused_by": None,
                    "data": {"error": event.error},
                }
            )
            continue
        caused_by: dict[str, Any] | None = None
        if is_fact(event):
            kind = "fact"
            cause = _cause(version, event)
        else:
            kind = "decision"
            if getattr(event, "detected_by", None) == "watermark":
                cause = {"kind": "watermark"}
            caused_by = cause
        fields = vars(event)
        entries.append(
            {
                "version": version,
                "type": type(event).__name__,
                "kind": kind,
                "occurred_at": plain(fields.get("occurred_at")),
                "recorded_at": event.timestamp.isoformat(),
                "source": plain(fields.get("source")),
                "caused_by": caused_by,
                "data": {
                    k: plain(v) for k, v in fields.items() if k not in _ENVELOPE and k != "source"
                },
            }
        )
    return entries


def aggregate_state(aggregate: JourneyAggregate) -> dict[str, Any]:
    """The aggregate's attributes, JSON-ready, with its clocks as open deadlines and
    outcomes."""
    clocks = aggregate.clocks
    state = {
        name: plain(value)
        for name, value in vars(aggregate).items()
        if not name.startswith("_") and name not in ("applied", "clocks", "chains")
    }
    return {
        "aggregate_id": str(aggregate.id),
        "kind": type(aggregate).__name__,
        "version": aggregate.version,
        "recorded_at": aggregate.modified_on.isoformat(),
        **state,
        "clocks": {
            "open": [plain(d) for d in sorted(clocks.open.values(), key=lambda d: d.due_at)],
            "outcomes": [plain(o) for _, o in sorted(clocks.outcomes.items())],
        },
    }


def _damaged(aggregate_id: UUID, event: Undecodable) -> HistoryDamaged:
    return HistoryDamaged(
        f"version {event.version} of {aggregate_id} cannot be read: {event.error}"
    )


class Auditor:
    """Reads the event store (and the audit chain) for auditors; never writes."""

    def __init__(self, app: JourneyApplication, chain: AuditChain, report_tz: tzinfo = UTC) -> None:
        self.app = app
        self.chain = chain
        self.report_tz = report_tz
        """The zone a date alone is a day of (``parse_as_of``)."""
        self.verifier = Verifier(app, chain)
        """Verifies one aggregate or the whole store, and records what it found."""

    # -- reading the stored events --------------------------------------------------------

    def _events(self, aggregate_id: UUID) -> list[tuple[StoredEvent, Any]]:
        mapper = self.app.mapper
        events: list[tuple[StoredEvent, Any]] = []
        for stored in self.app.recorder.select_events(aggregate_id):
            try:
                event: Any = mapper.to_domain_event(stored)
            except Exception as error:  # the mapper raises several kinds for unknown topics
                event = Undecodable(stored.originator_version, stored.topic, str(error))
            events.append((stored, event))
        if not events:
            raise NotFound(f"no aggregate {aggregate_id}")
        return events

    def _decoded(self, aggregate_id: UUID, ref: str | None = None) -> list[Any]:
        """The aggregate's events, every one decoded; HistoryDamaged if one cannot be."""
        try:
            events = self._events(aggregate_id)
        except NotFound:
            raise NotFound(f"no aggregate {aggregate_id} ({ref})") from None
        for _, event in events:
            if isinstance(event, Undecodable):
                raise HistoryDamaged(
                    f"version {event.version} of {aggregate_id} cannot be read: {event.error}"
                )
        return [event for _, event in events]

    # -- history -------------------------------------------------------------------------

    def history(self, case_ref: str) -> list[dict[str, Any]]:
        """Every stored event of the case in version order: ``version``, ``type`` (class
        name), ``kind`` (fact, decision, or undecodable), ``occurred_at``, ``recorded_at``,
        ``source`` (``event_id``, ``topic``, ``partition``, ``offset`` of the source record,
        or ``None`` for decisions), ``caused_by`` (for decisions: ``{"kind": "fact",
        "version", "type", "event_id"}`` or ``{"kind": "watermark"}``) and ``data`` (the
        event's own fields)."""
        return self.history_of(Case.create_id(case_ref))

    def history_of(self, aggregate_id: UUID) -> list[dict[str, Any]]:
        return history_entries(self._events(aggregate_id))

    def history_by(self, kind: str, ref: str) -> list[dict[str, Any]]:
        """``history`` for any kind of aggregate (``orders``: ``domain.registry``) by the id
        its channel sent; ``UnknownKind`` for another kind, ``NotFound`` when none is
        stored under the id."""
        return self._named(kind, ref, self.history_of)

    # -- state at a point ---------------------------------------------------------------

    def state(self, case_ref: str, at: AsOf | None = None) -> dict[str, Any]:
        """The case at ``at`` (an event time, a recorded time or a version: ``AsOf``), or
        as stored now (``None``). Adds ``as_of`` (``{"basis", "value"}``, or ``None``) to
        the aggregate's state (see ``aggregate_state``)."""
        return self.state_of(Case.create_id(case_ref), at)

    def state_by(self, kind: str, ref: str, at: AsOf | None = None) -> dict[str, Any]:
        """``state`` for any kind of aggregate by the id its channel sent."""
        return self._named(kind, ref, lambda aggregate_id: self.state_of(aggregate_id, at))

    @staticmethod
    def _named(kind: str, ref: str, read: Callable[[UUID], _T]) -> _T:
        try:
            return read(kind_named(kind).id_of(ref))
        except NotFound:
            raise NotFound(f"ref: no {kind} {ref!r} is stored") from None

    def state_of(self, aggregate_id: UUID, at: AsOf | None = None) -> dict[str, Any]:
        events = self._events(aggregate_id)
        as_of = None if at is None else at.as_json()
        if at is not None and isinstance(at.value, datetime):
            if at.value.tzinfo is None or at.value.utcoffset() is None:
                raise AsOfOutOfRange(f"{at.basis}: a time needs a UTC offset")
            if at.basis == "event_time":
                return {**self._happened_by(aggregate_id, events, at.value), "as_of": as_of}
        prefix = self._prefix(aggregate_id, events, at)
        aggregate: Any = None
        for stored, event in prefix:
            if isinstance(event, Undecodable):
                raise _damaged(aggregate_id, event)
            try:
                aggregate = event.mutate(aggregate)
            except OriginatorVersionError:
                raise HistoryDamaged(
                    f"the stored events of {aggregate_id} skip to version"
                    f" {stored.originator_version}"
                ) from None
        return {**aggregate_state(aggregate), "as_of": as_of}

    @staticmethod
    def _happened_by(
        aggregate_id: UUID, events: list[tuple[StoredEvent, Any]], at: datetime
    ) -> dict[str, Any]:
        """The state from the facts that had happened by ``at`` (event time), their clocks
        decided again under the case's policy, the watermark at ``at``."""
        for _, event in events:
            if isinstance(event, Undecodable):
                raise _damaged(aggregate_id, event)
        facts = [(s, e) for s, e in events if is_fact(e) and e.occurred_at <= at]
        if not facts or facts[0][0].originator_version != 1:
            raise NotFound(f"{aggregate_id} had not happened by {at.isoformat()} (event time)")
        first = facts[0][1]
        policy = policy_named(getattr(first, "policy_version"))  # noqa: B009
        aggregate = replay_facts([e for _, e in facts], policy, at)
        last_stored, last = facts[-1]
        return {
            **aggregate_state(aggregate),
            "version": last_stored.originator_version,
            "recorded_at": last.timestamp.isoformat(),
        }

    @staticmethod
    def _prefix(
        aggregate_id: UUID,
        events: list[tuple[StoredEvent, Any]],
        at: AsOf | None,
    ) -> list[tuple[StoredEvent, Any]]:
        if at is None:
            return events
        if isinstance(at.value, int):
            last = events[-1][0].originator_version
            if not 1 <= at.value <= last:
                raise AsOfOutOfRange(f"{aggregate_id} has versions 1 to {last}, not {at.value}")
            return [(s, e) for s, e in events if s.originator_version <= at.value]
        prefix = []
        for stored, event in events:
            if isinstance(event, Undecodable) or event.timestamp > at.value:
                break
            prefix.append((stored, event))
        if not prefix:
            raise NotFound(f"{aggregate_id} had not been recorded by {at.value.isoformat()}")
        return prefix

    # -- integrity ----------------------------------------------------------------------

    def verify(self, case_ref: str) -> VerifyReport:
        """Recompute the case's hash chain from its stored events and compare it with the
        audit chain: ``ok``, ``events_checked``, and the first problem (``version``,
        ``kind``: altered, missing or unexpected). Raises ``NotFound`` when neither the
        store nor the chain knows the case."""
        return self.verifier.verify("cases", case_ref)

    def verify_aggregate(self, kind: str, ref: str) -> VerifyReport:
        """``verify`` for any kind of aggregate (``orders``: ``domain.registry``) by the
        id its channel sent (issue 13, item 11); ``UnknownKind`` for another kind."""
        return self.verifier.verify(kind, ref)

    # -- what-if (R-CH-02) --------------------------------------------------------------

    def what_if(
        self,
        policy_version: str,
        *,
        case_ref: str | None = None,
        period: tuple[datetime, datetime] | None = None,
        kinds: Collection[str] | None = None,
        as_of: datetime | None = None,
        limit: int = 1000,
        after: Position | None = None,
    ) -> WhatIfReport:
        """Replay one case, or the aggregates opened (by event time) in ``period`` =
        ``[start, end)`` (of ``kinds``, default all) a page at a time: at most ``limit``, in
        the order they opened then by id, after the position ``after`` (the report's
        ``next_after`` of the page before), under ``policy_version`` and under the version
        each recorded, as of the same time (``as_of``, default each one's latest fact).
        Stored events are only read. Reports the aggregates whose SLA outcomes differ.
        Raises ``UnknownPolicy`` for an unknown version."""
        alternative_policy = policy_named(policy_version)
        targets: list[tuple[UUID, str | None]]
        next_after = None
        if case_ref is not None and period is None and after is None:
            targets = [(Case.create_id(case_ref), case_ref)]
        elif period is not None and case_ref is None:
            start, end = period
            subjects = self.chain.opened_between(start, end, kinds, limit + 1, after)
            targets = [(s.aggregate_id, s.ref) for s in subjects[:limit]]
            last = subjects[limit - 1] if len(subjects) > limit else None
            if last is not None and last.opened_at is not None:
                next_after = (last.opened_at, last.aggregate_id)
        else:
            raise WhatIfScope(
                "a what-if replays one case or one period (a page of it after a cursor):"
                " give exactly one"
            )
        differences = []
        for aggregate_id, ref in targets:
            events = self._decoded(aggregate_id, ref)
            first = events[0]
            recorded_version: str = getattr(first, "policy_version")  # noqa: B009
            changed = outcome_differences(
                outcomes_under(events, policy_named(recorded_version), as_of),
                outcomes_under(events, alternative_policy, as_of),
            )
            if changed:
                kind = type(first).__qualname__.partition(".")[0]
                differences.append(
                    AggregateDifference(aggregate_id, kind, ref, recorded_version, changed)
                )
        return WhatIfReport(policy_version, len(targets), differences, next_after)

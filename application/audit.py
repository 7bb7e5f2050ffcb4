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

``state(as_of=<time>)`` is by *recorded* time: the case as the system held it at that
moment (the events recorded at or before it, up to the first one recorded after it), which
is what an auditor asks when checking what the service knew when it acted. By event time a
past state is not well defined — facts may arrive after later ones (a reply stamped earlier
than it arrived) — so event-time questions go to the SLA outcomes, which are computed by
event time whatever the arrival order, or to ``what_if(..., as_of=...)``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import StoredEvent

from application.json_ready import plain
from application.service import JourneyApplication
from application.verification import Verifier
from application.what_if import AggregateDifference, WhatIfReport, outcome_differences
from domain.aggregate import JourneyAggregate, is_fact, outcomes_under
from domain.case import Case
from domain.errors import DomainError, NotFound
from domain.policy import policy_named
from projections.audit_chain import AuditChain, VerifyReport


class AsOfOutOfRange(DomainError):
    """``as_of`` names a version the case does not have, or a time without a zone."""


class WhatIfScope(DomainError):
    """A what-if names both a case and a period, or neither."""


class HistoryDamaged(DomainError):
    """The stored events cannot be replayed (a gap, or an event that cannot be decoded):
    ``verify`` says which."""


MAX_VERSION = 2**63 - 1
"""The largest version the event stores hold (a 64-bit integer)."""


def parse_as_of(text: str) -> datetime | int:
    """The ``as_of`` query parameter: a version (ASCII digits) or an RFC 3339 time with an
    offset that has a UTC instant (not every time near year 1 or 9999 does)."""
    if text.isascii() and text.isdigit():
        if len(text) > len(str(MAX_VERSION)) or int(text) > MAX_VERSION:
            raise AsOfOutOfRange(f"as_of: a version from 1 to {MAX_VERSION}")
        return int(text)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise AsOfOutOfRange(f"as_of {text!r} is neither a version nor an ISO time") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise AsOfOutOfRange(f"as_of {text!r} has no UTC offset")
    try:
        at.astimezone(UTC)
    except OverflowError:
        raise AsOfOutOfRange(f"as_of {text!r} has no UTC instant (years 1 to 9999)") from None
    return at


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


class Auditor:
    """Reads the event store (and the audit chain) for auditors; never writes."""

    def __init__(self, app: JourneyApplication, chain: AuditChain) -> None:
        self.app = app
        self.chain = chain
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

    # -- state at a point ---------------------------------------------------------------

    def state(self, case_ref: str, as_of: datetime | int | None = None) -> dict[str, Any]:
        """The case rebuilt at version ``as_of`` (int), or from the events recorded at or
        before ``as_of`` (a time with offset), or now (``None``). Adds ``as_of`` to the
        aggregate's state (see ``aggregate_state``)."""
        return self.state_of(Case.create_id(case_ref), as_of)

    def state_of(self, aggregate_id: UUID, as_of: datetime | int | None = None) -> dict[str, Any]:
        events = self._events(aggregate_id)
        prefix = self._prefix(aggregate_id, events, as_of)
        aggregate: Any = None
        for stored, event in prefix:
            if isinstance(event, Undecodable):
                raise HistoryDamaged(
                    f"version {event.version} of {aggregate_id} cannot be read: {event.error}"
                )
            try:
                aggregate = event.mutate(aggregate)
            except OriginatorVersionError:
                raise HistoryDamaged(
                    f"the stored events of {aggregate_id} skip to version"
                    f" {stored.originator_version}"
                ) from None
        return {**aggregate_state(aggregate), "as_of": plain(as_of)}

    @staticmethod
    def _prefix(
        aggregate_id: UUID,
        events: list[tuple[StoredEvent, Any]],
        as_of: datetime | int | None,
    ) -> list[tuple[StoredEvent, Any]]:
        if as_of is None:
            return events
        if isinstance(as_of, int):
            last = events[-1][0].originator_version
            if not 1 <= as_of <= last:
                raise AsOfOutOfRange(f"{aggregate_id} has versions 1 to {last}, not {as_of}")
            return [(s, e) for s, e in events if s.originator_version <= as_of]
        if as_of.tzinfo is None:
            raise AsOfOutOfRange("as_of needs a UTC offset")
        prefix = []
        for stored, event in events:
            if isinstance(event, Undecodable) or event.timestamp > as_of:
                break
            prefix.append((stored, event))
        if not prefix:
            raise NotFound(f"{aggregate_id} had not been recorded by {as_of.isoformat()}")
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
    ) -> WhatIfReport:
        """Replay one case, or every aggregate opened (by event time) in ``period`` =
        ``[start, end)`` (of ``kinds``, default all; at most ``limit``), under
        ``policy_version`` and under the version each recorded, as of the same time
        (``as_of``, default each one's latest fact). Stored events are only read. Reports
        the aggregates whose SLA outcomes differ. Raises ``UnknownPolicy`` for an unknown
        version."""
        alternative_policy = policy_named(policy_version)
        targets: list[tuple[UUID, str | None]]
        if case_ref is not None and period is None:
            targets = [(Case.create_id(case_ref), case_ref)]
        elif period is not None and case_ref is None:
            start, end = period
            targets = [
                (s.aggregate_id, s.ref) for s in self.chain.opened_between(start, end, kinds, limit)
            ]
        else:
            raise WhatIfScope("a what-if replays one case or one period: give exactly one")
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
        return WhatIfReport(policy_version, len(targets), differences)

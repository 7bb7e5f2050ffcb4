"""Stored events verified against the audit chain (issue 13, item 11): any aggregate by the
id its channel sent, or the whole store (``journey verify``).

The whole store is every aggregate the chain knows *and* every aggregate the event store
holds: one stored but never chained is reported too (``unexpected`` once the chain has
passed it, ``pending`` before), as ``compare`` does for a single aggregate. Both are read a
page at a time, the chain's by its subjects and the store's by its ids
(``existing_ids.originator_pages_of``), and verified a batch at a time, so memory holds one
batch, not the store.

Every verification is recorded beside the chain (counts per kind and outcome, and each
failure: ``projections.audit_chain.outcomes``) by the process that made it, and each
failure is logged as a warning, so ``/metrics`` counts what the API and the command found.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from application.existing_ids import OriginatorPages, originator_pages_of
from application.service import JourneyApplication
from domain.errors import NotFound
from domain.registry import kind_label, kind_named, kind_of_class
from projections.audit_chain import AuditChain, Verified, VerifyReport, kind_of

logger = logging.getLogger(__name__)

BATCH = 200
"""Aggregates verified together: their links read in one query, their outcomes recorded
in one transaction."""
LISTED = 1000
"""Failures a store report lists; more are counted, logged and recorded, not listed."""

Progress = Callable[[int, int], None]
"""Told (aggregates verified, aggregates expected) after each batch."""


@dataclass(frozen=True)
class Failure:
    kind: str
    ref: str | None
    aggregate_id: UUID
    version: int
    problem: str
    """altered, missing or unexpected"""
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "aggregate_id": str(self.aggregate_id),
            "version": self.version,
            "problem": self.problem,
            "detail": self.detail,
        }


@dataclass
class KindTally:
    aggregates: int = 0
    events_checked: int = 0
    ok: int = 0
    failed: int = 0
    pending: int = 0
    """Stored events not chained yet: not verified, not a failure."""

    def add(self, report: VerifyReport) -> None:
        self.aggregates += 1
        self.events_checked += report.events_checked
        self.pending += report.pending
        if report.ok:
            self.ok += 1
        else:
            self.failed += 1


@dataclass
class StoreReport:
    """What ``verify_store`` found: per kind, and the failures (the first ``listed``)."""

    kinds: dict[str, KindTally] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    @property
    def total(self) -> KindTally:
        total = KindTally()
        for tally in self.kinds.values():
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(tally, name))
        return total

    @property
    def ok(self) -> bool:
        return self.total.failed == 0

    def as_json(self) -> dict[str, Any]:
        total = self.total
        return {
            "ok": self.ok,
            "total": vars(total),
            "kinds": {name: vars(self.kinds[name]) for name in sorted(self.kinds)},
            "failures": [f.as_json() for f in self.failures],
            "failures_not_listed": total.failed - len(self.failures),
        }


def _now() -> datetime:
    return datetime.now(UTC)


class Verifier:
    """Verifies stored events against ``chain`` and records what it found."""

    def __init__(
        self,
        app: JourneyApplication,
        chain: AuditChain,
        batch: int = BATCH,
        clock: Callable[[], datetime] = _now,
        originators: OriginatorPages | None = None,
        listed: int = LISTED,
    ) -> None:
        self.app = app
        self.chain = chain
        self.batch = batch
        self.listed = listed
        self._clock = clock
        self._originators = originators or originator_pages_of(app.process_recorder)

    def verify(self, kind: str, ref: str) -> VerifyReport:
        """The aggregate of ``kind`` (``orders``) that its channel calls ``ref``:
        ``UnknownKind`` for a kind that is not one, ``NotFound`` when neither the store nor
        the chain knows it."""
        known = kind_named(kind)
        report = self.chain.verify(known.id_of(ref))
        if report.stored == 0 and report.chained == 0:
            raise NotFound(f"{known.name}: nothing stored or chained for {ref!r}")
        self.record([Verified(known.name, ref, report)])
        return report

    def record(self, verified: Sequence[Verified]) -> None:
        """Count ``verified`` where every process sees it, and log each failure."""
        self.chain.record_verifications(verified, self._clock())
        for v in verified:
            problem = v.report.problem
            if problem is None:
                continue
            logger.warning(
                "audit verification failed: %s %s (%s) version %d %s: %s",
                v.kind,
                v.ref if v.ref is not None else "-",
                v.report.aggregate_id,
                problem.version,
                problem.kind,
                problem.detail,
                extra={
                    "kind": v.kind,
                    "ref": v.ref,
                    "aggregate_id": str(v.report.aggregate_id),
                    "version": problem.version,
                    "problem": problem.kind,
                },
            )

    # -- the whole store ----------------------------------------------------------------------

    def expected(self, kinds: Collection[str] | None = None) -> int:
        """How many aggregates (of ``kinds``) the chain knows: what a run will verify,
        besides any the store holds that the chain does not."""
        return self.chain.subject_count(self._classes(kinds))

    def verify_store(
        self, kinds: Collection[str] | None = None, progress: Progress | None = None
    ) -> StoreReport:
        """Every aggregate the chain knows and every one the store holds (of ``kinds``,
        names as in ``domain.registry``; default all, parking lots included)."""
        classes = self._classes(kinds)
        expected = self.chain.subject_count(classes)
        report = StoreReport()
        done = 0
        for verified in self._batches(classes):
            self.record(verified)
            for v in verified:
                report.kinds.setdefault(v.kind, KindTally()).add(v.report)
                problem = v.report.problem
                if problem is not None and len(report.failures) < self.listed:
                    report.failures.append(
                        Failure(
                            v.kind,
                            v.ref,
                            v.report.aggregate_id,
                            problem.version,
                            problem.kind,
                            problem.detail,
                        )
                    )
            done += len(verified)
            if progress is not None:
                progress(done, max(done, expected))
        return report

    @staticmethod
    def _classes(kinds: Collection[str] | None) -> set[str] | None:
        return None if kinds is None else {kind_named(k).aggregate.__name__ for k in kinds}

    def _batches(self, classes: set[str] | None) -> Iterator[list[Verified]]:
        """Chained aggregates first, by the chain's subjects; then those stored but unknown
        to the chain. An aggregate created meanwhile may be in neither pass: it is new."""
        after: UUID | None = None
        while page := self.chain.subjects_after(after, self.batch, classes):
            after = page[-1][0]
            reports = self.chain.verify_many([aggregate_id for aggregate_id, _, _ in page])
            yield [
                Verified(kind_label(kind), ref, r)
                for (_, kind, ref), r in zip(page, reports, strict=True)
            ]
        for ids in self._originators(self.batch):
            known = self.chain.known(ids)
            unknown = [i for i in ids if i not in known]
            if not unknown:
                continue
            subjects = [self._unchained(i) for i in unknown]
            chosen = [
                (i, kind, ref)
                for i, (kind, ref) in zip(unknown, subjects, strict=True)
                if classes is None or kind in classes
            ]
            reports = self.chain.verify_many([i for i, _, _ in chosen])
            verified = [
                Verified(kind_label(kind), ref, r)
                for (_, kind, ref), r in zip(chosen, reports, strict=True)
                if r.stored or r.chained  # removed since it was listed: nothing to verify
            ]
            if verified:
                yield verified

    def _unchained(self, aggregate_id: UUID) -> tuple[str, str | None]:
        """The class name and channel's id of an aggregate the chain does not know, from
        its first stored event (its ref left out if that event cannot be read)."""
        first = self.app.recorder.select_events(aggregate_id, limit=1)
        if not first:
            return "unknown", None
        kind = kind_of(first[0].topic)
        declared = kind_of_class(kind)
        if declared is None:
            return kind, None
        try:
            event = self.app.mapper.to_domain_event(first[0])
        except Exception:  # the mapper raises several kinds for altered bytes
            return kind, None
        ref = getattr(event, declared.ref_field, None)
        return kind, ref if isinstance(ref, str) else None

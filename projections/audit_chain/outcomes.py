"""What verifications found, kept beside the chain (issue 13, item 11).

- ``audit_verifications``: per kind and outcome (``ok``, ``failed``), how many aggregates
  were verified. One row per kind and outcome, so it stays small, and every ``/metrics``
  scrape reads it whole.
- ``audit_verification_failures``: each failure once per aggregate, version and problem,
  with when it was first and last found and how often: bounded by what is damaged, not by
  how often it is verified.

Whichever process verifies writes them (the API, ``journey verify``), so the server's
``/metrics`` counts the failures the command found in another process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from adapters.readstore import ReadStore
from projections.audit_chain.chain import VerifyReport
from projections.audit_chain.rows import utc_text

OUTCOME_TABLES = ("audit_verifications", "audit_verification_failures")

OUTCOME_DDL = (
    "CREATE TABLE IF NOT EXISTS audit_verifications ("
    " kind TEXT NOT NULL, outcome TEXT NOT NULL, total BIGINT NOT NULL,"
    " PRIMARY KEY (kind, outcome))",
    "CREATE TABLE IF NOT EXISTS audit_verification_failures ("
    " aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, problem TEXT NOT NULL,"
    " kind TEXT NOT NULL, ref TEXT, detail TEXT NOT NULL,"
    " first_at TEXT NOT NULL, last_at TEXT NOT NULL, times BIGINT NOT NULL,"
    " PRIMARY KEY (aggregate_id, version, problem))",
)


@dataclass(frozen=True)
class Verified:
    """One aggregate's verification, as it is recorded: its kind as shown
    (``domain.registry.kind_label``), the id its channel sent if known, and the report."""

    kind: str
    ref: str | None
    report: VerifyReport


@dataclass(frozen=True)
class VerificationCount:
    kind: str
    verified: int
    failed: int


@dataclass(frozen=True)
class RecordedFailure:
    aggregate_id: UUID
    version: int
    problem: str
    kind: str
    ref: str | None
    detail: str
    first_at: str
    last_at: str
    times: int


class VerificationOutcomes:
    """The recording half of ``AuditChain``'s verifications."""

    store: ReadStore

    def record_verifications(self, verified: Sequence[Verified], at: datetime) -> None:
        """Count ``verified`` by kind and outcome, and keep each failure; one transaction."""
        if not verified:
            return
        tally = Counter((v.kind, "ok" if v.report.ok else "failed") for v in verified)
        failures = [
            {
                "id": str(v.report.aggregate_id),
                "v": v.report.problem.version,
                "p": v.report.problem.kind,
                "kind": v.kind,
                "ref": v.ref,
                "detail": v.report.problem.detail,
                "at": utc_text(at),
            }
            for v in verified
            if v.report.problem is not None
        ]
        with self.store.transaction() as cursor:
            cursor.executemany(
                "INSERT INTO audit_verifications (kind, outcome, total)"
                " VALUES (:kind, :outcome, :n) ON CONFLICT (kind, outcome)"
                " DO UPDATE SET total = audit_verifications.total + excluded.total",
                [{"kind": k, "outcome": o, "n": n} for (k, o), n in sorted(tally.items())],
            )
            if failures:
                cursor.executemany(
                    "INSERT INTO audit_verification_failures"
                    " (aggregate_id, version, problem, kind, ref, detail, first_at, last_at,"
                    " times) VALUES (:id, :v, :p, :kind, :ref, :detail, :at, :at, 1)"
                    " ON CONFLICT (aggregate_id, version, problem) DO UPDATE"
                    " SET last_at = excluded.last_at, detail = excluded.detail,"
                    " times = audit_verification_failures.times + 1",
                    failures,
                )

    def verification_counts(self) -> list[VerificationCount]:
        """Per kind, the aggregates verified and those that failed, ever, by any process."""
        rows = self.store.query("SELECT kind, outcome, total FROM audit_verifications")
        verified: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        for row in rows:
            verified[row["kind"]] += int(row["total"])
            if row["outcome"] == "failed":
                failed[row["kind"]] += int(row["total"])
        return [VerificationCount(k, verified[k], failed[k]) for k in sorted(verified)]

    def recorded_failures(self, limit: int = 100) -> list[RecordedFailure]:
        """The failures found, the most recently found first."""
        rows = self.store.query(
            "SELECT aggregate_id, version, problem, kind, ref, detail, first_at, last_at, times"
            " FROM audit_verification_failures"
            " ORDER BY last_at DESC, aggregate_id, version LIMIT :limit",
            {"limit": limit},
        )
        return [
            RecordedFailure(
                UUID(r["aggregate_id"]),
                int(r["version"]),
                r["problem"],
                r["kind"],
                r["ref"],
                r["detail"],
                r["first_at"],
                r["last_at"],
                int(r["times"]),
            )
            for r in rows
        ]

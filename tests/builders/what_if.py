"""Complaints whose SLA outcomes differ, or not, between the baseline policy and the draft
(R-CH-02), for the what-if tests of the auditor (tests/unit/test_audit.py) and of its route
(tests/unit/test_what_if_route.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.policy import POLICIES
from tests.unit.feeding import Feed, source

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
DRAFT = POLICIES["2027.1-draft"]


def complaint(feed: Feed, ref: str, update_after: timedelta, at: datetime = T0) -> None:
    """A complaint case (R-CMP-03: progress updates every 24 h under the baseline, 12 h
    under the draft) with an owner, options, and one progress update ``update_after`` it
    opened."""
    refused = feed(
        source(
            "contact.opened",
            {"contact_id": ref, "classification": "complaint", "topic": "order"},
            at,
            f"{ref}-opened",
        ),
        source(
            "case.owner_assigned",
            {
                "case_id": ref,
                "owner": "ag-17",
                "due_at": (at + 72 * HOUR).isoformat(),
                "acceptance_criteria": "replacement delivered",
            },
            at + timedelta(minutes=5),
            f"{ref}-owner",
        ),
        source(
            "case.options_offered",
            {"case_id": ref, "options": ["replace", "refund"]},
            at + timedelta(minutes=10),
            f"{ref}-options",
        ),
        source("case.progress_update_sent", {"case_id": ref}, at + update_after, f"{ref}-p1"),
    )
    assert refused == []

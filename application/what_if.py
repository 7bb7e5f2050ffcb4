"""What-if under another policy version (R-CH-02): which SLA outcomes of an aggregate
would differ, as a JSON-ready report; over a period, a page of the aggregates opened in it
at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from application.json_ready import plain
from domain.clocks import Outcome

OutcomeState = Literal["met", "breached", "undecided"]

Position = tuple[datetime, UUID]
"""Where a page of a what-if over a period ends: its last aggregate's opening (event) time
and id, the order of the pages."""


def _state(outcome: Outcome | None) -> OutcomeState:
    if outcome is None:
        return "undecided"
    return "met" if outcome.met else "breached"


@dataclass(frozen=True)
class OutcomeDifference:
    key: str
    rule: str
    recorded: Outcome | None
    """Under the policy version the aggregate recorded (replayed, as of the same time)."""
    alternative: Outcome | None

    @property
    def change(self) -> str:
        return f"{_state(self.recorded)} -> {_state(self.alternative)}"

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "rule": self.rule,
            "change": self.change,
            "recorded": plain(self.recorded),
            "alternative": plain(self.alternative),
        }


@dataclass(frozen=True)
class AggregateDifference:
    aggregate_id: UUID
    kind: str
    ref: str | None
    recorded_policy_version: str
    outcomes: list[OutcomeDifference]

    def as_json(self) -> dict[str, Any]:
        return {
            "aggregate_id": str(self.aggregate_id),
            "kind": self.kind,
            "ref": self.ref,
            "recorded_policy_version": self.recorded_policy_version,
            "differences": [o.as_json() for o in self.outcomes],
        }


@dataclass(frozen=True)
class WhatIfReport:
    policy_version: str
    replayed: int
    differences: list[AggregateDifference]
    """Only the aggregates whose SLA outcomes differ."""
    next_after: Position | None = None
    """Where the next page of the period starts after; None on the last page (and for one
    case). The figures of ``as_json`` are this page's."""

    def as_json(self) -> dict[str, Any]:
        changes = [o.change for d in self.differences for o in d.outcomes]
        return {
            "policy_version": self.policy_version,
            "replayed": self.replayed,
            "differing": len(self.differences),
            "newly_breached": sum(c.endswith("-> breached") for c in changes),
            "no_longer_breached": sum(c.startswith("breached ->") for c in changes),
            "aggregates": [d.as_json() for d in self.differences],
        }


def outcome_differences(
    recorded: Mapping[str, Outcome], alternative: Mapping[str, Outcome]
) -> list[OutcomeDifference]:
    """Outcomes whose state (met, breached, undecided) differs, by key."""
    differences = []
    for key in sorted(recorded.keys() | alternative.keys()):
        before, after = recorded.get(key), alternative.get(key)
        if _state(before) != _state(after):
            rule = next(o.rule for o in (before, after) if o is not None)
            differences.append(OutcomeDifference(key, rule, before, after))
    return differences

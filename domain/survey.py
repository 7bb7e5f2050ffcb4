"""A satisfaction survey sent after a case's resolution (R-SAT-01..03).

The survey is sent within 24 h of the resolution (the case's R-SAT-01 clock, stopped by
``Case.survey_sent``); the customer answers once, each score 1-5 and NPS 0-10 (R-SAT-01).
A low score or explicit dissatisfaction makes a supervisor contact the customer within
1 h (R-SAT-02); a top overall score triggers a thank-you (R-SAT-03).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import Fact, JourneyAggregate, command
from domain.clocks import ClockCommand, Start, Stop
from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.policy import Policy, policy_in_force
from domain.provenance import SourceRef

SCORE_MIN, SCORE_MAX = 1, 5  # R-SAT-01
NPS_MIN, NPS_MAX = 0, 10  # R-SAT-01
THANK_YOU_SCORE = SCORE_MAX  # R-SAT-03: "a score of 5 triggers a thank-you"
SCORES = ("attitude", "efficiency", "solution", "overall")  # R-SAT-01

FOLLOW_UP = "R-SAT-02"


class SurveyRuleViolated(DomainError):
    pass


class SurveyExists(DomainError):
    """A second ``survey.sent`` for a survey id already in use."""


class ScoreOutOfRange(SurveyRuleViolated):
    """R-SAT-01: scores are 1-5, NPS 0-10."""


def _in_range(value: int, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def needs_follow_up(scores: Mapping[str, int], dissatisfied: bool, policy: Policy) -> bool:
    """R-SAT-02: any 1-5 score at or under the policy's threshold, or explicit
    dissatisfaction, makes a supervisor contact the customer."""
    return dissatisfied or any(v <= policy.low_score_threshold for v in scores.values())


class Survey(JourneyAggregate):
    started_by = "the survey was sent"

    class Sent(Aggregate.Created):
        survey_id: str
        customer_id: str
        case_ref: str
        policy_version: str
        occurred_at: datetime
        source: SourceRef

    class Answered(Fact["Survey"]):
        attitude: int
        efficiency: int
        solution: int
        overall: int
        nps: int | None
        comment: str | None
        dissatisfied: bool

        def scores(self) -> dict[str, int]:
            return {name: getattr(self, name) for name in SCORES}

        def apply_fact(self, aggregate: Survey) -> None:
            aggregate.answered_at = self.occurred_at
            aggregate.scores = self.scores()
            aggregate.nps = self.nps
            aggregate.comment = self.comment
            aggregate.dissatisfied = self.dissatisfied

    class ThankYouTriggered(Fact["Survey"]):
        """R-SAT-03: the customer gave the top overall score."""

        def apply_fact(self, aggregate: Survey) -> None:
            aggregate.thanked_at = self.occurred_at

    class FollowedUp(Fact["Survey"]):
        """R-SAT-02: a supervisor contacted the customer about the answer."""

        supervisor_id: str

        def apply_fact(self, aggregate: Survey) -> None:
            aggregate.follow_ups.append(self.supervisor_id)

    @staticmethod
    def create_id(survey_id: str) -> UUID:
        return aggregate_id("survey", survey_id)

    @event(Sent)
    def __init__(
        self,
        *,
        survey_id: str,
        customer_id: str,
        case_ref: str,
        policy_version: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        self._begin(policy_version, occurred_at, source)
        self.survey_id = survey_id
        self.customer_id = customer_id
        self.case_ref = case_ref
        self.sent_at = occurred_at
        self.answered_at: datetime | None = None
        self.scores: dict[str, int] = {}
        self.nps: int | None = None
        self.comment: str | None = None
        self.dissatisfied = False
        self.thanked_at: datetime | None = None
        self.follow_ups: list[str] = []

    @classmethod
    def send(
        cls,
        *,
        survey_id: str,
        customer_id: str,
        case_ref: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> Survey:
        """The survey of a resolved case (R-SAT-01). The case itself checks the
        resolution and stops its clock (``Case.survey_sent``)."""
        survey = cls(
            survey_id=survey_id,
            customer_id=customer_id,
            case_ref=case_ref,
            policy_version=policy_in_force(occurred_at).version,
            occurred_at=occurred_at,
            source=source,
        )
        survey._run_clocks(survey.pending_events[-1])
        return survey

    # -- commands ---------------------------------------------------------------------------

    @command
    def answer(
        self,
        *,
        attitude: int,
        efficiency: int,
        solution: int,
        overall: int,
        nps: int | None = None,
        comment: str | None = None,
        dissatisfied: bool = False,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """The customer's answer, once (R-SAT-01); a low score or dissatisfaction starts
        the supervisor's 1 h clock (R-SAT-02); a top overall score a thank-you (R-SAT-03)."""
        if self.answered_at is not None:
            raise SurveyRuleViolated(
                f"survey {self.survey_id!r} was already answered; a survey is answered once",
                "R-SAT-01",
            )
        scores = {
            "attitude": attitude,
            "efficiency": efficiency,
            "solution": solution,
            "overall": overall,
        }
        for name, value in scores.items():
            if not _in_range(value, SCORE_MIN, SCORE_MAX):
                raise ScoreOutOfRange(
                    f"survey {self.survey_id!r}: {name} score {value!r} is not"
                    f" between {SCORE_MIN} and {SCORE_MAX}",
                    "R-SAT-01",
                )
        if nps is not None and not _in_range(nps, NPS_MIN, NPS_MAX):
            raise ScoreOutOfRange(
                f"survey {self.survey_id!r}: NPS {nps!r} is not between {NPS_MIN} and {NPS_MAX}",
                "R-SAT-01",
            )
        self._record(
            self.Answered,
            **scores,
            nps=nps,
            comment=comment,
            dissatisfied=dissatisfied,
            occurred_at=occurred_at,
            source=source,
        )
        if overall == THANK_YOU_SCORE and not dissatisfied:
            self._record(self.ThankYouTriggered, occurred_at=occurred_at, source=source)

    @command(after_start=False)  # ordered after the answer, once there is one
    def follow_up(self, *, supervisor_id: str, occurred_at: datetime, source: SourceRef) -> None:
        """A supervisor contacted the customer about the answer (R-SAT-02)."""
        if self.answered_at is None:
            raise SurveyRuleViolated(
                f"survey {self.survey_id!r} is not answered; a supervisor follows up an answer",
                FOLLOW_UP,
            )
        self.require_in_order(occurred_at, self.answered_at, "the survey's answer")
        if not supervisor_id.strip():
            raise SurveyRuleViolated("a follow-up names its supervisor", FOLLOW_UP)
        self._record(
            self.FollowedUp, supervisor_id=supervisor_id, occurred_at=occurred_at, source=source
        )

    # -- SLA clocks -------------------------------------------------------------------------

    def clock_rules(self, fact: Any, policy: Policy) -> Iterable[ClockCommand]:
        at = fact.occurred_at
        if isinstance(fact, Survey.Answered) and needs_follow_up(
            fact.scores(), fact.dissatisfied, policy
        ):
            yield Start(FOLLOW_UP, FOLLOW_UP, at, policy.low_score_contact)  # R-SAT-02
        elif isinstance(fact, Survey.FollowedUp):
            yield Stop(FOLLOW_UP, at)  # R-SAT-02

    @property
    def follow_up_required(self) -> bool:
        """R-SAT-02 under the survey's policy."""
        return self.answered_at is not None and needs_follow_up(
            self.scores, self.dissatisfied, self.policy
        )

    def state(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "survey_id": self.survey_id,
            "customer_id": self.customer_id,
            "case_ref": self.case_ref,
            "sent_at": self.sent_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "scores": dict(self.scores),
            "nps": self.nps,
            "comment": self.comment,
            "dissatisfied": self.dissatisfied,
            "follow_up_required": self.follow_up_required,
            "thanked": self.thanked_at is not None,
            "follow_ups": list(self.follow_ups),
            "policy_version": self.policy_version,
            "outcomes": {k: (o.rule, o.met, o.actual) for k, o in sorted(self.outcomes().items())},
        }

"""Engagement: ``callback.*`` (R-SAT-04) and ``survey.*`` (R-SAT-01..03)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictInt, ValidationInfo, field_validator

from contracts.schemas.base import Data, Flag, Id, Rfc3339, Text

CallbackReason = Literal["after_delivery", "birthday", "holiday", "launch"]  # R-SAT-04
CallbackOutcome = Literal["reached", "no_answer", "declined", "issue_raised"]  # R-SAT-04
Score = Annotated[StrictInt, Field(ge=1, le=5)]  # R-SAT-01
Nps = Annotated[StrictInt, Field(ge=0, le=10)]  # R-SAT-01


class CallbackScheduled(Data, event_type="callback.scheduled", family="engagement"):
    """A callback is scheduled (R-SAT-04): 7 days after an order's delivery
    (``after_delivery``: the due time is computed from the delivery), or at ``due_at`` on
    a birthday, a holiday or a product launch matching the customer's ``preference``."""

    callback_id: Id
    reason: CallbackReason
    order_id: Id | None = Field(
        default=None,
        validate_default=True,
        description="The delivered order; required for after_delivery.",
    )
    due_at: Rfc3339 | None = Field(
        default=None,
        validate_default=True,
        description="Required for birthday, holiday, launch; computed for after_delivery.",
    )
    preference: Id | None = Field(
        default=None, description="For launch: the customer's matching preference."
    )

    @field_validator("order_id")
    @classmethod
    def _order_for_after_delivery(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("reason") == "after_delivery" and value is None:
            raise ValueError("required for reason after_delivery (R-SAT-04)")
        return value

    @field_validator("due_at")
    @classmethod
    def _due_unless_after_delivery(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        reason = info.data.get("reason")
        if reason == "after_delivery" and value is not None:
            raise ValueError(
                "not allowed for reason after_delivery: due 7 days after the delivery (R-SAT-04)"
            )
        if reason is not None and reason != "after_delivery" and value is None:
            raise ValueError(f"required for reason {reason} (R-SAT-04)")
        return value

    example = {"callback_id": "cb-1001", "reason": "after_delivery", "order_id": "o-1001"}
    example_channel = "phone"


class CallbackCompleted(Data, event_type="callback.completed", family="engagement"):
    """The customer was called back; every callback has an outcome (R-SAT-04)."""

    callback_id: Id
    outcome: CallbackOutcome
    example = {"callback_id": "cb-1001", "outcome": "reached"}
    example_channel = "phone"


class CallbackMissed(Data, event_type="callback.missed", family="engagement"):
    """The callback was not made (R-SAT-04): called off before its due time, a breach
    after it."""

    callback_id: Id
    reason: Text | None = None
    example = {"callback_id": "cb-1001", "reason": "customer asked not to be called"}
    example_channel = "phone"


class SurveySent(Data, event_type="survey.sent", family="engagement"):
    """A satisfaction survey about a resolved case, within 24 h of resolution (R-SAT-01)."""

    survey_id: Id
    case_id: Id
    example = {"survey_id": "sv-1002", "case_id": "ct-1002"}


class SurveyAnswered(Data, event_type="survey.answered", family="engagement"):
    """The customer's answer (R-SAT-01: scores 1-5, NPS 0-10). A score of 3 or less or
    explicit dissatisfaction calls for a supervisor within 1 h (R-SAT-02); an overall 5
    triggers a thank-you (R-SAT-03)."""

    survey_id: Id
    attitude: Score
    efficiency: Score
    solution: Score
    overall: Score
    nps: Nps | None = None
    comment: Text | None = None
    dissatisfied: Flag = False
    example = {
        "survey_id": "sv-1002",
        "attitude": 5,
        "efficiency": 4,
        "solution": 5,
        "overall": 5,
        "nps": 9,
        "comment": "quick replacement, thank you",
    }


class SurveyFollowedUp(Data, event_type="survey.followed_up", family="engagement"):
    """A supervisor contacted the customer about a low score or dissatisfaction
    (R-SAT-02)."""

    survey_id: Id
    supervisor_id: Id
    example = {"survey_id": "sv-1002", "supervisor_id": "sup-3"}
    example_channel = "phone"

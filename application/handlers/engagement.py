"""``callback.*`` (Callback, R-SAT-04) and ``survey.*`` (Survey and its Case, R-SAT-01..03)."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import Handler, MayBeNew, UnitOfWork
from contracts.envelope import SourceEvent
from contracts.schemas import engagement as c
from domain.callback import AFTER_DELIVERY, Callback, CallbackExists
from domain.case import Case
from domain.errors import NotFound
from domain.order import Order
from domain.provenance import SourceRef
from domain.survey import Survey, SurveyExists


def callback_scheduled(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    """R-SAT-04: an after-delivery callback needs a known, delivered order of the same
    customer; its due time is computed from the delivery."""
    data = event.data
    assert isinstance(data, c.CallbackScheduled)
    existing = unit.get(Callback, Callback.create_id(data.callback_id))
    if existing is not None:
        if existing.has_applied(source.event_id):
            return
        raise CallbackExists(f"callback {data.callback_id!r} is already scheduled")
    delivered_at = None
    if data.reason == AFTER_DELIVERY and data.order_id is not None:
        order = unit.require(Order, Order.create_id(data.order_id), f"order {data.order_id!r}")
        if order.customer_id != event.customer_id:
            raise NotFound(f"order {data.order_id!r} belongs to another customer")
        delivered_at = order.delivered_at
    unit.add(
        Callback.schedule(
            callback_id=data.callback_id,
            customer_id=event.customer_id,
            reason=data.reason,
            order_id=data.order_id,
            delivered_at=delivered_at,
            due_at=data.due_at,
            preference=data.preference,
            occurred_at=event.occurred_at,
            source=source,
        )
    )


def _callback(unit: UnitOfWork, event: SourceEvent) -> Callback:
    callback_id: str = getattr(event.data, "callback_id")  # noqa: B009 - every callback.* has it
    callback = unit.require(Callback, Callback.create_id(callback_id), f"callback {callback_id!r}")
    if callback.customer_id != event.customer_id:
        raise NotFound(f"callback {callback_id!r} belongs to another customer")
    return callback


def callback_completed(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CallbackCompleted)
    _callback(unit, event).complete(
        outcome=data.outcome, occurred_at=event.occurred_at, source=source
    )


def callback_missed(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CallbackMissed)
    _callback(unit, event).miss(reason=data.reason, occurred_at=event.occurred_at, source=source)


def survey_sent(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    """R-SAT-01: the survey of a resolved case of the same customer. The survey is built
    (its checks) before the case records the sending (its checks, then the clock stop);
    the survey joins the unit only when both passed."""
    data = event.data
    assert isinstance(data, c.SurveySent)
    existing = unit.get(Survey, Survey.create_id(data.survey_id))
    if existing is not None:
        if existing.has_applied(source.event_id):
            return
        raise SurveyExists(f"survey {data.survey_id!r} was already sent")
    case = unit.require(Case, Case.create_id(data.case_id), f"case {data.case_id!r}")
    if case.customer_id != event.customer_id:
        raise NotFound(f"case {data.case_id!r} belongs to another customer")
    survey = Survey.send(
        survey_id=data.survey_id,
        customer_id=event.customer_id,
        case_ref=data.case_id,
        occurred_at=event.occurred_at,
        source=source,
    )
    case.survey_sent(survey_id=data.survey_id, occurred_at=event.occurred_at, source=source)
    unit.add(survey)


def _survey(unit: UnitOfWork, event: SourceEvent) -> Survey:
    survey_id: str = getattr(event.data, "survey_id")  # noqa: B009 - every survey.* has it
    survey = unit.require(Survey, Survey.create_id(survey_id), f"survey {survey_id!r}")
    if survey.customer_id != event.customer_id:
        raise NotFound(f"survey {survey_id!r} belongs to another customer")
    return survey


def survey_answered(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.SurveyAnswered)
    _survey(unit, event).answer(
        attitude=data.attitude,
        efficiency=data.efficiency,
        solution=data.solution,
        overall=data.overall,
        nps=data.nps,
        comment=data.comment,
        dissatisfied=data.dissatisfied,
        occurred_at=event.occurred_at,
        source=source,
    )


def survey_followed_up(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.SurveyFollowedUp)
    _survey(unit, event).follow_up(
        supervisor_id=data.supervisor_id, occurred_at=event.occurred_at, source=source
    )


HANDLERS: dict[str, Handler] = {
    "callback.scheduled": callback_scheduled,
    "callback.completed": callback_completed,
    "callback.missed": callback_missed,
    "survey.sent": survey_sent,
    "survey.answered": survey_answered,
    "survey.followed_up": survey_followed_up,
}


def _scheduled_ids(event: SourceEvent) -> list[UUID]:
    data = event.data
    return [Callback.create_id(data.callback_id)] if isinstance(data, c.CallbackScheduled) else []


def _sent_ids(event: SourceEvent) -> list[UUID]:
    data = event.data
    return [Survey.create_id(data.survey_id)] if isinstance(data, c.SurveySent) else []


MAY_BE_NEW: dict[str, MayBeNew] = {"callback.scheduled": _scheduled_ids, "survey.sent": _sent_ids}

"""``callback.*`` (Callback, R-SAT-04) and ``survey.*`` (Survey and its Case, R-SAT-01..03)."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import MissingPrerequisite, UnitOfWork, awaiting_delivery
from application.handlers.registry import handles
from contracts.envelope import SourceEvent
from contracts.schemas import engagement as c
from domain.callback import AFTER_DELIVERY, Callback, CallbackExists
from domain.case import Case
from domain.errors import NotFound
from domain.order import Order
from domain.provenance import SourceRef
from domain.survey import Survey, SurveyExists


def _scheduled_ids(data: c.CallbackScheduled, event: SourceEvent) -> list[UUID]:
    return [Callback.create_id(data.callback_id)]


@handles(c.CallbackScheduled, may_be_new=_scheduled_ids)
def callback_scheduled(
    unit: UnitOfWork, event: SourceEvent, data: c.CallbackScheduled, source: SourceRef
) -> None:
    """R-SAT-04: an after-delivery callback needs a known, delivered order of the same
    customer; its due time is computed from the delivery."""
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
        awaiting_delivery(order)
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


def _callback(unit: UnitOfWork, event: SourceEvent, callback_id: str) -> Callback:
    callback = unit.require(Callback, Callback.create_id(callback_id), f"callback {callback_id!r}")
    if callback.customer_id != event.customer_id:
        raise NotFound(f"callback {callback_id!r} belongs to another customer")
    return callback


@handles(c.CallbackCompleted)
def callback_completed(
    unit: UnitOfWork, event: SourceEvent, data: c.CallbackCompleted, source: SourceRef
) -> None:
    _callback(unit, event, data.callback_id).complete(
        outcome=data.outcome, occurred_at=event.occurred_at, source=source
    )


@handles(c.CallbackMissed)
def callback_missed(
    unit: UnitOfWork, event: SourceEvent, data: c.CallbackMissed, source: SourceRef
) -> None:
    _callback(unit, event, data.callback_id).miss(
        reason=data.reason, occurred_at=event.occurred_at, source=source
    )


def _sent_ids(data: c.SurveySent, event: SourceEvent) -> list[UUID]:
    return [Survey.create_id(data.survey_id)]


@handles(c.SurveySent, may_be_new=_sent_ids)
def survey_sent(
    unit: UnitOfWork, event: SourceEvent, data: c.SurveySent, source: SourceRef
) -> None:
    """R-SAT-01: the survey of a resolved case of the same customer. The survey is built
    (its checks) before the case records the sending (its checks, then the clock stop);
    the survey joins the unit only when both passed."""
    existing = unit.get(Survey, Survey.create_id(data.survey_id))
    if existing is not None:
        if existing.has_applied(source.event_id):
            return
        raise SurveyExists(f"survey {data.survey_id!r} was already sent")
    case = unit.require(Case, Case.create_id(data.case_id), f"case {data.case_id!r}")
    if case.customer_id != event.customer_id:
        raise NotFound(f"case {data.case_id!r} belongs to another customer")
    if case.first_resolved_at is None:  # a survey follows a resolution: it waits for one
        raise MissingPrerequisite(case.id, f"case {data.case_id!r}", not_yet="resolved")
    survey = Survey.send(
        survey_id=data.survey_id,
        customer_id=event.customer_id,
        case_ref=data.case_id,
        occurred_at=event.occurred_at,
        source=source,
    )
    case.survey_sent(survey_id=data.survey_id, occurred_at=event.occurred_at, source=source)
    unit.add(survey)


def _survey(unit: UnitOfWork, event: SourceEvent, survey_id: str) -> Survey:
    survey = unit.require(Survey, Survey.create_id(survey_id), f"survey {survey_id!r}")
    if survey.customer_id != event.customer_id:
        raise NotFound(f"survey {survey_id!r} belongs to another customer")
    return survey


@handles(c.SurveyAnswered)
def survey_answered(
    unit: UnitOfWork, event: SourceEvent, data: c.SurveyAnswered, source: SourceRef
) -> None:
    _survey(unit, event, data.survey_id).answer(
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


@handles(c.SurveyFollowedUp)
def survey_followed_up(
    unit: UnitOfWork, event: SourceEvent, data: c.SurveyFollowedUp, source: SourceRef
) -> None:
    _survey(unit, event, data.survey_id).follow_up(
        supervisor_id=data.supervisor_id, occurred_at=event.occurred_at, source=source
    )

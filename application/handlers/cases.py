"""``case.*``: the case's owner, escalation, options, progress, resolution, closure.

Case events name cases that must exist (a case is opened by ``contact.opened``)."""

from __future__ import annotations

from application.handlers.base import UnitOfWork
from application.handlers.registry import handles
from contracts.envelope import SourceEvent
from contracts.schemas import cases as c
from domain.case import Case
from domain.errors import NotFound
from domain.provenance import SourceRef


def _case(unit: UnitOfWork, event: SourceEvent, data: c.CaseMixin) -> Case:
    case = unit.require(Case, Case.create_id(data.case_id), f"case {data.case_id!r}")
    if case.customer_id != event.customer_id:
        raise NotFound(f"case {data.case_id!r} belongs to another customer")
    return case


@handles(c.CasePrioritySet)
def priority_set(
    unit: UnitOfWork, event: SourceEvent, data: c.CasePrioritySet, source: SourceRef
) -> None:
    _case(unit, event, data).set_priority(
        priority=data.priority, occurred_at=event.occurred_at, source=source
    )


@handles(c.CaseOwnerAssigned)
def owner_assigned(
    unit: UnitOfWork, event: SourceEvent, data: c.CaseOwnerAssigned, source: SourceRef
) -> None:
    _case(unit, event, data).assign_owner(
        owner=data.owner,
        due_at=data.due_at,
        acceptance_criteria=data.acceptance_criteria,
        occurred_at=event.occurred_at,
        source=source,
    )


@handles(c.CaseEscalated)
def escalated(
    unit: UnitOfWork, event: SourceEvent, data: c.CaseEscalated, source: SourceRef
) -> None:
    _case(unit, event, data).escalate(
        level=data.level,
        supervisor_id=data.supervisor_id,
        occurred_at=event.occurred_at,
        source=source,
    )


@handles(c.CaseOptionsOffered)
def options_offered(
    unit: UnitOfWork, event: SourceEvent, data: c.CaseOptionsOffered, source: SourceRef
) -> None:
    _case(unit, event, data).offer_options(
        options=list(data.options), occurred_at=event.occurred_at, source=source
    )


@handles(c.CaseOptionChosen)
def option_chosen(
    unit: UnitOfWork, event: SourceEvent, data: c.CaseOptionChosen, source: SourceRef
) -> None:
    _case(unit, event, data).choose_option(
        option=data.option, occurred_at=event.occurred_at, source=source
    )


@handles(c.CaseProgressUpdateSent)
def progress_update_sent(
    unit: UnitOfWork, event: SourceEvent, data: c.CaseProgressUpdateSent, source: SourceRef
) -> None:
    _case(unit, event, data).send_progress_update(occurred_at=event.occurred_at, source=source)


@handles(c.CaseResolved)
def resolved(unit: UnitOfWork, event: SourceEvent, data: c.CaseResolved, source: SourceRef) -> None:
    case = _case(unit, event, data)
    case.resolve(
        option=data.option, summary=data.summary, occurred_at=event.occurred_at, source=source
    )
    unit.progressed(case.id)  # what waits for a resolution (surveys) goes on


@handles(c.CaseResolutionConfirmed)
def resolution_confirmed(
    unit: UnitOfWork, event: SourceEvent, data: c.CaseResolutionConfirmed, source: SourceRef
) -> None:
    _case(unit, event, data).confirm_resolution(
        via=data.via, occurred_at=event.occurred_at, source=source
    )


@handles(c.CaseClosedNoReply)
def closed_no_reply(
    unit: UnitOfWork, event: SourceEvent, data: c.CaseClosedNoReply, source: SourceRef
) -> None:
    _case(unit, event, data).close_without_reply(occurred_at=event.occurred_at, source=source)


@handles(c.CaseReopened)
def reopened(unit: UnitOfWork, event: SourceEvent, data: c.CaseReopened, source: SourceRef) -> None:
    _case(unit, event, data).reopen(
        reason=data.reason, occurred_at=event.occurred_at, source=source
    )


@handles(c.CaseRecallLinked)
def recall_linked(
    unit: UnitOfWork, event: SourceEvent, data: c.CaseRecallLinked, source: SourceRef
) -> None:
    _case(unit, event, data).link_recall(
        recall_id=data.recall_id,
        product_batch=data.product_batch,
        occurred_at=event.occurred_at,
        source=source,
    )

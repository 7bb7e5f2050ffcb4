"""``case.*``: the case's owner, escalation, options, progress, resolution, closure."""

from __future__ import annotations

from application.handlers.base import Handler, MayBeNew, UnitOfWork
from contracts.envelope import SourceEvent
from contracts.schemas import cases as c
from domain.case import Case
from domain.errors import NotFound
from domain.provenance import SourceRef


def _case(unit: UnitOfWork, event: SourceEvent) -> Case:
    case_id: str = getattr(event.data, "case_id")  # noqa: B009 - every case.* has it
    case = unit.require(Case, Case.create_id(case_id), f"case {case_id!r}")
    if case.customer_id != event.customer_id:
        raise NotFound(f"case {case_id!r} belongs to another customer")
    return case


def priority_set(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CasePrioritySet)
    _case(unit, event).set_priority(
        priority=data.priority, occurred_at=event.occurred_at, source=source
    )


def owner_assigned(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CaseOwnerAssigned)
    _case(unit, event).assign_owner(
        owner=data.owner,
        due_at=data.due_at,
        acceptance_criteria=data.acceptance_criteria,
        occurred_at=event.occurred_at,
        source=source,
    )


def escalated(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CaseEscalated)
    _case(unit, event).escalate(
        level=data.level,
        supervisor_id=data.supervisor_id,
        occurred_at=event.occurred_at,
        source=source,
    )


def options_offered(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CaseOptionsOffered)
    _case(unit, event).offer_options(
        options=list(data.options), occurred_at=event.occurred_at, source=source
    )


def option_chosen(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CaseOptionChosen)
    _case(unit, event).choose_option(
        option=data.option, occurred_at=event.occurred_at, source=source
    )


def progress_update_sent(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    _case(unit, event).send_progress_update(occurred_at=event.occurred_at, source=source)


def resolved(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CaseResolved)
    _case(unit, event).resolve(
        option=data.option, summary=data.summary, occurred_at=event.occurred_at, source=source
    )


def resolution_confirmed(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CaseResolutionConfirmed)
    _case(unit, event).confirm_resolution(
        via=data.via, occurred_at=event.occurred_at, source=source
    )


def closed_no_reply(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    _case(unit, event).close_without_reply(occurred_at=event.occurred_at, source=source)


def reopened(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CaseReopened)
    _case(unit, event).reopen(reason=data.reason, occurred_at=event.occurred_at, source=source)


def recall_linked(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.CaseRecallLinked)
    _case(unit, event).link_recall(
        recall_id=data.recall_id,
        product_batch=data.product_batch,
        occurred_at=event.occurred_at,
        source=source,
    )


HANDLERS: dict[str, Handler] = {
    "case.priority_set": priority_set,
    "case.owner_assigned": owner_assigned,
    "case.escalated": escalated,
    "case.options_offered": options_offered,
    "case.option_chosen": option_chosen,
    "case.progress_update_sent": progress_update_sent,
    "case.resolved": resolved,
    "case.resolution_confirmed": resolution_confirmed,
    "case.closed_no_reply": closed_no_reply,
    "case.reopened": reopened,
    "case.recall_linked": recall_linked,
}


MAY_BE_NEW: dict[str, MayBeNew] = {}
"""Case events name cases that must exist."""

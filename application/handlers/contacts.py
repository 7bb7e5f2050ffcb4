"""``contact.*``: conversations (Contact) and the case each belongs to (Case)."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import MissingPrerequisite, UnitOfWork
from application.handlers.registry import handles
from contracts.envelope import SourceEvent
from contracts.schemas import contacts as c
from domain.case import Case
from domain.contact import Contact
from domain.errors import DomainError, NotFound
from domain.provenance import SourceRef


class ContactExists(DomainError):
    pass


def _opened_ids(data: c.ContactOpened, event: SourceEvent) -> list[UUID]:
    return [Contact.create_id(data.contact_id), Case.create_id(data.case_id or data.contact_id)]


@handles(c.ContactOpened, may_be_new=_opened_ids)
def opened(unit: UnitOfWork, event: SourceEvent, data: c.ContactOpened, source: SourceRef) -> None:
    """A contact opens its own case, or joins the case it names (R-CH-01)."""
    contact = unit.get(Contact, Contact.create_id(data.contact_id))
    if contact is not None:
        if contact.has_applied(source.event_id):
            return
        raise ContactExists(f"contact {data.contact_id!r} is already open")
    case_ref = data.case_id or data.contact_id
    case = unit.get(Case, Case.create_id(case_ref))
    if case is None and case_ref != data.contact_id:
        raise MissingPrerequisite(Case.create_id(case_ref), f"case {case_ref!r}")
    if case is not None:
        case.check_join(event.customer_id, event.occurred_at)
    else:
        unit.add(
            Case.open(
                case_ref=case_ref,
                customer_id=event.customer_id,
                contact_id=data.contact_id,
                channel=event.envelope.channel,
                classification=data.classification,
                topic=data.topic,
                priority=data.priority,
                after_sales_kind=data.after_sales_kind,
                major=data.major,
                product_batch=data.product_batch,
                demand=data.demand,
                store_id=data.store_id,
                agent_group=data.agent_group,
                occurred_at=event.occurred_at,
                source=source,
            )
        )
    # The contact after its case: read models meet the case before its contacts' events.
    unit.add(
        Contact.open(
            contact_id=data.contact_id,
            customer_id=event.customer_id,
            case_ref=case_ref,
            channel=event.envelope.channel,
            verified_by=data.verified_by,
            occurred_at=event.occurred_at,
            source=source,
            first_message_id=data.first_message_id,
            funnel_stage=data.funnel_stage,
        )
    )
    if case is not None:
        case.join(
            contact_id=data.contact_id,
            customer_id=event.customer_id,
            channel=event.envelope.channel,
            occurred_at=event.occurred_at,
            source=source,
        )


def _contact(unit: UnitOfWork, event: SourceEvent, contact_id: str) -> Contact:
    contact = unit.require(Contact, Contact.create_id(contact_id), f"contact {contact_id!r}")
    if contact.customer_id != event.customer_id:
        raise NotFound(f"contact {contact_id!r} belongs to another customer")
    return contact


def _case_of(unit: UnitOfWork, contact: Contact) -> Case:
    return unit.require(Case, Case.create_id(contact.case_ref), f"case {contact.case_ref!r}")


@handles(c.ContactMessage)
def message(
    unit: UnitOfWork, event: SourceEvent, data: c.ContactMessage, source: SourceRef
) -> None:
    _contact(unit, event, data.contact_id).receive_message(
        message_id=data.message_id, occurred_at=event.occurred_at, source=source
    )


@handles(c.ContactReplied)
def replied(
    unit: UnitOfWork, event: SourceEvent, data: c.ContactReplied, source: SourceRef
) -> None:
    """An answer stops the contact's first-response clocks; a person's answer also stops
    the case's response clocks (R-PRI-02/03)."""
    contact = _contact(unit, event, data.contact_id)
    case = _case_of(unit, contact)
    contact.reply(
        responder=data.responder,
        agent_id=data.agent_id,
        account_specific=data.account_specific,
        occurred_at=event.occurred_at,
        source=source,
    )
    if data.responder == "agent":
        case.respond(contact_id=data.contact_id, occurred_at=event.occurred_at, source=source)


@handles(c.ContactIdentityVerified)
def identity_verified(
    unit: UnitOfWork, event: SourceEvent, data: c.ContactIdentityVerified, source: SourceRef
) -> None:
    _contact(unit, event, data.contact_id).verify_identity(
        method=data.method, occurred_at=event.occurred_at, source=source
    )


@handles(c.ContactHandoffRequested)
def handoff_requested(
    unit: UnitOfWork, event: SourceEvent, data: c.ContactHandoffRequested, source: SourceRef
) -> None:
    _contact(unit, event, data.contact_id).request_handoff(
        occurred_at=event.occurred_at, source=source
    )


@handles(c.ContactHandedOff)
def handed_off(
    unit: UnitOfWork, event: SourceEvent, data: c.ContactHandedOff, source: SourceRef
) -> None:
    _contact(unit, event, data.contact_id).hand_off(
        agent_id=data.agent_id, occurred_at=event.occurred_at, source=source
    )


@handles(c.ContactReplyPromised)
def reply_promised(
    unit: UnitOfWork, event: SourceEvent, data: c.ContactReplyPromised, source: SourceRef
) -> None:
    contact = _contact(unit, event, data.contact_id)
    case = _case_of(unit, contact)
    contact.promise_reply(agent_id=data.agent_id, occurred_at=event.occurred_at, source=source)
    case.respond(contact_id=data.contact_id, occurred_at=event.occurred_at, source=source)


@handles(c.ContactClosed)
def closed(unit: UnitOfWork, event: SourceEvent, data: c.ContactClosed, source: SourceRef) -> None:
    _contact(unit, event, data.contact_id).close(
        resolved=data.resolved, occurred_at=event.occurred_at, source=source
    )


@handles(c.ContactAbandoned)
def abandoned(
    unit: UnitOfWork, event: SourceEvent, data: c.ContactAbandoned, source: SourceRef
) -> None:
    _contact(unit, event, data.contact_id).abandon(occurred_at=event.occurred_at, source=source)

"""``contact.*``: conversations (Contact) and the case each belongs to (Case)."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import Handler, MayBeNew, UnitOfWork
from contracts.envelope import SourceEvent
from contracts.schemas import contacts as c
from domain.case import Case
from domain.contact import Contact
from domain.errors import DomainError, NotFound
from domain.provenance import SourceRef


class ContactExists(DomainError):
    pass


def opened(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    """A contact opens its own case, or joins the case it names (R-CH-01)."""
    data = event.data
    assert isinstance(data, c.ContactOpened)
    contact = unit.get(Contact, Contact.create_id(data.contact_id))
    if contact is not None:
        if contact.has_applied(source.event_id):
            return
        raise ContactExists(f"contact {data.contact_id!r} is already open")
    case_ref = data.case_id or data.contact_id
    case = unit.get(Case, Case.create_id(case_ref))
    if case is None and case_ref != data.contact_id:
        raise NotFound(f"unknown case {case_ref!r}")
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


def _contact(unit: UnitOfWork, event: SourceEvent) -> Contact:
    contact_id: str = getattr(event.data, "contact_id")  # noqa: B009 - every contact.* has it
    contact = unit.require(Contact, Contact.create_id(contact_id), f"contact {contact_id!r}")
    if contact.customer_id != event.customer_id:
        raise NotFound(f"contact {contact_id!r} belongs to another customer")
    return contact


def _case_of(unit: UnitOfWork, contact: Contact) -> Case:
    return unit.require(Case, Case.create_id(contact.case_ref), f"case {contact.case_ref!r}")


def message(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.ContactMessage)
    _contact(unit, event).receive_message(
        message_id=data.message_id, occurred_at=event.occurred_at, source=source
    )


def replied(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    """An answer stops the contact's first-response clocks; a person's answer also stops
    the case's response clocks (R-PRI-02/03)."""
    data = event.data
    assert isinstance(data, c.ContactReplied)
    contact = _contact(unit, event)
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


def identity_verified(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.ContactIdentityVerified)
    _contact(unit, event).verify_identity(
        method=data.method, occurred_at=event.occurred_at, source=source
    )


def handoff_requested(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    _contact(unit, event).request_handoff(occurred_at=event.occurred_at, source=source)


def handed_off(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.ContactHandedOff)
    _contact(unit, event).hand_off(
        agent_id=data.agent_id, occurred_at=event.occurred_at, source=source
    )


def reply_promised(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.ContactReplyPromised)
    contact = _contact(unit, event)
    case = _case_of(unit, contact)
    contact.promise_reply(agent_id=data.agent_id, occurred_at=event.occurred_at, source=source)
    case.respond(contact_id=data.contact_id, occurred_at=event.occurred_at, source=source)


def closed(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    data = event.data
    assert isinstance(data, c.ContactClosed)
    _contact(unit, event).close(
        resolved=data.resolved, occurred_at=event.occurred_at, source=source
    )


def abandoned(unit: UnitOfWork, event: SourceEvent, source: SourceRef) -> None:
    _contact(unit, event).abandon(occurred_at=event.occurred_at, source=source)


HANDLERS: dict[str, Handler] = {
    "contact.opened": opened,
    "contact.message": message,
    "contact.replied": replied,
    "contact.identity_verified": identity_verified,
    "contact.handoff_requested": handoff_requested,
    "contact.handed_off": handed_off,
    "contact.reply_promised": reply_promised,
    "contact.closed": closed,
    "contact.abandoned": abandoned,
}


def _opened_ids(event: SourceEvent) -> list[UUID]:
    data = event.data
    if not isinstance(data, c.ContactOpened):
        return []
    return [Contact.create_id(data.contact_id), Case.create_id(data.case_id or data.contact_id)]


MAY_BE_NEW: dict[str, MayBeNew] = {"contact.opened": _opened_ids}

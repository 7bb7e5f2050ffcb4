"""``customer.*``: the customer record (Customer) of the envelope's ``customer_id``."""

from __future__ import annotations

from uuid import UUID

from application.handlers.base import UnitOfWork
from application.handlers.registry import handles
from contracts.envelope import SourceEvent
from contracts.schemas import customers as c
from domain.customer import AlreadyRegistered, Customer
from domain.provenance import SourceRef


def _personal(unit: UnitOfWork, event: SourceEvent, personal: c.Personal | None) -> dict[str, str]:
    """The personal fields sealed with the customer's key (DESIGN.md "Privacy")."""
    if personal is None:
        return {}
    return unit.personal.seal(event.customer_id, personal.fields())


def _customer(unit: UnitOfWork, event: SourceEvent) -> Customer:
    """The registered customer of the envelope; an unknown one is refused (NotFound)."""
    return unit.require(
        Customer, Customer.create_id(event.customer_id), f"customer {event.customer_id!r}"
    )


def _registered_ids(data: c.CustomerRegistered, event: SourceEvent) -> list[UUID]:
    return [Customer.create_id(event.customer_id)]


@handles(c.CustomerRegistered, may_be_new=_registered_ids)
def registered(
    unit: UnitOfWork, event: SourceEvent, data: c.CustomerRegistered, source: SourceRef
) -> None:
    """A new customer record; personal data needs ``service`` consent (R-CUS-02)."""
    existing = unit.get(Customer, Customer.create_id(event.customer_id))
    if existing is not None:
        if existing.has_applied(source.event_id):
            return
        raise AlreadyRegistered(f"customer {event.customer_id!r} is already registered")
    unit.add(
        Customer.register(
            customer_id=event.customer_id,
            member_id=data.member_id,
            personal=_personal(unit, event, data.personal),
            consents=list(data.consents),
            birthday=data.birthday,
            preferences=list(data.preferences),
            channel=event.envelope.channel,
            occurred_at=event.occurred_at,
            source=source,
        )
    )


@handles(c.CustomerConsentGranted)
def consent_granted(
    unit: UnitOfWork, event: SourceEvent, data: c.CustomerConsentGranted, source: SourceRef
) -> None:
    _customer(unit, event).grant_consent(
        purpose=data.purpose, occurred_at=event.occurred_at, source=source
    )


@handles(c.CustomerConsentWithdrawn)
def consent_withdrawn(
    unit: UnitOfWork, event: SourceEvent, data: c.CustomerConsentWithdrawn, source: SourceRef
) -> None:
    _customer(unit, event).withdraw_consent(
        purpose=data.purpose, occurred_at=event.occurred_at, source=source
    )


@handles(c.CustomerProfileUpdated)
def profile_updated(
    unit: UnitOfWork, event: SourceEvent, data: c.CustomerProfileUpdated, source: SourceRef
) -> None:
    """Personal fields need current ``service`` consent (R-CUS-02)."""
    _customer(unit, event).update_profile(
        personal=_personal(unit, event, data.personal),
        preferences=None if data.preferences is None else list(data.preferences),
        birthday=data.birthday,
        occurred_at=event.occurred_at,
        source=source,
    )


@handles(c.CustomerNoteAdded)
def note_added(
    unit: UnitOfWork, event: SourceEvent, data: c.CustomerNoteAdded, source: SourceRef
) -> None:
    """Factual notes only (R-CUS-03); stored sealed with the customer's key."""
    _customer(unit, event).add_note(
        note=data.note,
        author=data.author,
        occurred_at=event.occurred_at,
        source=source,
        stored_as=lambda text: unit.personal.seal_text(event.customer_id, "note", text),
    )


@handles(c.CustomerErasureRequested)
def erasure_requested(
    unit: UnitOfWork, event: SourceEvent, data: c.CustomerErasureRequested, source: SourceRef
) -> None:
    _customer(unit, event).request_erasure(
        reason=data.reason, occurred_at=event.occurred_at, source=source
    )

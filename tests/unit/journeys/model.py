"""The model of the journey: what the state machine has sent, and what it knows of each
contact, case, order, return, survey, callback and customer, to say which events the
domain must accept."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from contracts.envelope import SourceEvent
from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.order import Order
from domain.returns import ReturnRequest
from domain.survey import Survey


@dataclass
class Sent:
    event_id: str
    customer: str
    type: str
    event: SourceEvent
    expect: str | None
    """``None``: must be accepted; ``PARKED``: must wait for ``waits_for``; else the rule id
    (or ``NOT_FOUND``) it is refused with."""
    touches: tuple[UUID, ...]
    redelivery_bug: str | None = None
    """Accepted as a no-op (the kind of event the redelivery bugs of
    tests/unit/test_journeys_regressions.py were about)."""
    waits_for: UUID | None = None
    """What a parked event waits for."""
    on_release: str | None = None
    """What a parked event meets once let in: ``None`` applied, else refused (why)."""
    lets_in: frozenset[str] = frozenset()
    """The types of the events that let a parked one in (what creates or progresses what
    it waits for)."""
    releases: list[Sent] = field(default_factory=list)
    """Parked events this one lets in, right after it."""

    @property
    def occurred_at(self) -> datetime:
        return self.event.occurred_at


@dataclass
class ContactM:
    contact_id: str
    customer: str
    case_ref: str
    verified: bool
    open: bool = True

    @property
    def aid(self) -> UUID:
        return Contact.create_id(self.contact_id)


@dataclass
class CaseM:
    ref: str
    customer: str
    priority: str
    major: bool
    product_batch: str | None
    status: str = "open"
    owner: bool = False
    level: int = 1
    offered: list[str] = field(default_factory=list)
    chosen: str | None = None
    resolutions: int = 0
    resolved_at: datetime | None = None
    recall: bool = False

    @property
    def aid(self) -> UUID:
        return Case.create_id(self.ref)


@dataclass
class OrderM:
    order_id: str
    customer: str
    skus: list[str]
    paid: Decimal
    promised: datetime
    status: str = "placed"
    delivered_at: datetime | None = None
    refunded: Decimal = Decimal(0)
    modifications: dict[str, bool] = field(default_factory=dict)
    awaiting_notice: set[str] = field(default_factory=set)

    @property
    def aid(self) -> UUID:
        return Order.create_id(self.order_id)


@dataclass
class ReturnM:
    return_id: str
    customer: str
    order_id: str
    requested: Decimal
    merchant_id: str | None
    status: str = "requested"
    refunded: Decimal = Decimal(0)
    exchanged: bool = False
    inspected: bool = False
    merchant_answered: bool = False

    @property
    def aid(self) -> UUID:
        return ReturnRequest.create_id(self.return_id)


@dataclass
class SurveyM:
    survey_id: str
    customer: str
    answered: bool = False

    @property
    def aid(self) -> UUID:
        return Survey.create_id(self.survey_id)


@dataclass
class CallbackM:
    callback_id: str
    customer: str
    ended: bool = False

    @property
    def aid(self) -> UUID:
        return Callback.create_id(self.callback_id)


@dataclass
class CustomerM:
    customer: str
    consents: set[str]
    erased: bool = False

    @property
    def aid(self) -> UUID:
        return Customer.create_id(self.customer)


E = TypeVar("E")


def choose(items: Sequence[E], pick: int) -> E | None:
    return items[pick % len(items)] if items else None


def prefer(items: Iterable[E], good: Callable[[E], bool], pick: int) -> E | None:
    """Mostly one of the items for which the next event is valid (four picks in five),
    else any item, so that journeys get deep and some events are refused on purpose."""
    every = list(items)
    valid = [item for item in every if good(item)]
    return choose(valid if valid and pick % 5 != 4 else every, pick // 5)

"""The kinds of journey aggregate, declared once (issue 13, item 11): for each, the name an
auditor uses for it (a URL segment, ``journey verify --kind``), its class, and the field of
its creation event that holds the id its channel sent. The aggregate's id is derived from
that id (``create_id``), so any aggregate can be found by what the channel sent.

The audit chain reads the reference field from here (``projections.audit_chain.REF_FIELDS``);
verification, by one aggregate or over the whole store, names kinds from here. Parking lots
(``domain.parking``) are stored too but are no journey aggregate: no channel names them, so
they are not listed; the whole-store check reports them by their class name.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.aggregate import JourneyAggregate
from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.errors import NotFound
from domain.order import Order
from domain.returns import ReturnRequest
from domain.survey import Survey


class UnknownKind(NotFound):
    """A kind of aggregate that is not one of ``KINDS``."""


@dataclass(frozen=True)
class AggregateKind:
    name: str
    """Plural and lower case, as in a URL: ``orders``."""
    aggregate: type[JourneyAggregate]
    ref_field: str
    """The creation event's field holding the channel's id (``order_id``)."""

    def id_of(self, ref: str) -> UUID:
        """The id of the aggregate the channel calls ``ref``."""
        return self.aggregate.create_id(ref)


KINDS: tuple[AggregateKind, ...] = (
    AggregateKind("cases", Case, "case_ref"),
    AggregateKind("contacts", Contact, "contact_id"),
    AggregateKind("customers", Customer, "customer_id"),
    AggregateKind("orders", Order, "order_id"),
    AggregateKind("returns", ReturnRequest, "return_id"),
    AggregateKind("callbacks", Callback, "callback_id"),
    AggregateKind("surveys", Survey, "survey_id"),
)

_BY_NAME = {kind.name: kind for kind in KINDS}
_BY_CLASS = {kind.aggregate.__name__: kind for kind in KINDS}


def kind_named(name: str) -> AggregateKind:
    """The kind called ``name``; ``UnknownKind`` if there is none."""
    kind = _BY_NAME.get(name)
    if kind is None:
        raise UnknownKind(f"kind: no kind {name!r}; one of {', '.join(_BY_NAME)}")
    return kind


def kind_of_class(class_name: str) -> AggregateKind | None:
    """The kind whose class is called ``class_name`` (``Order``), if one is."""
    return _BY_CLASS.get(class_name)


def kind_label(class_name: str) -> str:
    """How a stored aggregate's kind is shown: its kind's name (``orders``), or for a class
    that is no journey aggregate (``ParkingLot``) the class name itself."""
    kind = _BY_CLASS.get(class_name)
    return class_name if kind is None else kind.name

"""Orders: ``order.*`` (placement, changes, stock, delays, shipment, delivery)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from contracts.schemas.base import Data, Id, Money, Rfc3339, Text

SpecialRequestKind = Literal["delayed_shipping", "gift_wrap", "other"]  # R-ORD-03
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderItem(_Part):
    """One line of an order."""

    sku: Id
    quantity: Annotated[StrictInt, Field(ge=1)]
    unit_price: Money


class SpecialRequestItem(_Part):
    """A special request carried on the order to fulfilment (R-ORD-03)."""

    kind: SpecialRequestKind
    note: Text | None = None


class OrderMixin(Data):
    order_id: Id


class OrderPlaced(OrderMixin, event_type="order.placed", family="orders"):
    """An order is placed; its promised delivery date (after ``occurred_at``) starts the
    R-ORD-04 clock; special requests ride on it to fulfilment (R-ORD-03); the amount paid
    caps its refunds (R-REF-04)."""

    items: list[OrderItem] = Field(min_length=1, max_length=500)
    amount_paid: Money
    currency: Currency
    promised_delivery_at: Rfc3339
    store_id: Id | None = None
    special_requests: list[SpecialRequestItem] = Field(default_factory=list, max_length=20)

    example = {
        "order_id": "o-2001",
        "items": [
            {"sku": "KT-2209", "quantity": 1, "unit_price": "299.00"},
            {"sku": "MUG-11", "quantity": 2, "unit_price": "39.50"},
        ],
        "amount_paid": "378.00",
        "currency": "CNY",
        "promised_delivery_at": "2026-03-05T18:00:00+08:00",
        "store_id": "store-sh-07",
        "special_requests": [{"kind": "gift_wrap", "note": "red paper, no price tag"}],
    }


class OrderModified(OrderMixin, event_type="order.modified", family="orders"):
    """A change to the order, to be synchronised to every named system within 5 min
    (R-ORD-01). ``changes``: field → new value, or a description."""

    modification_id: Id
    changes: Annotated[dict[Id, Text], Field(min_length=1, max_length=50)] | Text
    systems: list[Id] = Field(min_length=1, max_length=50)

    example = {
        "order_id": "o-2001",
        "modification_id": "mod-1",
        "changes": {"address": "88 Huaihai Rd, Shanghai"},
        "systems": ["oms", "wms", "crm"],
    }
    example_channel = "web"


class OrderSynced(OrderMixin, event_type="order.synced", family="orders"):
    """The modification reached every system (R-ORD-01)."""

    modification_id: Id
    example = {"order_id": "o-2001", "modification_id": "mod-1"}
    example_channel = "web"


class OrderSpecialRequest(OrderMixin, event_type="order.special_request", family="orders"):
    """A special request for an order not yet shipped (R-ORD-03)."""

    kind: SpecialRequestKind
    note: Text | None = Field(
        default=None,
        description="How to carry the request out; about the order, not a note about the"
        " customer, so R-CUS-03 does not judge it.",
    )
    example = {"order_id": "o-2001", "kind": "delayed_shipping", "note": "after Friday"}


class OrderOutOfStock(OrderMixin, event_type="order.out_of_stock", family="orders"):
    """An item of the order is out of stock; the customer is told within 1 h (R-ORD-02)."""

    sku: Id
    example = {"order_id": "o-2001", "sku": "MUG-11"}
    example_channel = "store"


class OrderCustomerNotified(OrderMixin, event_type="order.customer_notified", family="orders"):
    """The customer was told of a stock-out with the three options of R-ORD-02:
    ``store_transfer``, ``similar_product``, ``restock_reminder`` (anything else is refused
    by the domain, naming R-ORD-02)."""

    sku: Id
    options: list[Id] = Field(max_length=10)
    example = {
        "order_id": "o-2001",
        "sku": "MUG-11",
        "options": ["store_transfer", "similar_product", "restock_reminder"],
    }


class OrderDelayAnnounced(OrderMixin, event_type="order.delay_announced", family="orders"):
    """An expected delay announced to the customer, with a later promised date (R-ORD-04)."""

    new_promised_delivery_at: Rfc3339
    reason: Literal["weather", "force_majeure", "other"]
    example = {
        "order_id": "o-2001",
        "new_promised_delivery_at": "2026-03-07T18:00:00+08:00",
        "reason": "weather",
    }


class OrderShipped(OrderMixin, event_type="order.shipped", family="orders"):
    """The order left for the customer, carrying its special requests (R-ORD-03)."""

    carrier: Id | None = None
    tracking_number: Id | None = None
    example = {"order_id": "o-2001", "carrier": "SF Express", "tracking_number": "SF1234567890"}
    example_channel = "web"


class OrderDelivered(OrderMixin, event_type="order.delivered", family="orders"):
    """The order reached the customer; stops the promised-date clock (R-ORD-04)."""

    example = {"order_id": "o-2001"}
    example_channel = "web"


class OrderCancelled(OrderMixin, event_type="order.cancelled", family="orders"):
    """The order was cancelled before delivery."""

    reason: Text
    example = {"order_id": "o-2001", "reason": "customer changed their mind"}

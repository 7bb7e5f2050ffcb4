"""What each domain event changes in the orders and returns read model: pure functions of a
row (a dict: columns and document together) and the event, routed by ``HANDLES``.

A route names, for an event class, each row it changes (``Target``: which table, which
row, which change). An order's events change its order row, a return's events its return
row; a return's request also lists the return on its order's row. The clock decisions of
orders and returns (R-ORD-01/02/04, R-REF-02/03/05) fill each row's ``sla`` (by clock key:
rule, start, due time, target, actual, outcome, how it was decided) and ``breach_list``.
The returns' changes are in ``return_rows``, which adds them to this table.

Only ids and the facts' own values are kept, never a personal value: an address change
(``Order.Modified``) shows its modification id, systems and times, not what changed (its
values are sealed per customer); free texts (a cancellation's or a rejection's reason, a
merchant's note, a special request's note) stay in the event store, where the audit
history shows them to those allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.aggregate import JourneyAggregate
from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.order import Order
from domain.parking import ParkingLot
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections.dispatch import Handles
from projections.orders.tables import ORDERS, RETURNS
from projections.sla_rows import breach_entry, seconds, started_clock, utc

RowChange = Callable[[dict[str, Any], Any], None]


@dataclass(frozen=True)
class Target:
    """One row an event changes: in ``table``, the row of id ``key(event)``, by
    ``change``; ``creates``: the event starts the row."""

    table: str
    key: Callable[[Any], str]
    change: RowChange
    creates: bool = False


Route = tuple[Target, ...]

HANDLES: Handles[Route] = Handles("orders_returns")
HANDLES.ignore(
    ParkingLot.Event,  # the parking lots' own bookkeeping: their events let in apply
    # Events of no order and no return.
    Case.Event,
    Contact.Event,
    Customer.Event,
    Callback.Event,
    Survey.Event,
    # Nothing a row shows: a repeat that changed nothing.
    JourneyAggregate.Acknowledged,
)


def own(event: Any) -> str:
    return str(event.originator_id)


def order_of(event: Any) -> str:
    return str(Order.create_id(event.order_id))


def on(table: str, *classes: type, creates: bool = False) -> Callable[[RowChange], RowChange]:
    def register(change: RowChange) -> RowChange:
        for kind in classes:
            HANDLES.add(kind, (Target(table, own, change, creates),))
        return change

    return register


# -- SLA clocks (an order's or a return's clock decisions, on its own row) ------------------


def deadline_started(row: dict[str, Any], event: JourneyAggregate.DeadlineStarted) -> None:
    row["sla"][event.key] = {
        **started_clock(event),
        "actual_s": None,
        "decided_at": None,
        "detected_by": None,
    }


def deadline_met(row: dict[str, Any], event: JourneyAggregate.DeadlineMet) -> None:
    _decided(row, event.key, "met", seconds(event.actual), utc(event.at), "fact")


def deadline_breached(row: dict[str, Any], event: JourneyAggregate.DeadlineBreached) -> None:
    """Breached by the fact that stopped the clock after its due time (``fact``), or by
    the SLA timer's watermark passing it with no such fact (``watermark``)."""
    clock = _decided(row, event.key, "breached", seconds(event.actual), None, event.detected_by)
    clock.setdefault("due_at", utc(event.due_at))
    clock.setdefault("target_s", event.target.total_seconds())
    if event.actual is not None and "started_at" in clock:  # when the late fact happened
        clock["decided_at"] = utc(datetime.fromisoformat(clock["started_at"]) + event.actual)
    row["breaches"] += 1
    row["breach_list"].append(breach_entry(event))
    rules = {rule for rule in row["breached_rules"].split("|") if rule} | {event.rule}
    row["breached_rules"] = "|" + "|".join(sorted(rules)) + "|"


def deadline_settled(row: dict[str, Any], event: JourneyAggregate.DeadlineSettled) -> None:
    outcome = "met" if event.within_target else "late"
    _decided(row, event.key, outcome, seconds(event.actual), utc(event.at), "fact")


def deadline_cancelled(row: dict[str, Any], event: JourneyAggregate.DeadlineCancelled) -> None:
    _decided(row, event.key, "cancelled", None, utc(event.at), "fact")


def _decided(
    row: dict[str, Any],
    key: str,
    outcome: str,
    actual_s: float | None,
    at: str | None,
    detected_by: str,
) -> dict[str, Any]:
    clock: dict[str, Any] = row["sla"].setdefault(key, {"rule": key.split(":")[0]})
    clock.update(outcome=outcome, actual_s=actual_s, decided_at=at, detected_by=detected_by)
    return clock


for _aggregate, _table in ((Order, ORDERS), (ReturnRequest, RETURNS)):
    on(_table, _aggregate.DeadlineStarted)(deadline_started)
    on(_table, _aggregate.DeadlineMet)(deadline_met)
    on(_table, _aggregate.DeadlineBreached)(deadline_breached)
    on(_table, _aggregate.DeadlineSettled)(deadline_settled)
    on(_table, _aggregate.DeadlineCancelled)(deadline_cancelled)


# -- orders ---------------------------------------------------------------------------------


@on(ORDERS, Order.Placed, creates=True)
def order_placed(row: dict[str, Any], event: Order.Placed) -> None:
    promised = utc(event.promised_delivery_at)
    row.update(
        {
            "id": str(event.originator_id),
            "order_id": event.order_id,
            "customer_id": event.customer_id,
            "channel": event.channel,
            "store_id": event.store_id,
            "status": "placed",
            "placed_at": utc(event.occurred_at),
            "promised_delivery_at": promised,
            "delivered_at": None,
            "delivered_late": 0,
            "breaches": 0,
            "breached_rules": "",
            "attribute_labels": "|",  # the batch adds each event's source attributes
            "last_notification_id": 0,  # the batch notes the notification, as for any event
            # the document
            "version": event.originator_version,
            "placed_by_event_id": event.source.event_id,
            "attributes": {},
            "items": [
                {
                    "sku": sku,
                    "quantity": int(event.quantities[sku]),
                    "unit_price": event.unit_prices[sku],
                }
                for sku in event.skus
            ],
            "amount_paid": str(event.amount_paid),
            "currency": event.currency,
            "first_promised_delivery_at": promised,
            "delays": [],
            "delayed_by_s": 0.0,
            "late_by_s": None,
            "special_requests": [_kind(text) for text in event.special_requests],
            "modifications": [],
            "stock_outs": [],
            "shipped_at": None,
            "carrier": None,
            "cancelled_at": None,
            "refunds": [],
            "refunded_total": "0",
            "refundable": str(event.amount_paid),
            "returns": [],
            "sla": {},
            "breach_list": [],
            "policy_version": event.policy_version,
        }
    )


def _kind(request: str) -> str:
    """A special request's kind (R-ORD-03), without its free-text note."""
    return request.split(":", 1)[0]


@on(ORDERS, Order.Modified)
def modified(row: dict[str, Any], event: Order.Modified) -> None:
    """R-ORD-01: which modification, when, to which systems — not the changed values."""
    row["modifications"].append(
        {
            "modification_id": event.modification_id,
            "at": utc(event.occurred_at),
            "systems": list(event.systems),
            "synced_at": None,
        }
    )


@on(ORDERS, Order.Synced)
def synced(row: dict[str, Any], event: Order.Synced) -> None:
    for modification in row["modifications"]:
        if modification["modification_id"] == event.modification_id:
            modification["synced_at"] = utc(event.occurred_at)


@on(ORDERS, Order.SpecialRequestAdded)
def special_request_added(row: dict[str, Any], event: Order.SpecialRequestAdded) -> None:
    row["special_requests"].append(_kind(event.request))


@on(ORDERS, Order.OutOfStock)
def out_of_stock(row: dict[str, Any], event: Order.OutOfStock) -> None:
    """R-ORD-02: each stock-out of a sku, then when the customer was told."""
    row["stock_outs"].append(
        {"sku": event.sku, "at": utc(event.occurred_at), "notified_at": None, "options": []}
    )


@on(ORDERS, Order.CustomerNotified)
def customer_notified(row: dict[str, Any], event: Order.CustomerNotified) -> None:
    for stock_out in reversed(row["stock_outs"]):
        if stock_out["sku"] == event.sku and stock_out["notified_at"] is None:
            stock_out["notified_at"] = utc(event.occurred_at)
            stock_out["options"] = list(event.options)
            return


@on(ORDERS, Order.DelayAnnounced)
def delay_announced(row: dict[str, Any], event: Order.DelayAnnounced) -> None:
    """R-ORD-04: a delay announced in time is on or before the promise it replaces."""
    new = utc(event.new_promised_delivery_at)
    row["delays"].append(
        {
            "at": utc(event.occurred_at),
            "previous_promised_delivery_at": utc(event.previous_promised_delivery_at),
            "new_promised_delivery_at": new,
            "reason": event.reason,
            "announced_in_time": event.occurred_at <= event.previous_promised_delivery_at,
        }
    )
    row["promised_delivery_at"] = new
    first = datetime.fromisoformat(row["first_promised_delivery_at"])
    row["delayed_by_s"] = (event.new_promised_delivery_at - first).total_seconds()


@on(ORDERS, Order.Shipped)
def shipped(row: dict[str, Any], event: Order.Shipped) -> None:
    row.update(status="shipped", shipped_at=utc(event.occurred_at), carrier=event.carrier)


@on(ORDERS, Order.Delivered)
def delivered(row: dict[str, Any], event: Order.Delivered) -> None:
    """Late when after the promise in force (an announced delay moved it); ``late_by_s``
    says by how much (0 when on time)."""
    promised = datetime.fromisoformat(row["promised_delivery_at"])
    late_by = (event.occurred_at - promised).total_seconds()
    row.update(
        status="delivered",
        delivered_at=utc(event.occurred_at),
        delivered_late=int(late_by > 0),
        late_by_s=max(late_by, 0.0),
    )


@on(ORDERS, Order.Cancelled)
def cancelled(row: dict[str, Any], event: Order.Cancelled) -> None:
    row.update(status="cancelled", cancelled_at=utc(event.occurred_at))


@on(ORDERS, Order.RefundRecorded)
def refund_recorded(row: dict[str, Any], event: Order.RefundRecorded) -> None:
    """R-REF-04: every refund against the order; what may still be refunded."""
    add_refund(row, event, return_id=event.return_id)
    row["refundable"] = str(Decimal(row["amount_paid"]) - Decimal(row["refunded_total"]))


def add_refund(row: dict[str, Any], event: Any, **more: Any) -> None:
    amount: Decimal = event.amount
    item = {"at": utc(event.occurred_at), "amount": str(amount), **more}
    row["refunds"].append({**item, "event_id": event.source.event_id})
    row["refunded_total"] = str(Decimal(row["refunded_total"]) + amount)

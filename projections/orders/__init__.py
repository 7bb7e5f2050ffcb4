"""Orders and returns (R-ORD, R-REF): one row per order and one per return request.

An order's row: customer, channel, store, status (placed, shipped, delivered, cancelled),
items, amount paid, the promised delivery time first given and the one in force, each
announced delay (R-ORD-04: in time or not), shipped / delivered / cancelled times and how
late the delivery was, modifications and their syncs (R-ORD-01), stock-outs and when the
customer was told (R-ORD-02), special request kinds (R-ORD-03), refunds and what is still
refundable (R-REF-04), its returns. A return's row: order, customer, reason, where,
status (requested, approved, rejected, refunded, exchanged), decision, inspection,
refunds, exchange, merchant's answer (R-REF-05). Both carry every SLA clock of their
aggregate (target, actual, outcome, how it was decided: by a fact or by the SLA timer's
watermark) and every breach with its rule id. Only ids: no personal value.

Modules: ``tables`` (DDL, indexes, a row as stored), ``rows`` (what each event changes),
``batch`` (a batch loaded once, written once), ``queries`` (a row, pages),
``projection`` (``OrdersAndReturns``).
"""

from projections.orders.projection import OrdersAndReturns
from projections.orders.queries import OrderFilter, ReturnFilter

__all__ = ["OrderFilter", "OrdersAndReturns", "ReturnFilter"]

"""Customer 360: everything about one customer in one place (R-CUS-06), with RFM and
lifecycle segments (R-CUS-05).

Storage (``tables``; one copy per rebuild suffix, see ``projections.base``):

- ``c360_items`` — one row per aggregate of a customer (the customer record, each order,
  return, case, callback, survey and contact): ``aggregate_id → customer_id`` (the owner
  table: later facts carry only their aggregate's id), the external id (``ref``), its
  creation time and a small JSON document of what the view shows about it. A document
  holds one aggregate, so its size is bounded by that aggregate's life, not by the
  customer's history: a batch rewrites only the aggregates it touched, once each.
  A contact's document keeps its facts (opened, message, reply, hand-off, close…) with
  their event times; the view merges those of all the customer's contacts into the
  timeline across channels. Each fact thus rewrites a recently created row, rather than
  inserting into a per-customer index at a random place.
- ``c360_customers`` — one row per customer: the event time of its first fact shown.
- ``c360_event_time`` — the latest ``occurred_at`` of any fact seen: the default ``as_of``.

Personal values (name, phone, email, address, id number, member id, birthday,
preferences) are only in the ``profile`` part of the view, so that masking (R-CUS-04) and
erasure apply in one place. Free texts written by customers or agents (survey comments,
demands, notes, reasons) are left out of the view for the same reason.

Segments (R-CUS-05) are computed when asked, on event time, relative to ``as_of`` (default:
the latest event time seen), from the orders stored here; so a rebuild gives the same
answer as the live copy. A *purchase* is an order placed at or before ``as_of`` and not
cancelled by then; its net amount is what was paid minus what was refunded by then.
Monetary values are summed at face value whatever the currency: one currency per
deployment (CNY in the pilot).

RFM, for customers with at least one purchase (others have none):

- ``churn_risk``: was a buyer, long silent — the latest purchase is more than
  ``CHURN_SILENCE`` before ``as_of``.
- ``core``: recent, frequent, high spend — the latest purchase at most ``CORE_RECENCY``
  before ``as_of``, at least ``CORE_MIN_ORDERS`` purchases and at least
  ``CORE_MIN_SPEND`` net spend in the ``RFM_WINDOW`` up to ``as_of``.
- ``potential``: every other buyer (bought recently enough, not yet core).

Lifecycle, for customers with any fact at or before ``as_of``:

- ``potential``: interest, no purchase (registered, contacted, or only cancelled orders).
- ``new``: first purchase at most ``NEW_WINDOW`` before ``as_of``.
- ``active``: latest purchase at most ``ACTIVE_WINDOW`` before ``as_of``.
- ``dormant``: a buyer whose latest purchase is more than ``ACTIVE_WINDOW`` before.

Cases are ``open`` until closed (a resolved case awaits the customer's confirmation,
R-CMP-04), ``past`` once closed; a reopened case is open again and counts its reopenings.

Every boundary is inclusive on the side of the more engaged segment (exactly 90 days
since the latest purchase is still ``core`` / ``active``).

Modules: ``tables`` (DDL, indexes), ``items`` and ``rows`` (what each event shows: a new
item, a change of its document), ``batch`` (a batch an item at a time), ``segments``
(R-CUS-05), ``queries`` (the view, segments, timeline), ``projection`` (``Customer360``:
tables, batch and queries together).
"""

from projections.customer360.projection import Customer360
from projections.customer360.queries import TIMELINE_LIMIT
from projections.customer360.segments import (
    ACTIVE_WINDOW,
    CHURN_SILENCE,
    CORE_MIN_ORDERS,
    CORE_MIN_SPEND,
    CORE_RECENCY,
    NEW_WINDOW,
    RFM_WINDOW,
    segments_of,
)

__all__ = [
    "ACTIVE_WINDOW",
    "CHURN_SILENCE",
    "CORE_MIN_ORDERS",
    "CORE_MIN_SPEND",
    "CORE_RECENCY",
    "NEW_WINDOW",
    "RFM_WINDOW",
    "TIMELINE_LIMIT",
    "Customer360",
    "segments_of",
]

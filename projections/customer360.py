"""Customer 360: everything about one customer in one place (R-CUS-06), with RFM and
lifecycle segments (R-CUS-05).

Storage (one copy per rebuild suffix, see ``projections.base``):

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
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from adapters.readstore import Cursor
from domain.aggregate import is_fact
from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.order import Order
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections.base import Index, Notified, Projection, select_in

# -- R-CUS-05 thresholds: the one place they are defined --------------------------------------

RFM_WINDOW = timedelta(days=365)
"""R-CUS-05: frequency and monetary count purchases placed in this window up to ``as_of``
(inclusive: a purchase exactly 365 days before counts)."""
CORE_RECENCY = timedelta(days=90)
"""R-CUS-05 ``core``: the latest purchase at most this long before ``as_of``."""
CORE_MIN_ORDERS = 3
"""R-CUS-05 ``core``: at least this many purchases in ``RFM_WINDOW``."""
CORE_MIN_SPEND = Decimal("1000.00")
"""R-CUS-05 ``core``: at least this net spend (paid minus refunded) in ``RFM_WINDOW``."""
CHURN_SILENCE = timedelta(days=180)
"""R-CUS-05 ``churn_risk``: a buyer whose latest purchase is more than this before ``as_of``."""
NEW_WINDOW = timedelta(days=30)
"""R-CUS-05 lifecycle ``new``: the first purchase at most this long before ``as_of``."""
ACTIVE_WINDOW = timedelta(days=90)
"""R-CUS-05 lifecycle ``active`` (at most this long since the latest purchase) versus
``dormant`` (longer)."""

TIMELINE_LIMIT = 500
"""Contact timeline entries a view carries (the newest); older ones page by ``timeline``."""


def _iso(at: datetime) -> str:
    """UTC ISO 8601. Two such strings compare like the instants they name (the fixed-width
    part first; without fractional seconds ``+`` sorts before ``.``)."""
    return at.astimezone(UTC).isoformat()


def _check_aware(as_of: datetime | None) -> None:
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must be an aware datetime (event time is compared in UTC)")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# -- what a batch works on ---------------------------------------------------------------------


@dataclass
class _Item:
    """One aggregate of a customer, as stored in ``c360_items``."""

    aggregate_id: str
    customer_id: str
    kind: str
    ref: str
    at: str
    doc: dict[str, Any]


class _Work:
    """The rows one batch touches, each loaded once, changed in memory, written once."""

    def __init__(self, items: dict[str, _Item], customers: dict[str, str]) -> None:
        self.items = items
        self.customers = customers
        self.dirty_items: set[str] = set()
        self.dirty_customers: set[str] = set()

    def seen(self, customer_id: str, at: str) -> None:
        """The customer's first fact is the earliest by event time (the log's order is
        only per aggregate); its row is written only when that changes."""
        first = self.customers.get(customer_id)
        if first is None or at < first:
            self.customers[customer_id] = at
            self.dirty_customers.add(customer_id)


# -- creation events: a new item (kind, ref, document) ------------------------------------------

Created = tuple[str, str, dict[str, Any]]


def _registered(e: Customer.Registered, at: str) -> Created:
    return (
        "customer",
        e.customer_id,
        {
            "registered_at": at,
            "channel": e.channel,
            "member_id": e.member_id,
            "personal": dict(e.personal),
            "birthday": e.birthday,
            "preferences": list(e.preferences),
            "changed_at": {name: at for name in [*e.personal, "preferences", "birthday"]},
            "consents": [[at, purpose, True] for purpose in e.consents],
            "erasure_requested_at": None,
        },
    )


def _contact_opened(e: Contact.Opened, at: str) -> Created:
    return (
        "contact",
        e.contact_id,
        {
            "contact_id": e.contact_id,
            "case_ref": e.case_ref,
            "channel": e.channel,
            "opened_at": at,
            "events": [],
        },
    )


def _case_opened(e: Case.Opened, at: str) -> Created:
    return (
        "case",
        e.case_ref,
        {
            "case_ref": e.case_ref,
            "opened_at": at,
            "channel": e.channel,
            "channels": [e.channel],
            "classification": e.classification,
            "topic": e.topic,
            "priority": e.priority,
            "status": "open",
            "escalation_level": 1,
            "reopen_count": 0,
            "resolved_at": None,
            "closed_at": None,
            "resolution_option": None,
            "store_id": e.store_id,
            "agent_group": e.agent_group,
        },
    )


def _order_placed(e: Order.Placed, at: str) -> Created:
    return (
        "order",
        e.order_id,
        {
            "order_id": e.order_id,
            "placed_at": at,
            "channel": e.channel,
            "store_id": e.store_id,
            "amount": str(e.amount_paid),
            "currency": e.currency,
            "status": "placed",
            "promised_delivery_at": _iso(e.promised_delivery_at),
            "first_promised_delivery_at": _iso(e.promised_delivery_at),
            "delays": 0,
            "shipped_at": None,
            "delivered_at": None,
            "cancelled_at": None,
            "refunds": [],
            "refunded": "0",
        },
    )


def _return_requested(e: ReturnRequest.Requested, at: str) -> Created:
    return (
        "return",
        e.return_id,
        {
            "return_id": e.return_id,
            "order_id": e.order_id,
            "requested_at": at,
            "reason": e.reason,
            "where": e.where,
            "amount_requested": str(e.amount_requested),
            "status": "requested",
            "decided_at": None,
            "inspection": None,
            "refunds": [],
            "refunded": "0",
            "exchanged_for": None,
            "completed_at": None,
        },
    )


def _callback_scheduled(e: Callback.Scheduled, at: str) -> Created:
    return (
        "callback",
        e.callback_id,
        {
            "callback_id": e.callback_id,
            "reason": e.reason,
            "order_id": e.order_id,
            "scheduled_at": at,
            "due_at": _iso(e.due_at),
            "status": "scheduled",
            "outcome": None,
            "ended_at": None,
        },
    )


def _survey_sent(e: Survey.Sent, at: str) -> Created:
    return (
        "survey",
        e.survey_id,
        {
            "survey_id": e.survey_id,
            "case_ref": e.case_ref,
            "sent_at": at,
            "answered_at": None,
            "scores": None,
            "nps": None,
            "dissatisfied": False,
            "thanked": False,
            "followed_up_at": None,
        },
    )


CREATED: dict[type, Callable[[Any, str], Created]] = {
    Customer.Registered: _registered,
    Contact.Opened: _contact_opened,
    Case.Opened: _case_opened,
    Order.Placed: _order_placed,
    ReturnRequest.Requested: _return_requested,
    Callback.Scheduled: _callback_scheduled,
    Survey.Sent: _survey_sent,
}

# -- later facts: change the aggregate's document ------------------------------------------------

Update = Callable[[dict[str, Any], Any, str], None]


def _consent(granted: bool) -> Update:
    def update(doc: dict[str, Any], e: Any, at: str) -> None:
        doc["consents"].append([at, e.purpose, granted])

    return update


def _profile_updated(doc: dict[str, Any], e: Customer.ProfileUpdated, at: str) -> None:
    """As the aggregate does: each field keeps its newest value by event time."""
    changed = doc["changed_at"]
    for name, value in e.personal.items():
        if at >= changed.get(name, at):
            doc["personal"][name] = value
            changed[name] = at
    if e.preferences is not None and at >= changed.get("preferences", at):
        doc["preferences"] = list(e.preferences)
        changed["preferences"] = at
    if e.birthday is not None and at >= changed.get("birthday", at):
        doc["birthday"] = e.birthday
        changed["birthday"] = at


def _erasure_requested(doc: dict[str, Any], e: Customer.ErasureRequested, at: str) -> None:
    doc["erasure_requested_at"] = doc["erasure_requested_at"] or at


def _contact_joined(doc: dict[str, Any], e: Case.ContactJoined, at: str) -> None:
    if e.channel not in doc["channels"]:
        doc["channels"].append(e.channel)


def _priority_set(doc: dict[str, Any], e: Case.PrioritySet, at: str) -> None:
    doc["priority"] = e.priority


def _escalated(doc: dict[str, Any], e: Case.Escalated, at: str) -> None:
    doc["escalation_level"] = max(doc["escalation_level"], e.level)


def _resolved(doc: dict[str, Any], e: Case.Resolved, at: str) -> None:
    doc.update(status="resolved", resolved_at=at, resolution_option=e.option)


def _closed(doc: dict[str, Any], e: Any, at: str) -> None:
    doc.update(status="closed", closed_at=at)


def _reopened(doc: dict[str, Any], e: Case.Reopened, at: str) -> None:
    doc.update(status="open", resolved_at=None, closed_at=None)
    doc["reopen_count"] += 1


def _delay_announced(doc: dict[str, Any], e: Order.DelayAnnounced, at: str) -> None:
    doc["promised_delivery_at"] = _iso(e.new_promised_delivery_at)
    doc["delays"] += 1


def _status(status: str, field: str) -> Update:
    def update(doc: dict[str, Any], e: Any, at: str) -> None:
        doc["status"] = status
        doc[field] = at

    return update


def _add_refund(doc: dict[str, Any], amount: Decimal, at: str, **more: str) -> None:
    doc["refunds"].append({"at": at, "amount": str(amount), **more})
    doc["refunded"] = str(Decimal(doc["refunded"]) + amount)


def _order_refund(doc: dict[str, Any], e: Order.RefundRecorded, at: str) -> None:
    _add_refund(doc, e.amount, at, return_id=e.return_id)


def _return_refunded(doc: dict[str, Any], e: ReturnRequest.Refunded, at: str) -> None:
    _add_refund(doc, e.amount, at)
    doc["status"] = "refunded"
    doc["completed_at"] = doc["completed_at"] or at


def _exchanged(doc: dict[str, Any], e: ReturnRequest.Exchanged, at: str) -> None:
    doc.update(status="exchanged", exchanged_for=e.new_sku)
    doc["completed_at"] = doc["completed_at"] or at


def _inspected(doc: dict[str, Any], e: ReturnRequest.Inspected, at: str) -> None:
    doc["inspection"] = e.result


def _decided(status: str) -> Update:
    def update(doc: dict[str, Any], e: Any, at: str) -> None:
        doc.update(status=status, decided_at=at)

    return update


def _callback_completed(doc: dict[str, Any], e: Callback.Completed, at: str) -> None:
    doc.update(status="completed", outcome=e.outcome, ended_at=at)


def _callback_missed(doc: dict[str, Any], e: Callback.Missed, at: str) -> None:
    doc.update(status="missed", ended_at=at)


def _answered(doc: dict[str, Any], e: Survey.Answered, at: str) -> None:
    doc.update(answered_at=at, scores=e.scores(), nps=e.nps, dissatisfied=e.dissatisfied)


def _thanked(doc: dict[str, Any], e: Survey.ThankYouTriggered, at: str) -> None:
    doc["thanked"] = True


def _followed_up(doc: dict[str, Any], e: Survey.FollowedUp, at: str) -> None:
    doc["followed_up_at"] = doc["followed_up_at"] or at


UPDATES: dict[type, Update] = {
    Customer.ConsentGranted: _consent(True),
    Customer.ConsentWithdrawn: _consent(False),
    Customer.ProfileUpdated: _profile_updated,
    Customer.ErasureRequested: _erasure_requested,
    Case.ContactJoined: _contact_joined,
    Case.PrioritySet: _priority_set,
    Case.Escalated: _escalated,
    Case.Resolved: _resolved,
    Case.ResolutionConfirmed: _closed,
    Case.ClosedWithoutReply: _closed,
    Case.Reopened: _reopened,
    Order.DelayAnnounced: _delay_announced,
    Order.Shipped: _status("shipped", "shipped_at"),
    Order.Delivered: _status("delivered", "delivered_at"),
    Order.Cancelled: _status("cancelled", "cancelled_at"),
    Order.RefundRecorded: _order_refund,
    ReturnRequest.Approved: _decided("approved"),
    ReturnRequest.Rejected: _decided("rejected"),
    ReturnRequest.Inspected: _inspected,
    ReturnRequest.Refunded: _return_refunded,
    ReturnRequest.Exchanged: _exchanged,
    Callback.Completed: _callback_completed,
    Callback.Missed: _callback_missed,
    Survey.Answered: _answered,
    Survey.ThankYouTriggered: _thanked,
    Survey.FollowedUp: _followed_up,
}

# -- contact facts: an entry of the contact's events (source event type, details) ----------------

Entry = Callable[[Any], dict[str, Any]]

TIMELINE: dict[type, tuple[str, Entry]] = {
    Contact.Opened: ("contact.opened", lambda e: {}),
    Contact.MessageReceived: ("contact.message", lambda e: {"message_id": e.message_id}),
    Contact.Replied: (
        "contact.replied",
        lambda e: {"responder": e.responder, "agent_id": e.agent_id},
    ),
    Contact.IdentityVerified: ("contact.identity_verified", lambda e: {"method": e.method}),
    Contact.HandoffRequested: ("contact.handoff_requested", lambda e: {}),
    Contact.HandedOff: ("contact.handed_off", lambda e: {"agent_id": e.agent_id}),
    Contact.ReplyPromised: ("contact.reply_promised", lambda e: {"agent_id": e.agent_id}),
    Contact.Closed: ("contact.closed", lambda e: {"resolved": e.resolved}),
    Contact.Abandoned: ("contact.abandoned", lambda e: {}),
}

_SHOWN = frozenset(CREATED) | frozenset(UPDATES) | frozenset(TIMELINE)


# -- segments (R-CUS-05) ---------------------------------------------------------------------------


def _purchases(orders: Iterable[dict[str, Any]], as_of: str) -> list[tuple[str, Decimal]]:
    """(placed_at, net amount) of the orders that count as purchases at ``as_of``: placed
    by then and not cancelled by then; net of the refunds made by then."""
    found = []
    for order in orders:
        cancelled = order["cancelled_at"]
        if order["placed_at"] > as_of or (cancelled is not None and cancelled <= as_of):
            continue
        refunded = sum(
            (Decimal(r["amount"]) for r in order["refunds"] if r["at"] <= as_of), Decimal(0)
        )
        found.append((order["placed_at"], Decimal(order["amount"]) - refunded))
    return sorted(found)


def segments_of(
    orders: Iterable[dict[str, Any]], first_seen_at: str | None, as_of: datetime
) -> dict[str, Any]:
    """R-CUS-05: the RFM and lifecycle segments of one customer at ``as_of`` (event time),
    from its order documents and the time of its first fact. Thresholds: module constants."""
    at = _iso(as_of)
    purchases = _purchases(orders, at)
    result: dict[str, Any] = {
        "rule": "R-CUS-05",
        "as_of": at,
        "rfm": None,
        "lifecycle": None,
        "recency_days": None,
        "frequency": 0,
        "monetary": "0",
        "first_purchase_at": None,
        "last_purchase_at": None,
    }
    if not purchases:
        if first_seen_at is not None and first_seen_at <= at:
            result["lifecycle"] = "potential"
        return result
    first, last = purchases[0][0], purchases[-1][0]
    recency = as_of - datetime.fromisoformat(last)
    since_first = as_of - datetime.fromisoformat(first)
    window_start = _iso(as_of - RFM_WINDOW)
    in_window = [net for placed, net in purchases if placed >= window_start]
    frequency, monetary = len(in_window), sum(in_window, Decimal(0))
    if recency > CHURN_SILENCE:
        rfm = "churn_risk"
    elif recency <= CORE_RECENCY and frequency >= CORE_MIN_ORDERS and monetary >= CORE_MIN_SPEND:
        rfm = "core"
    else:
        rfm = "potential"
    if since_first <= NEW_WINDOW:
        lifecycle = "new"
    elif recency <= ACTIVE_WINDOW:
        lifecycle = "active"
    else:
        lifecycle = "dormant"
    result.update(
        rfm=rfm,
        lifecycle=lifecycle,
        recency_days=recency.days,
        frequency=frequency,
        monetary=str(monetary),
        first_purchase_at=first,
        last_purchase_at=last,
    )
    return result


# -- the projection ------------------------------------------------------------------------------


class Customer360(Projection):
    """The customer 360 read model (R-CUS-06) with its segments (R-CUS-05)."""

    name = "customer_360"
    tables = ("c360_items", "c360_customers", "c360_event_time")

    def ddl(self) -> Sequence[str]:
        # Times and ids are compared and ordered as strings: byte order on PostgreSQL too,
        # whatever the database's locale, as on SQLite.
        ordered = 'TEXT COLLATE "C"' if self.store.dialect == "postgres" else "TEXT"
        return (
            f"CREATE TABLE IF NOT EXISTS {self.t('c360_items')} ("
            f" aggregate_id {ordered} PRIMARY KEY, customer_id TEXT NOT NULL,"
            f" kind TEXT NOT NULL, ref TEXT NOT NULL, at {ordered} NOT NULL, doc TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.t('c360_customers')} ("
            " customer_id TEXT PRIMARY KEY, first_seen_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.t('c360_event_time')}"
            f" (name TEXT PRIMARY KEY, latest {ordered} NOT NULL)",
        )

    def indexes(self) -> Sequence[Index]:
        return (Index("c360_items_customer", "c360_items", "customer_id, kind", query_only=True),)

    # -- applying ------------------------------------------------------------------------------

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        shown = [
            (nid, str(e.originator_id), e)
            for nid, e in batch
            if e is not None and type(e) in _SHOWN
        ]
        latest = max((e.occurred_at for _, e in batch if is_fact(e)), default=None)
        if shown:
            work = self._load(cursor, shown)
            for nid, aggregate_id, event in shown:
                self._apply(work, nid, aggregate_id, event)
            self._store(cursor, work)
        if latest is not None:
            cursor.execute(
                f"INSERT INTO {self.t('c360_event_time')} AS w VALUES ('watermark', :at)"
                " ON CONFLICT (name) DO UPDATE SET latest = excluded.latest"
                " WHERE w.latest < excluded.latest",
                {"at": _iso(latest)},
            )

    def _load(self, cursor: Cursor, shown: Sequence[tuple[int, str, Any]]) -> _Work:
        """The items and customer rows the batch touches, one query per 500 ids."""
        ids = list(dict.fromkeys(aggregate_id for _, aggregate_id, _ in shown))
        items: dict[str, _Item] = {}
        for row in select_in(cursor, self.t("c360_items"), "aggregate_id", ids):
            items[row["aggregate_id"]] = _Item(
                row["aggregate_id"],
                row["customer_id"],
                row["kind"],
                row["ref"],
                row["at"],
                orjson.loads(row["doc"]),
            )
        customer_ids = {item.customer_id for item in items.values()}
        customer_ids.update(e.customer_id for _, _, e in shown if type(e) in CREATED)
        customers = {
            row["customer_id"]: row["first_seen_at"]
            for row in select_in(
                cursor, self.t("c360_customers"), "customer_id", sorted(customer_ids)
            )
        }
        return _Work(items, customers)

    def _apply(self, work: _Work, nid: int, aggregate_id: str, event: Any) -> None:
        at = _iso(event.occurred_at)
        kind = type(event)
        item = work.items.get(aggregate_id)
        if kind in CREATED:
            if item is not None:
                return  # applied before
            item_kind, ref, doc = CREATED[kind](event, at)
            doc["nids"] = [nid]
            item = _Item(aggregate_id, event.customer_id, item_kind, ref, at, doc)
            work.items[aggregate_id] = item
            work.dirty_items.add(aggregate_id)
        elif item is None:
            return  # an aggregate created before this read model's history began
        else:
            if nid in item.doc["nids"]:
                return  # applied before
            update = UPDATES.get(kind)
            if update is not None:
                update(item.doc, event, at)
            item.doc["nids"].append(nid)
            work.dirty_items.add(aggregate_id)
        entry = TIMELINE.get(kind)
        if entry is not None:
            name, detail = entry
            item.doc["events"].append([at, nid, name, detail(event)])
        work.seen(item.customer_id, at)

    def _store(self, cursor: Cursor, work: _Work) -> None:
        if work.dirty_items:
            cursor.executemany(
                f"INSERT INTO {self.t('c360_items')} (aggregate_id, customer_id, kind, ref, at,"
                " doc) VALUES (:aggregate_id, :customer_id, :kind, :ref, :at, :doc)"
                " ON CONFLICT (aggregate_id) DO UPDATE SET doc = excluded.doc",
                [
                    {
                        "aggregate_id": item.aggregate_id,
                        "customer_id": item.customer_id,
                        "kind": item.kind,
                        "ref": item.ref,
                        "at": item.at,
                        "doc": _dumps(item.doc),
                    }
                    for item in (work.items[i] for i in sorted(work.dirty_items))
                ],
            )
        if work.dirty_customers:
            cursor.executemany(
                f"INSERT INTO {self.t('c360_customers')} (customer_id, first_seen_at)"
                " VALUES (:customer_id, :first_seen_at) ON CONFLICT (customer_id)"
                " DO UPDATE SET first_seen_at = excluded.first_seen_at",
                [
                    {"customer_id": customer_id, "first_seen_at": work.customers[customer_id]}
                    for customer_id in sorted(work.dirty_customers)
                ],
            )

    # -- queries -------------------------------------------------------------------------------

    def watermark(self) -> datetime | None:
        """The latest event time of any fact seen: the default ``as_of``."""
        rows = self.store.query(
            f"SELECT latest FROM {self.t('c360_event_time')} WHERE name = 'watermark'"
        )
        return datetime.fromisoformat(rows[0]["latest"]) if rows else None

    def view(
        self,
        customer_id: str,
        as_of: datetime | None = None,
        timeline_limit: int = TIMELINE_LIMIT,
    ) -> dict[str, Any] | None:
        """The customer 360 (R-CUS-06) as JSON-ready values, or None for an unknown customer.

        ``as_of`` (aware; default: the latest event time seen) is the instant the segments
        (R-CUS-05) and the time-relative flags (an order ``late``, a callback ``overdue``,
        the consents in force) are judged at. The lists show every fact recorded. The
        timeline holds the newest ``timeline_limit`` contact facts, oldest first."""
        _check_aware(as_of)
        with self.store.reading() as cursor:
            cursor.execute(
                f"SELECT * FROM {self.t('c360_customers')} WHERE customer_id = :c",
                {"c": customer_id},
            )
            found = cursor.fetchall()
            if not found:
                return None
            if as_of is None:
                cursor.execute(
                    f"SELECT latest FROM {self.t('c360_event_time')} WHERE name = 'watermark'"
                )
                as_of = datetime.fromisoformat(cursor.fetchall()[0]["latest"])
            docs = self._docs(cursor, customer_id)
        at = _iso(as_of)
        timeline = _timeline(docs.get("contact", []), timeline_limit + 1, None)
        customer = found[0]
        cases = [_public(doc) for doc in docs.get("case", [])]
        return {
            "customer_id": customer_id,
            "as_of": at,
            "first_seen_at": customer["first_seen_at"],
            "profile": _profile(docs.get("customer", [])),
            "consents": _consents(docs.get("customer", []), at),
            "segments": segments_of(docs.get("order", []), customer["first_seen_at"], as_of),
            "orders": [_order(doc, at) for doc in docs.get("order", [])],
            "returns": [_public(doc) for doc in docs.get("return", [])],
            "cases": {
                "open": [case for case in cases if case["status"] != "closed"],
                "past": [case for case in cases if case["status"] == "closed"],
            },
            "callbacks": [_callback(doc, at) for doc in docs.get("callback", [])],
            "satisfaction": [_public(doc) for doc in docs.get("survey", [])],
            "timeline": timeline[:timeline_limit][::-1],
            "timeline_truncated": len(timeline) > timeline_limit,
        }

    def segments(self, customer_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
        """R-CUS-05 segments of one customer at ``as_of`` (default: the latest event time
        seen), or None for an unknown customer."""
        _check_aware(as_of)
        with self.store.reading() as cursor:
            cursor.execute(
                f"SELECT first_seen_at FROM {self.t('c360_customers')} WHERE customer_id = :c",
                {"c": customer_id},
            )
            found = cursor.fetchall()
            if not found:
                return None
            if as_of is None:
                cursor.execute(
                    f"SELECT latest FROM {self.t('c360_event_time')} WHERE name = 'watermark'"
                )
                as_of = datetime.fromisoformat(cursor.fetchall()[0]["latest"])
            cursor.execute(
                f"SELECT doc FROM {self.t('c360_items')} WHERE customer_id = :c AND kind = 'order'",
                {"c": customer_id},
            )
            orders = [orjson.loads(row["doc"]) for row in cursor.fetchall()]
        return segments_of(orders, found[0]["first_seen_at"], as_of)

    def timeline(
        self, customer_id: str, limit: int = TIMELINE_LIMIT, before: tuple[str, int] | None = None
    ) -> list[dict[str, Any]]:
        """Contact facts of the customer across channels, newest first, ``limit`` at a time
        before the cursor ``(at, nid)`` of the previous page's last entry."""
        with self.store.reading() as cursor:
            return _timeline(
                self._docs(cursor, customer_id, "contact").get("contact", []), limit, before
            )

    def events_behind(self, customer_id: str) -> list[int]:
        """The notification ids the customer's view was built from, in order (for an
        "explain" route)."""
        with self.store.reading() as cursor:
            docs = self._docs(cursor, customer_id)
        return sorted(nid for kind in docs.values() for doc in kind for nid in doc["nids"])

    def _docs(
        self, cursor: Cursor, customer_id: str, kind: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """The customer's item documents by kind, each kind in order of creation."""
        only = "" if kind is None else " AND kind = :kind"
        cursor.execute(
            f"SELECT kind, doc FROM {self.t('c360_items')} WHERE customer_id = :c{only}"
            " ORDER BY at, aggregate_id",
            {"c": customer_id, "kind": kind},
        )
        docs: dict[str, list[dict[str, Any]]] = {}
        for row in cursor.fetchall():
            docs.setdefault(row["kind"], []).append(orjson.loads(row["doc"]))
        return docs


# -- shaping the view ------------------------------------------------------------------------------

_INTERNAL = frozenset({"nids", "changed_at", "consents"})


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key not in _INTERNAL}


def _profile(customer: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one part of the view with personal values (masked by role later, R-CUS-04)."""
    return _public(customer[0]) if customer else None


def _consents(customer: list[dict[str, Any]], at: str) -> dict[str, Any]:
    """R-CUS-02 statements in event-time order (ties in recording order) and the purposes
    in force at ``at``: the latest statement per purpose up to then, as the aggregate
    folds them."""
    statements = sorted(customer[0]["consents"], key=lambda s: s[0]) if customer else []
    granted: dict[str, bool] = {}
    for when, purpose, given in statements:
        if when <= at:
            granted[purpose] = given
    return {
        "current": sorted(purpose for purpose, given in granted.items() if given),
        "history": [
            {"at": when, "purpose": purpose, "granted": given}
            for when, purpose, given in statements
        ],
    }


def _order(doc: dict[str, Any], at: str) -> dict[str, Any]:
    """``late``: delivered after the (latest) promised date, or not delivered nor
    cancelled while the promised date has passed at ``at``."""
    promised, delivered = doc["promised_delivery_at"], doc["delivered_at"]
    if delivered is not None:
        late = delivered > promised
    else:
        late = doc["cancelled_at"] is None and at > promised
    return {**_public(doc), "late": late}


def _timeline(
    contacts: list[dict[str, Any]], limit: int, before: tuple[str, int] | None
) -> list[dict[str, Any]]:
    """The contacts' facts merged across channels, newest first by (event time,
    notification id), ``limit`` of them before the cursor ``before``."""
    entries = [
        (at, nid, name, detail, contact)
        for contact in contacts
        for at, nid, name, detail in contact["events"]
        if before is None or (at, nid) < before
    ]
    newest = heapq.nlargest(limit, entries, key=lambda e: (e[0], e[1]))
    return [
        {
            "at": at,
            "nid": nid,
            "event": name,
            "channel": contact["channel"],
            "contact_id": contact["contact_id"],
            "case_ref": contact["case_ref"],
            **detail,
        }
        for at, nid, name, detail, contact in newest
    ]


def _callback(doc: dict[str, Any], at: str) -> dict[str, Any]:
    """``overdue``: still scheduled after its due time at ``at`` (R-SAT-04)."""
    return {**_public(doc), "overdue": doc["status"] == "scheduled" and at > doc["due_at"]}

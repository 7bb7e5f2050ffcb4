"""What each domain event shows in the customer 360, routed by ``HANDLES``: a creation event
makes a new item (its kind, external id and document), a later fact changes its aggregate's
document. Pure functions of the event, its event time (``at``, UTC ISO 8601) and its
notification id (``nid``: contact facts are listed with it in the contact's timeline)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from domain.aggregate import JourneyAggregate
from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.order import Order
from domain.parking import ParkingLot
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections.customer360 import items
from projections.customer360.items import Created
from projections.customer360.segments import iso
from projections.dispatch import Handles

Doc = dict[str, Any]
"""An item's document (JSON)."""
Create = Callable[[Any, str, int], Created]
Update = Callable[[Doc, Any, str, int], None]


class Shown(NamedTuple):
    """How events of one class show: one of the two is set."""

    create: Create | None
    """A creation event: the new item of its aggregate."""
    update: Update | None
    """A later fact: the change to its aggregate's document."""


HANDLES: Handles[Shown] = Handles("customer_360")
HANDLES.ignore(
    ParkingLot.Event,  # the parking lots' own bookkeeping: their events let in apply
    # Clock decisions and repeats: the view shows facts.
    JourneyAggregate.DeadlineStarted,
    JourneyAggregate.DeadlineMet,
    JourneyAggregate.DeadlineBreached,
    JourneyAggregate.DeadlineSettled,
    JourneyAggregate.DeadlineCancelled,
    JourneyAggregate.Acknowledged,
    # Free text written about the customer stays out of the view (R-CUS-03, R-CUS-04).
    Customer.NoteAdded,
    # The case's handling: the complaint ledger's business, not the customer's view.
    Case.Responded,
    Case.OwnerAssigned,
    Case.OptionsOffered,
    Case.OptionChosen,
    Case.ProgressUpdateSent,
    Case.RecallLinked,
    Case.SurveySent,  # the survey itself is an item
    # The order's handling behind the scenes.
    Order.Modified,
    Order.Synced,
    Order.SpecialRequestAdded,
    Order.OutOfStock,
    Order.CustomerNotified,
    ReturnRequest.MerchantResponded,
    ReturnRequest.MerchantRefusedValidReturn,
)


def updates(*kinds: type) -> Callable[[Update], Update]:
    def register(update: Update) -> Update:
        for kind in kinds:
            HANDLES.add(kind, Shown(None, update))
        return update

    return register


# -- creation events: a new item (``projections.customer360.items``) ---------------------------

HANDLES.add(Customer.Registered, Shown(items.registered, None))
HANDLES.add(Contact.Opened, Shown(items.contact_opened, None))
HANDLES.add(Case.Opened, Shown(items.case_opened, None))
HANDLES.add(Order.Placed, Shown(items.order_placed, None))
HANDLES.add(ReturnRequest.Requested, Shown(items.return_requested, None))
HANDLES.add(Callback.Scheduled, Shown(items.callback_scheduled, None))
HANDLES.add(Survey.Sent, Shown(items.survey_sent, None))


# -- later facts: change the aggregate's document ------------------------------------------------


def _consent(granted: bool) -> Update:
    def update(doc: Doc, e: Any, at: str, nid: int) -> None:
        doc["consents"].append([at, e.purpose, granted])

    return update


@updates(Customer.ProfileUpdated)
def _profile_updated(doc: Doc, e: Customer.ProfileUpdated, at: str, nid: int) -> None:
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


@updates(Customer.ErasureRequested)
def _erasure_requested(doc: Doc, e: Customer.ErasureRequested, at: str, nid: int) -> None:
    doc["erasure_requested_at"] = doc["erasure_requested_at"] or at


@updates(Case.ContactJoined)
def _contact_joined(doc: Doc, e: Case.ContactJoined, at: str, nid: int) -> None:
    if e.channel not in doc["channels"]:
        doc["channels"].append(e.channel)


@updates(Case.PrioritySet)
def _priority_set(doc: Doc, e: Case.PrioritySet, at: str, nid: int) -> None:
    doc["priority"] = e.priority


@updates(Case.Escalated)
def _escalated(doc: Doc, e: Case.Escalated, at: str, nid: int) -> None:
    doc["escalation_level"] = max(doc["escalation_level"], e.level)


@updates(Case.Resolved)
def _resolved(doc: Doc, e: Case.Resolved, at: str, nid: int) -> None:
    doc.update(status="resolved", resolved_at=at, resolution_option=e.option)


@updates(Case.ResolutionConfirmed, Case.ClosedWithoutReply)
def _closed(doc: Doc, e: Any, at: str, nid: int) -> None:
    doc.update(status="closed", closed_at=at)


@updates(Case.Reopened)
def _reopened(doc: Doc, e: Case.Reopened, at: str, nid: int) -> None:
    doc.update(status="open", resolved_at=None, closed_at=None)
    doc["reopen_count"] += 1


@updates(Order.DelayAnnounced)
def _delay_announced(doc: Doc, e: Order.DelayAnnounced, at: str, nid: int) -> None:
    doc["promised_delivery_at"] = iso(e.new_promised_delivery_at)
    doc["delays"] += 1


def _status(status: str, field: str) -> Update:
    def update(doc: Doc, e: Any, at: str, nid: int) -> None:
        doc["status"] = status
        doc[field] = at

    return update


def _add_refund(doc: Doc, amount: Decimal, at: str, **more: str) -> None:
    doc["refunds"].append({"at": at, "amount": str(amount), **more})
    doc["refunded"] = str(Decimal(doc["refunded"]) + amount)


@updates(Order.RefundRecorded)
def _order_refund(doc: Doc, e: Order.RefundRecorded, at: str, nid: int) -> None:
    _add_refund(doc, e.amount, at, return_id=e.return_id)


@updates(ReturnRequest.Refunded)
def _return_refunded(doc: Doc, e: ReturnRequest.Refunded, at: str, nid: int) -> None:
    _add_refund(doc, e.amount, at)
    doc["status"] = "refunded"
    doc["completed_at"] = doc["completed_at"] or at


@updates(ReturnRequest.Exchanged)
def _exchanged(doc: Doc, e: ReturnRequest.Exchanged, at: str, nid: int) -> None:
    doc.update(status="exchanged", exchanged_for=e.new_sku)
    doc["completed_at"] = doc["completed_at"] or at


@updates(ReturnRequest.Inspected)
def _inspected(doc: Doc, e: ReturnRequest.Inspected, at: str, nid: int) -> None:
    doc["inspection"] = e.result


def _decided(status: str) -> Update:
    def update(doc: Doc, e: Any, at: str, nid: int) -> None:
        doc.update(status=status, decided_at=at)

    return update


@updates(Callback.Completed)
def _callback_completed(doc: Doc, e: Callback.Completed, at: str, nid: int) -> None:
    doc.update(status="completed", outcome=e.outcome, ended_at=at)


@updates(Callback.Missed)
def _callback_missed(doc: Doc, e: Callback.Missed, at: str, nid: int) -> None:
    doc.update(status="missed", ended_at=at)


@updates(Survey.Answered)
def _answered(doc: Doc, e: Survey.Answered, at: str, nid: int) -> None:
    doc.update(answered_at=at, scores=e.scores(), nps=e.nps, dissatisfied=e.dissatisfied)


@updates(Survey.ThankYouTriggered)
def _thanked(doc: Doc, e: Survey.ThankYouTriggered, at: str, nid: int) -> None:
    doc["thanked"] = True


@updates(Survey.FollowedUp)
def _followed_up(doc: Doc, e: Survey.FollowedUp, at: str, nid: int) -> None:
    doc["followed_up_at"] = doc["followed_up_at"] or at


updates(Customer.ConsentGranted)(_consent(True))
updates(Customer.ConsentWithdrawn)(_consent(False))
updates(Order.Shipped)(_status("shipped", "shipped_at"))
updates(Order.Delivered)(_status("delivered", "delivered_at"))
updates(Order.Cancelled)(_status("cancelled", "cancelled_at"))
updates(ReturnRequest.Approved)(_decided("approved"))
updates(ReturnRequest.Rejected)(_decided("rejected"))


# -- contact facts: an entry of the contact's timeline (source event type, details) -------------

Entry = Callable[[Any], dict[str, Any]]


def _entry(name: str, detail: Entry) -> Update:
    def update(doc: Doc, e: Any, at: str, nid: int) -> None:
        doc["events"].append([at, nid, name, detail(e)])

    return update


updates(Contact.MessageReceived)(_entry("contact.message", lambda e: {"message_id": e.message_id}))
updates(Contact.Replied)(
    _entry("contact.replied", lambda e: {"responder": e.responder, "agent_id": e.agent_id})
)
updates(Contact.IdentityVerified)(
    _entry("contact.identity_verified", lambda e: {"method": e.method})
)
updates(Contact.HandoffRequested)(_entry("contact.handoff_requested", lambda e: {}))
updates(Contact.HandedOff)(_entry("contact.handed_off", lambda e: {"agent_id": e.agent_id}))
updates(Contact.ReplyPromised)(_entry("contact.reply_promised", lambda e: {"agent_id": e.agent_id}))
updates(Contact.Closed)(_entry("contact.closed", lambda e: {"resolved": e.resolved}))
updates(Contact.Abandoned)(_entry("contact.abandoned", lambda e: {}))

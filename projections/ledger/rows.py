"""What each domain event changes in its case's ledger row (R-CMP-06): pure functions of the
row (a dict: the columns and the document together) and the event, routed by ``HANDLES``.

The batch (``projections.ledger.batch``) finds the row — the case's own for its events, the
linked case's for a contact, survey or return — calls the row change, then notes the
notification on the row. ``Case.Opened`` fills a new, empty row.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from domain.aggregate import Fact, JourneyAggregate
from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.order import Order
from domain.parking import ParkingLot
from domain.policy import BASELINE
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections.dispatch import Handles
from projections.sla_rows import breach_entry, seconds, started_clock, utc

REPEAT_WINDOW = BASELINE.repeat_complaint_window
"""R-CMP-07: complaints of the same customer on the same topic this close in event time
are repeats (the policy's window; one window whatever policy version each case recorded)."""
REPEAT_CLASSES = ("complaint", "urgent")
PRIORITY_RANK = {"urgent": 0, "important": 1, "general": 2}

RowChange = Callable[[dict[str, Any], Any], None]

HANDLES: Handles[RowChange] = Handles("complaint_ledger")
HANDLES.ignore(
    ParkingLot.Event,  # the parking lots' own bookkeeping: their events let in apply
    # Events of no case.
    Customer.Event,
    Order.Event,
    Callback.Event,
    # Nothing the ledger shows.
    JourneyAggregate.Acknowledged,
    Case.SurveySent,  # the survey's own ``Survey.Sent`` is shown
    Contact.IdentityVerified,
    Contact.HandoffRequested,  # the hand-off itself is shown
    ReturnRequest.Approved,  # a return shows its refunds only
    ReturnRequest.Rejected,
    ReturnRequest.Inspected,
    ReturnRequest.Exchanged,
    ReturnRequest.MerchantResponded,
    ReturnRequest.MerchantRefusedValidReturn,
)


def _communication(row: dict[str, Any], event: Fact[Any], kind: str, **detail: Any) -> None:
    item = {"at": utc(event.occurred_at), "kind": kind, "event_id": event.source.event_id}
    _communicated(row, {**item, **detail})


def _communicated(row: dict[str, Any], item: dict[str, Any]) -> None:
    """In event-time order, however late a fact arrived (parked, from another topic)."""
    bisect.insort(row["communications"], item, key=lambda c: (c["at"], c["event_id"]))


# -- the case opens -------------------------------------------------------------------------


@HANDLES.on(Case.Opened)
def opened(row: dict[str, Any], event: Case.Opened) -> None:
    """A new row: the case's opening values, no clock, no breach, one communication."""
    opened_at = utc(event.occurred_at)
    row.update(
        {
            "case_id": str(event.originator_id),
            "case_ref": event.case_ref,
            "customer_id": event.customer_id,
            "channel": event.channel,
            "store_id": event.store_id,
            "agent_group": event.agent_group,
            "classification": event.classification,
            "topic": event.topic,
            "priority": event.priority,
            "priority_rank": PRIORITY_RANK.get(event.priority, 9),
            "status": "open",
            "opened_at": opened_at,
            "resolved_at": None,
            "breaches": 0,
            "escalation_level": 1,
            "reopen_count": 0,
            "repeat_complaint": 0,
            "satisfaction_overall": None,
            "policy_version": event.policy_version,
            "last_notification_id": 0,  # the batch notes the notification, as for any event
            # the document
            "version": event.originator_version,
            "opened_by_event_id": event.source.event_id,
            "channels": [event.channel],
            "demand": event.demand,
            "after_sales_kind": event.after_sales_kind,
            "major": event.major,
            "product_batch": event.product_batch,
            "contacts": 1,
            "owner": None,
            "reassignment_count": 0,
            "due_at": None,
            "acceptance_criteria": None,
            "first_response_at": None,
            "supervisor_at": None,
            "supervisor_id": None,
            "solution_at": None,
            "confirmed_at": None,
            "closed_at": None,
            "outcome": None,
            "options_offered": [],
            "option_chosen": None,
            "solution": None,
            "recall_id": None,
            "refund_amount": "0",
            "satisfaction": None,
            "sla": {},
            "breach_list": [],
            "communications": [
                {
                    "at": opened_at,
                    "kind": "contact_opened",
                    "channel": event.channel,
                    "contact_id": event.contact_id,
                    "event_id": event.source.event_id,
                }
            ],
            "notifications": [],
            "repeat_of": None,
            "attributes": {},  # the batch adds each event's source attributes
        }
    )


# -- SLA clocks (every aggregate's clock decisions; those of a case's aggregates show) -------


@HANDLES.on(JourneyAggregate.DeadlineStarted)
def deadline_started(row: dict[str, Any], event: JourneyAggregate.DeadlineStarted) -> None:
    row["sla"][event.key] = started_clock(event)


@HANDLES.on(JourneyAggregate.DeadlineMet)
def deadline_met(row: dict[str, Any], event: JourneyAggregate.DeadlineMet) -> None:
    _close_clock(row, event.key, "met", seconds(event.actual))


@HANDLES.on(JourneyAggregate.DeadlineBreached)
def deadline_breached(row: dict[str, Any], event: JourneyAggregate.DeadlineBreached) -> None:
    _close_clock(row, event.key, "breached", seconds(event.actual))
    row["breaches"] += 1
    row["breach_list"].append(breach_entry(event))


@HANDLES.on(JourneyAggregate.DeadlineSettled)
def deadline_settled(row: dict[str, Any], event: JourneyAggregate.DeadlineSettled) -> None:
    _close_clock(row, event.key, "met" if event.within_target else "late", event.actual)


@HANDLES.on(JourneyAggregate.DeadlineCancelled)
def deadline_cancelled(row: dict[str, Any], event: JourneyAggregate.DeadlineCancelled) -> None:
    _close_clock(row, event.key, "cancelled", None)


def _close_clock(row: dict[str, Any], key: str, outcome: str, actual: Any) -> None:
    clock = row["sla"].setdefault(key, {"rule": key.split(":")[0]})
    clock["outcome"] = outcome
    clock["actual_s"] = actual.total_seconds() if isinstance(actual, timedelta) else actual


# -- the case's facts -----------------------------------------------------------------------


@HANDLES.on(Case.ContactJoined)
def contact_joined(row: dict[str, Any], event: Case.ContactJoined) -> None:
    row["contacts"] += 1


@HANDLES.on(Case.Responded)
def responded(row: dict[str, Any], event: Case.Responded) -> None:
    at = utc(event.occurred_at)
    if row["first_response_at"] is None or at < row["first_response_at"]:
        row["first_response_at"] = at


@HANDLES.on(Case.PrioritySet)
def priority_set(row: dict[str, Any], event: Case.PrioritySet) -> None:
    row["priority"] = event.priority
    row["priority_rank"] = PRIORITY_RANK.get(event.priority, 9)


@HANDLES.on(Case.OwnerAssigned)
def owner_assigned(row: dict[str, Any], event: Case.OwnerAssigned) -> None:
    """The owner, due time and criteria (R-CMP-02); an owner after the first counts as a
    reassignment, also on a resolved case (the domain records those without reopening)."""
    if row["owner"] is not None:
        row["reassignment_count"] = row.get("reassignment_count", 0) + 1
    row["owner"] = event.owner
    row["due_at"] = utc(event.due_at)
    row["acceptance_criteria"] = event.acceptance_criteria


@HANDLES.on(Case.Escalated)
def escalated(row: dict[str, Any], event: Case.Escalated) -> None:
    row["escalation_level"] = max(row["escalation_level"], event.level)
    if event.level >= 2 and row["supervisor_at"] is None:
        row["supervisor_at"] = utc(event.occurred_at)
        row["supervisor_id"] = event.supervisor_id


@HANDLES.on(Case.OptionsOffered)
def options_offered(row: dict[str, Any], event: Case.OptionsOffered) -> None:
    row["options_offered"] = list(event.options)
    row["solution_at"] = row["solution_at"] or utc(event.occurred_at)
    _communication(row, event, "options_offered", options=list(event.options))


@HANDLES.on(Case.OptionChosen)
def option_chosen(row: dict[str, Any], event: Case.OptionChosen) -> None:
    row["option_chosen"] = event.option


@HANDLES.on(Case.ProgressUpdateSent)
def progress_update_sent(row: dict[str, Any], event: Case.ProgressUpdateSent) -> None:
    _communication(row, event, "progress_update")


@HANDLES.on(Case.Resolved)
def resolved(row: dict[str, Any], event: Case.Resolved) -> None:
    row["status"] = "resolved"
    row["resolved_at"] = utc(event.occurred_at)
    row["solution"] = {"option": event.option, "summary": event.summary}
    _communication(row, event, "resolved")


@HANDLES.on(Case.ResolutionConfirmed)
def resolution_confirmed(row: dict[str, Any], event: Case.ResolutionConfirmed) -> None:
    at = utc(event.occurred_at)
    row["status"] = "closed"
    row["confirmed_at"] = at
    row["closed_at"] = at
    row["outcome"] = f"confirmed ({event.via})"
    _communication(row, event, "resolution_confirmed", via=event.via)


@HANDLES.on(Case.ClosedWithoutReply)
def closed_without_reply(row: dict[str, Any], event: Case.ClosedWithoutReply) -> None:
    row["status"] = "closed"
    row["closed_at"] = utc(event.occurred_at)
    row["outcome"] = "closed without reply"


@HANDLES.on(Case.Reopened)
def reopened(row: dict[str, Any], event: Case.Reopened) -> None:
    row["status"] = "reopened"
    row["reopen_count"] += 1
    row["resolved_at"] = None
    _communication(row, event, "reopened", reason=event.reason)


@HANDLES.on(Case.RecallLinked)
def recall_linked(row: dict[str, Any], event: Case.RecallLinked) -> None:
    row["recall_id"] = event.recall_id


# -- the contacts that joined the case --------------------------------------------------------


@HANDLES.on(Contact.Opened)
def contact_opened(row: dict[str, Any], event: Contact.Opened) -> None:
    if event.channel not in row["channels"]:
        row["channels"].append(event.channel)
    if any(c.get("contact_id") == event.contact_id for c in row["communications"]):
        return  # the contact that opened the case, shown with the case
    _communicated(
        row,
        {
            "at": utc(event.occurred_at),
            "kind": "contact_opened",
            "channel": event.channel,
            "contact_id": event.contact_id,
            "event_id": event.source.event_id,
        },
    )


@HANDLES.on(Contact.MessageReceived)
def message_received(row: dict[str, Any], event: Contact.MessageReceived) -> None:
    _communication(row, event, "customer_message")


@HANDLES.on(Contact.Replied)
def replied(row: dict[str, Any], event: Contact.Replied) -> None:
    _communication(row, event, f"{event.responder}_reply", agent_id=event.agent_id)


@HANDLES.on(Contact.HandedOff)
def handed_off(row: dict[str, Any], event: Contact.HandedOff) -> None:
    _communication(row, event, "handed_off", agent_id=event.agent_id)


@HANDLES.on(Contact.ReplyPromised)
def reply_promised(row: dict[str, Any], event: Contact.ReplyPromised) -> None:
    _communication(row, event, "reply_promised", agent_id=event.agent_id)


@HANDLES.on(Contact.Closed)
def contact_closed(row: dict[str, Any], event: Contact.Closed) -> None:
    _communication(row, event, "contact_closed", resolved=event.resolved)


@HANDLES.on(Contact.Abandoned)
def contact_abandoned(row: dict[str, Any], event: Contact.Abandoned) -> None:
    _communication(row, event, "contact_abandoned")


# -- the survey that followed the case, the returns that settled it ---------------------------


@HANDLES.on(Survey.Sent)
def survey_sent(row: dict[str, Any], event: Survey.Sent) -> None:
    item = {"at": utc(event.occurred_at), "kind": "survey_sent"}
    _communicated(row, {**item, "event_id": event.source.event_id})


@HANDLES.on(Survey.Answered)
def survey_answered(row: dict[str, Any], event: Survey.Answered) -> None:
    row["satisfaction"] = {
        "overall": event.overall,
        "attitude": event.attitude,
        "efficiency": event.efficiency,
        "solution": event.solution,
        "nps": event.nps,
        "dissatisfied": event.dissatisfied,
        "answered_at": utc(event.occurred_at),
    }
    row["satisfaction_overall"] = event.overall


@HANDLES.on(Survey.FollowedUp)
def survey_followed_up(row: dict[str, Any], event: Survey.FollowedUp) -> None:
    _communication(row, event, "survey_follow_up")


@HANDLES.on(Survey.ThankYouTriggered)
def thank_you(row: dict[str, Any], event: Survey.ThankYouTriggered) -> None:
    _communication(row, event, "thank_you")


@HANDLES.on(ReturnRequest.Requested)
def return_requested(row: dict[str, Any], event: ReturnRequest.Requested) -> None:
    """A return linked to the case: nothing to show yet, its refunds follow."""


@HANDLES.on(ReturnRequest.Refunded)
def refunded(row: dict[str, Any], event: ReturnRequest.Refunded) -> None:
    row["refund_amount"] = str(Decimal(row["refund_amount"]) + event.amount)

"""How each domain event moves the KPI facts (R-KPI-01..08, R-CMP-07), routed by
``HANDLES``: each handler reads and changes one batch's ``Work``.

Dimensions: a contact counts on its own channel and on its case's store and agent group; a
case on its opening channel, store and agent group; an order on its channel and store; a
return on its order's; a survey on its case's; a clock decision on its aggregate's. A fact
is dated by an instant of event time, its ``at`` (see ``projections.kpis.metrics`` for the
few facts dated by the time their cohort began); the day is the report zone's, when asked.

Notification order is not event-time order across aggregates, and within one source
event a contact is stored before the case it opens: so a contact waits (``attributed`` =
0) until its case is known, and a conversion or a repeat complaint is looked for from both
ends (the earlier and the later event).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from domain.aggregate import JourneyAggregate
from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.funnel import stage_of
from domain.ids import aggregate_id
from domain.order import Order
from domain.parking import ParkingLot
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections.dispatch import Handles
from projections.kpis import metrics as m
from projections.kpis.matching import attribute, convert_order, repeats
from projections.kpis.rows import (
    dims,
    evidence,
    fact,
    new_owner,
    owner_fact,
    second_of,
)
from projections.kpis.work import Work

Handler = Callable[[Work, int, Any], None]
_MICROSECOND = timedelta(microseconds=1)

HANDLES: Handles[Handler] = Handles("kpi_counters")
HANDLES.ignore(
    ParkingLot.Event,  # the parking lots' own bookkeeping: their events let in apply
    JourneyAggregate.Acknowledged,
    JourneyAggregate.DeadlineStarted,  # counted when decided (met, breached, settled)
    # Nothing about customers, callbacks, or the course of a contact is counted.
    Customer.Event,  # (their clock decisions still are, by their handlers)
    Callback.Event,
    Contact.MessageReceived,
    Contact.Replied,
    Contact.IdentityVerified,
    Contact.HandoffRequested,
    Contact.HandedOff,
    Contact.ReplyPromised,
    Contact.Closed,
    Contact.Abandoned,
    # A case's handling other than its contacts, resolutions and reopenings.
    Case.Responded,  # responses are counted from the first-response clocks (R-KPI-01)
    Case.PrioritySet,
    Case.OwnerAssigned,
    Case.Escalated,
    Case.OptionsOffered,
    Case.OptionChosen,
    Case.ProgressUpdateSent,
    Case.ResolutionConfirmed,
    Case.ClosedWithoutReply,
    Case.RecallLinked,
    Case.SurveySent,
    # Orders count when placed and delivered, returns when approved (R-KPI-03).
    Order.Modified,
    Order.Synced,
    Order.SpecialRequestAdded,
    Order.OutOfStock,
    Order.CustomerNotified,
    Order.DelayAnnounced,
    Order.Shipped,
    Order.Cancelled,
    Order.RefundRecorded,
    ReturnRequest.Rejected,
    ReturnRequest.Inspected,
    ReturnRequest.Refunded,
    ReturnRequest.Exchanged,
    ReturnRequest.MerchantResponded,
    ReturnRequest.MerchantRefusedValidReturn,
    # Surveys count when answered (R-KPI-04).
    Survey.ThankYouTriggered,
    Survey.FollowedUp,
)

RELATED: Handles[Callable[[Any], str]] = Handles("kpi_counters: related")
"""Creations whose handler reads the row of another aggregate than their own: which one
(loaded with the batch's rows)."""
RELATED.on(Contact.Opened)(lambda e: str(aggregate_id("case", e.case_ref)))
RELATED.on(Case.Opened)(lambda e: str(aggregate_id("contact", e.contact_id)))
RELATED.on(ReturnRequest.Requested)(lambda e: str(aggregate_id("order", e.order_id)))
RELATED.on(Survey.Sent)(lambda e: str(aggregate_id("case", e.case_ref)))


# -- contacts and cases -------------------------------------------------------------------------


@HANDLES.on(Contact.Opened)
def contact_opened(work: Work, nid: int, e: Contact.Opened) -> None:
    if work.owner(work.sid(e.originator_id)) is not None:
        return
    contact = new_owner(
        work,
        nid,
        e,
        "contact",
        e.contact_id,
        parent_id=str(aggregate_id("case", e.case_ref)),
        channel=e.channel,
        stage=getattr(e, "funnel_stage", None) or "",  # R-KPI-08: as the channel stated it
    )
    work.add_owner(contact)
    case = work.owner(contact["parent_id"])
    if case is not None:
        attribute(work, contact, case)


@HANDLES.on(Case.Opened)
def case_opened(work: Work, nid: int, e: Case.Opened) -> None:
    if work.owner(work.sid(e.originator_id)) is not None:
        return
    case = new_owner(
        work,
        nid,
        e,
        "case",
        e.case_ref,
        channel=e.channel,
        store=e.store_id or "",
        agent_group=e.agent_group or "",
        classification=e.classification,
        topic=e.topic,
        issue=m.issue_of(e.topic, e.after_sales_kind),
        stage=stage_of(e.topic),
        contacts=1,
    )
    work.add_owner(case)
    at, made_of = second_of(e.occurred_at), evidence(work, nid, e)
    work.put(owner_fact(m.CASES, case, at, made_of))
    if e.classification == m.COMPLAINT:
        work.put(owner_fact(m.COMPLAINT_CASES, case, at, made_of))
        repeats(work, case)
    if e.topic == m.AFTER_SALES:
        work.put(owner_fact(m.AFTER_SALES_CASES, case, at, made_of))
    first = work.owner(str(aggregate_id("contact", e.contact_id)))
    if first is not None and not first["attributed"] and first["parent_id"] == case["aggregate_id"]:
        attribute(work, first, case)


@HANDLES.on(Case.ContactJoined)
def contact_joined(work: Work, nid: int, e: Case.ContactJoined) -> None:
    """A further contact: the case is no longer resolved in its first contact (R-KPI-02)."""
    case = work.owner(work.sid(e.originator_id))
    if case is None:
        return
    case["contacts"] += 1
    work.changed(case)
    work.remove(case["aggregate_id"], m.FCR)


@HANDLES.on(Case.Resolved)
def resolved(work: Work, nid: int, e: Case.Resolved) -> None:
    """R-KPI-02 first-contact resolution, R-KPI-05 handling time, R-KPI-08 after-sales."""
    case = work.owner(work.sid(e.originator_id))
    if case is None:
        return
    case["resolutions"] += 1
    work.changed(case)
    at, made_of = second_of(e.occurred_at), evidence(work, nid, e)
    if case["resolutions"] == 1:
        work.put(owner_fact(m.RESOLVED, case, at, made_of))
        if case["contacts"] == 1 and case["reopens"] == 0:
            work.put(owner_fact(m.FCR, case, at, made_of))
        if case["topic"] == m.AFTER_SALES:
            work.put(owner_fact(m.AFTER_SALES_RESOLVED, case, second_of(case["at"]), made_of))
    handling = (e.occurred_at - datetime.fromisoformat(case["at"])) // _MICROSECOND
    work.put(owner_fact(m.HANDLING, case, at, made_of, value=handling))


@HANDLES.on(Case.Reopened)
def reopened(work: Work, nid: int, e: Case.Reopened) -> None:
    """R-CMP-07 counts reopened cases; a reopening un-counts the first-contact resolution."""
    case = work.owner(work.sid(e.originator_id))
    if case is None:
        return
    case["reopens"] += 1
    work.changed(case)
    work.remove(case["aggregate_id"], m.FCR)
    work.put(
        owner_fact(m.REOPENED, case, second_of(e.occurred_at), evidence(work, nid, e)), keep=True
    )


# -- orders, returns, surveys -------------------------------------------------------------------


@HANDLES.on(Order.Placed)
def order_placed(work: Work, nid: int, e: Order.Placed) -> None:
    if work.owner(work.sid(e.originator_id)) is not None:
        return
    order = new_owner(work, nid, e, "order", e.order_id, channel=e.channel, store=e.store_id or "")
    work.add_owner(order)
    work.put(owner_fact(m.ORDERS, order, second_of(e.occurred_at), evidence(work, nid, e)))
    convert_order(work, order)


@HANDLES.on(Order.Delivered)
def delivered(work: Work, nid: int, e: Order.Delivered) -> None:
    order = work.owner(work.sid(e.originator_id))
    if order is not None:
        at = second_of(e.occurred_at)
        work.put(owner_fact(m.DELIVERIES, order, at, evidence(work, nid, e)), keep=True)


@HANDLES.on(ReturnRequest.Requested)
def return_requested(work: Work, nid: int, e: ReturnRequest.Requested) -> None:
    if work.owner(work.sid(e.originator_id)) is not None:
        return
    order_id = str(aggregate_id("order", e.order_id))
    channel, store, _ = dims(work.owner(order_id))
    work.add_owner(
        new_owner(
            work, nid, e, "return", e.return_id, parent_id=order_id, channel=channel, store=store
        )
    )


@HANDLES.on(ReturnRequest.Approved)
def return_approved(work: Work, nid: int, e: ReturnRequest.Approved) -> None:
    """R-KPI-03: an order with an approved return (its first approval)."""
    request = work.owner(work.sid(e.originator_id))
    if request is None:
        return
    order = work.owner(request["parent_id"]) or request
    at = second_of(e.occurred_at)
    made_of = evidence(work, nid, e)
    work.put(
        fact(m.RETURNED_ORDERS, request["parent_id"], at, dims(order), made_of, ref=order["ref"]),
        keep=True,
    )


@HANDLES.on(Survey.Sent)
def survey_sent(work: Work, nid: int, e: Survey.Sent) -> None:
    if work.owner(work.sid(e.originator_id)) is not None:
        return
    case_id = str(aggregate_id("case", e.case_ref))
    channel, store, agent_group = dims(work.owner(case_id))
    work.add_owner(
        new_owner(
            work,
            nid,
            e,
            "survey",
            e.survey_id,
            parent_id=case_id,
            channel=channel,
            store=store,
            agent_group=agent_group,
        )
    )


@HANDLES.on(Survey.Answered)
def answered(work: Work, nid: int, e: Survey.Answered) -> None:
    """R-KPI-04: CSAT (overall score) and NPS inputs."""
    survey = work.owner(work.sid(e.originator_id))
    if survey is None:
        return
    at, made_of = second_of(e.occurred_at), evidence(work, nid, e)
    work.put(owner_fact(m.CSAT, survey, at, made_of, value=e.overall))
    if e.nps is not None:
        work.put(owner_fact(m.NPS_ANSWERS, survey, at, made_of))
        if e.nps >= m.PROMOTER_MIN:
            work.put(owner_fact(m.NPS_PROMOTERS, survey, at, made_of))
        elif e.nps <= m.DETRACTOR_MAX:
            work.put(owner_fact(m.NPS_DETRACTORS, survey, at, made_of))


# -- clock decisions ---------------------------------------------------------------------------


def deadline(
    work: Work, nid: int, e: Any, met: bool, started: datetime, detected_by: str = "fact"
) -> None:
    """The outcome in force of one deadline: a response (R-KPI-01) when its rule is a
    first-response rule, and a breach of its rule unless met, with how it was detected: a
    breach event says (``detected_by``: a fact, or the watermark); a settlement outside
    target was decided by a late fact. A settlement replaces the outcome; a cancellation
    takes it back (``deadline_cancelled``)."""
    subject = work.sid(e.originator_id)
    owner = work.owner(subject)
    breach = m.BREACHES + e.rule
    at, made_of, where = second_of(started), evidence(work, nid, e), dims(owner)
    ref = owner["ref"] if owner is not None else ""

    def put(metric: str, detected_by: str = "") -> None:
        work.put(
            fact(
                metric, subject, at, where, made_of, subkey=e.key, ref=ref, detected_by=detected_by
            )
        )

    if e.rule in m.RESPONSE_RULES:
        put(m.RESPONSES)
        if met:
            put(m.RESPONSES_IN_TARGET)
        else:
            work.remove(subject, m.RESPONSES_IN_TARGET, e.key)
    if met:
        work.remove(subject, breach, e.key)
    else:
        put(breach, detected_by)


@HANDLES.on(JourneyAggregate.DeadlineMet)
def deadline_met(work: Work, nid: int, e: JourneyAggregate.DeadlineMet) -> None:
    deadline(work, nid, e, True, e.at - e.actual)


@HANDLES.on(JourneyAggregate.DeadlineBreached)
def deadline_breached(work: Work, nid: int, e: JourneyAggregate.DeadlineBreached) -> None:
    deadline(work, nid, e, False, e.due_at - e.target, e.detected_by)


@HANDLES.on(JourneyAggregate.DeadlineSettled)
def deadline_settled(work: Work, nid: int, e: JourneyAggregate.DeadlineSettled) -> None:
    deadline(work, nid, e, e.within_target, e.at - e.actual)


@HANDLES.on(JourneyAggregate.DeadlineCancelled)
def deadline_cancelled(work: Work, nid: int, e: JourneyAggregate.DeadlineCancelled) -> None:
    """A deadline called off: whatever its outcome counted is taken back."""
    subject = work.sid(e.originator_id)
    for metric in (m.RESPONSES, m.RESPONSES_IN_TARGET, m.BREACHES + e.rule):
        work.remove(subject, metric, e.key)

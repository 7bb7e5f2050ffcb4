"""How each domain event moves the KPI facts (R-KPI-01..08, R-CMP-07).

Dimensions: a contact counts on its own channel and on its case's store and agent group; a
case on its opening channel, store and agent group; an order on its channel and store; a
return on its order's; a survey on its case's; a clock decision on its aggregate's. Days
are UTC days of event time (see ``projections.kpi_metrics`` for the few facts dated by the
day their cohort began).

Notification order is not event-time order across aggregates, and within one source
event a contact is stored before the case it opens: so a contact waits (``attributed`` =
0) until its case is known, and a conversion or a repeat complaint is looked for from both
ends (the earlier and the later event).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.readstore import Row
from domain.aggregate import JourneyAggregate
from domain.case import Case
from domain.contact import Contact
from domain.ids import aggregate_id
from domain.order import Order
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections import kpi_metrics as m
from projections.kpi_work import OWNER_COLUMNS, Work

Handler = Callable[[Work, int, Any], None]
Dims = tuple[str, str, str]
NO_DIMS: Dims = ("", "", "")
_MICROSECOND = timedelta(microseconds=1)
_NUMBERS = frozenset(
    {"notification_id", "version", "contacts", "resolutions", "reopens", "attributed"}
)


def iso(at: datetime) -> str:
    """UTC ISO 8601; two such strings compare like the instants they name."""
    return at.astimezone(UTC).isoformat()


def day_of(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


# -- rows -------------------------------------------------------------------------------------


def evidence(work: Work, nid: int, event: Any) -> Row:
    """The event a fact is made of, as ``application.explain`` describes stored events."""
    occurred = getattr(event, "occurred_at", None)
    source = getattr(event, "source", None)
    return {
        "notification_id": nid,
        "aggregate_id": work.sid(event.originator_id),
        "version": event.originator_version,
        "event_type": type(event).__qualname__,
        "occurred_at": iso(occurred) if occurred is not None else None,
        "event_id": source.event_id if source is not None else None,
    }


def created_by(owner: Row) -> Row:
    """The creation event of an aggregate, from its owner row."""
    return {
        "notification_id": owner["notification_id"],
        "aggregate_id": owner["aggregate_id"],
        "version": owner["version"],
        "event_type": owner["event_type"],
        "occurred_at": owner["at"],
        "event_id": owner["event_id"],
    }


def dims(owner: Row | None) -> Dims:
    if owner is None:
        return NO_DIMS
    return owner["channel"], owner["store"], owner["agent_group"]


def fact(
    metric: str,
    subject: str,
    day: str,
    where: Dims,
    made_of: Row,
    *,
    subkey: str = "",
    value: int = 1,
    ref: str = "",
) -> Row:
    channel, store, agent_group = where
    return {
        "subject_id": subject,
        "metric": metric,
        "subkey": subkey,
        "day": day,
        "channel": channel,
        "store": store,
        "agent_group": agent_group,
        "value": value,
        "ref": ref,
        "classification": "",
        "issue": "",
        "stage": "",
        **made_of,
    }


def owner_fact(metric: str, owner: Row, day: str, made_of: Row, value: int = 1) -> Row:
    """A fact about the aggregate ``owner`` itself, on its dimensions."""
    return fact(
        metric, owner["aggregate_id"], day, dims(owner), made_of, value=value, ref=owner["ref"]
    )


def new_owner(work: Work, nid: int, event: Any, kind: str, ref: str, **fields: Any) -> Row:
    row: Row = {column: 0 if column in _NUMBERS else "" for column in OWNER_COLUMNS}
    row.update(
        aggregate_id=work.sid(event.originator_id),
        kind=kind,
        ref=ref,
        customer_id=event.customer_id,
        at=iso(event.occurred_at),
        notification_id=nid,
        version=event.originator_version,
        event_type=type(event).__qualname__,
        event_id=event.source.event_id,
    )
    row.update(fields)
    return row


def related(event: Any) -> tuple[str, ...]:
    """Aggregates other than the event's own whose rows applying it reads."""
    if isinstance(event, Contact.Opened):
        return (str(aggregate_id("case", event.case_ref)),)
    if isinstance(event, Case.Opened):
        return (str(aggregate_id("contact", event.contact_id)),)
    if isinstance(event, ReturnRequest.Requested):
        return (str(aggregate_id("order", event.order_id)),)
    if isinstance(event, Survey.Sent):
        return (str(aggregate_id("case", event.case_ref)),)
    return ()


# -- contacts and cases -------------------------------------------------------------------------


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
    )
    work.add_owner(contact)
    case = work.owner(contact["parent_id"])
    if case is not None:
        attribute(work, contact, case)


def attribute(work: Work, contact: Row, case: Row) -> None:
    """Count a contact once its case is known: volume, and with its labels type, issue
    and stage (R-KPI-05/08)."""
    stage = m.stage_of(case["topic"])
    contact.update(
        store=case["store"],
        agent_group=case["agent_group"],
        classification=case["classification"],
        topic=case["topic"],
        issue=case["issue"],
        stage=stage,
        attributed=1,
    )
    work.changed(contact)
    counted = owner_fact(m.CONTACTS, contact, contact["at"][:10], created_by(contact))
    counted.update(classification=case["classification"], issue=case["issue"], stage=stage)
    work.put(counted)
    if stage == m.PRE_SALE:
        convert_contact(work, contact)


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
        stage=m.stage_of(e.topic),
        contacts=1,
    )
    work.add_owner(case)
    day, made_of = day_of(e.occurred_at), evidence(work, nid, e)
    work.put(owner_fact(m.CASES, case, day, made_of))
    if e.classification == m.COMPLAINT:
        work.put(owner_fact(m.COMPLAINT_CASES, case, day, made_of))
        repeats(work, case)
    if e.topic == m.AFTER_SALES:
        work.put(owner_fact(m.AFTER_SALES_CASES, case, day, made_of))
    first = work.owner(str(aggregate_id("contact", e.contact_id)))
    if first is not None and not first["attributed"] and first["parent_id"] == case["aggregate_id"]:
        attribute(work, first, case)


def repeats(work: Work, case: Row) -> None:
    """R-CMP-07: a complaint case is a repeat when the customer opened another one on the
    same topic at most 30 days before it (ties in time: by case reference). Looked for in
    both directions, so an earlier case stored later still makes the later one a repeat."""
    at = datetime.fromisoformat(case["at"])
    others = [
        other
        for other in work.customer_owners(
            case["customer_id"], "case", iso(at - m.REPEAT_WINDOW), iso(at + m.REPEAT_WINDOW)
        )
        if other["classification"] == m.COMPLAINT
        and other["topic"] == case["topic"]
        and other["aggregate_id"] != case["aggregate_id"]
    ]
    own = (case["at"], case["ref"])
    if any((other["at"], other["ref"]) < own for other in others):
        work.put(owner_fact(m.REPEAT_COMPLAINTS, case, case["at"][:10], created_by(case)), True)
    for other in others:
        if (other["at"], other["ref"]) > own:
            made_of = created_by(other)
            work.put(owner_fact(m.REPEAT_COMPLAINTS, other, other["at"][:10], made_of), True)


def contact_joined(work: Work, nid: int, e: Case.ContactJoined) -> None:
    """A further contact: the case is no longer resolved in its first contact (R-KPI-02)."""
    case = work.owner(work.sid(e.originator_id))
    if case is None:
        return
    case["contacts"] += 1
    work.changed(case)
    work.remove(case["aggregate_id"], m.FCR)


def resolved(work: Work, nid: int, e: Case.Resolved) -> None:
    """R-KPI-02 first-contact resolution, R-KPI-05 handling time, R-KPI-08 after-sales."""
    case = work.owner(work.sid(e.originator_id))
    if case is None:
        return
    case["resolutions"] += 1
    work.changed(case)
    day, made_of = day_of(e.occurred_at), evidence(work, nid, e)
    if case["resolutions"] == 1:
        work.put(owner_fact(m.RESOLVED, case, day, made_of))
        if case["contacts"] == 1 and case["reopens"] == 0:
            work.put(owner_fact(m.FCR, case, day, made_of))
        if case["topic"] == m.AFTER_SALES:
            work.put(owner_fact(m.AFTER_SALES_RESOLVED, case, case["at"][:10], made_of))
    handling = (e.occurred_at - datetime.fromisoformat(case["at"])) // _MICROSECOND
    work.put(owner_fact(m.HANDLING, case, day, made_of, value=handling))


def reopened(work: Work, nid: int, e: Case.Reopened) -> None:
    """R-CMP-07 counts reopened cases; a reopening un-counts the first-contact resolution."""
    case = work.owner(work.sid(e.originator_id))
    if case is None:
        return
    case["reopens"] += 1
    work.changed(case)
    work.remove(case["aggregate_id"], m.FCR)
    work.put(owner_fact(m.REOPENED, case, day_of(e.occurred_at), evidence(work, nid, e)), keep=True)


# -- orders, returns, surveys -------------------------------------------------------------------


def order_placed(work: Work, nid: int, e: Order.Placed) -> None:
    if work.owner(work.sid(e.originator_id)) is not None:
        return
    order = new_owner(work, nid, e, "order", e.order_id, channel=e.channel, store=e.store_id or "")
    work.add_owner(order)
    work.put(owner_fact(m.ORDERS, order, day_of(e.occurred_at), evidence(work, nid, e)))
    convert_order(work, order)


def convert_contact(work: Work, contact: Row) -> None:
    """R-KPI-08: the customer's earliest order at most 7 days after a pre-sale contact."""
    at = datetime.fromisoformat(contact["at"])
    orders = work.customer_owners(
        contact["customer_id"], "order", contact["at"], iso(at + m.CONVERSION_WINDOW)
    )
    if orders:
        converted(work, contact, min(orders, key=lambda o: (o["at"], o["ref"])))


def convert_order(work: Work, order: Row) -> None:
    """R-KPI-08: the pre-sale contacts of the customer at most 7 days before the order."""
    at = datetime.fromisoformat(order["at"])
    mark = f"{order['at']} {order['ref']}"
    for contact in work.customer_owners(
        order["customer_id"], "contact", iso(at - m.CONVERSION_WINDOW), order["at"]
    ):
        if (
            contact["attributed"]
            and contact["stage"] == m.PRE_SALE
            and (not contact["converted_by"] or mark < contact["converted_by"])
        ):
            converted(work, contact, order)


def converted(work: Work, contact: Row, order: Row) -> None:
    contact["converted_by"] = f"{order['at']} {order['ref']}"
    work.changed(contact)
    work.put(owner_fact(m.CONVERTED, contact, contact["at"][:10], created_by(order)))


def delivered(work: Work, nid: int, e: Order.Delivered) -> None:
    order = work.owner(work.sid(e.originator_id))
    if order is not None:
        day = day_of(e.occurred_at)
        work.put(owner_fact(m.DELIVERIES, order, day, evidence(work, nid, e)), keep=True)


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


def return_approved(work: Work, nid: int, e: ReturnRequest.Approved) -> None:
    """R-KPI-03: an order with an approved return (its first approval)."""
    request = work.owner(work.sid(e.originator_id))
    if request is None:
        return
    order = work.owner(request["parent_id"]) or request
    day = day_of(e.occurred_at)
    made_of = evidence(work, nid, e)
    work.put(
        fact(m.RETURNED_ORDERS, request["parent_id"], day, dims(order), made_of, ref=order["ref"]),
        keep=True,
    )


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


def answered(work: Work, nid: int, e: Survey.Answered) -> None:
    """R-KPI-04: CSAT (overall score) and NPS inputs."""
    survey = work.owner(work.sid(e.originator_id))
    if survey is None:
        return
    day, made_of = day_of(e.occurred_at), evidence(work, nid, e)
    work.put(owner_fact(m.CSAT, survey, day, made_of, value=e.overall))
    if e.nps is not None:
        work.put(owner_fact(m.NPS_ANSWERS, survey, day, made_of))
        if e.nps >= m.PROMOTER_MIN:
            work.put(owner_fact(m.NPS_PROMOTERS, survey, day, made_of))
        elif e.nps <= m.DETRACTOR_MAX:
            work.put(owner_fact(m.NPS_DETRACTORS, survey, day, made_of))


# -- clock decisions ---------------------------------------------------------------------------


def deadline(work: Work, nid: int, e: Any) -> None:
    """The outcome in force of one deadline: a response (R-KPI-01) when its rule is a
    first-response rule, and a breach of its rule unless met. A settlement replaces the
    outcome; a cancellation takes it back."""
    subject = work.sid(e.originator_id)
    owner = work.owner(subject)
    breach = m.BREACHES + e.rule
    met: bool | None
    if isinstance(e, JourneyAggregate.DeadlineMet):
        met, started = True, e.at - e.actual
    elif isinstance(e, JourneyAggregate.DeadlineBreached):
        met, started = False, e.due_at - e.target
    elif isinstance(e, JourneyAggregate.DeadlineSettled):
        met, started = e.within_target, e.at - e.actual
    else:
        met = None
    if met is None:
        for metric in (m.RESPONSES, m.RESPONSES_IN_TARGET, breach):
            work.remove(subject, metric, e.key)
        return
    day, made_of, where = day_of(started), evidence(work, nid, e), dims(owner)
    ref = owner["ref"] if owner is not None else ""

    def put(metric: str) -> None:
        work.put(fact(metric, subject, day, where, made_of, subkey=e.key, ref=ref))

    if e.rule in m.RESPONSE_RULES:
        put(m.RESPONSES)
        if met:
            put(m.RESPONSES_IN_TARGET)
        else:
            work.remove(subject, m.RESPONSES_IN_TARGET, e.key)
    if met:
        work.remove(subject, breach, e.key)
    else:
        put(breach)


HANDLED: tuple[tuple[type, Handler], ...] = (
    (Contact.Opened, contact_opened),
    (Case.Opened, case_opened),
    (Case.ContactJoined, contact_joined),
    (Case.Resolved, resolved),
    (Case.Reopened, reopened),
    (Order.Placed, order_placed),
    (Order.Delivered, delivered),
    (ReturnRequest.Requested, return_requested),
    (ReturnRequest.Approved, return_approved),
    (Survey.Sent, survey_sent),
    (Survey.Answered, answered),
    (JourneyAggregate.DeadlineMet, deadline),
    (JourneyAggregate.DeadlineBreached, deadline),
    (JourneyAggregate.DeadlineSettled, deadline),
    (JourneyAggregate.DeadlineCancelled, deadline),
)
"""What each event class (or its subclasses: every aggregate's clock decisions) does."""


def handler_for(kind: type) -> Handler | None:
    return next((handler for base, handler in HANDLED if issubclass(kind, base)), None)

"""Facts the KPI counters find from both ends, since notification order is not event-time
order across aggregates: a contact and its case (the contact is counted once its case is
known), a pre-sale contact and the order it converted to (R-KPI-08), a complaint and the
repeats around it (R-CMP-07)."""

from __future__ import annotations

from datetime import datetime

from adapters.readstore import Row
from domain.funnel import PRE_SALE, stage_of
from projections.kpis import metrics as m
from projections.kpis.rows import created_by, iso, owner_fact, second_of
from projections.kpis.work import Work


def attribute(work: Work, contact: Row, case: Row) -> None:
    """Count a contact once its case is known: volume, and with its labels type, issue
    and stage (R-KPI-05/08): the stage its channel stated, else its case's topic's."""
    stage = contact["stage"] or stage_of(case["topic"])
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
    counted = owner_fact(m.CONTACTS, contact, second_of(contact["at"]), created_by(contact))
    counted.update(classification=case["classification"], issue=case["issue"], stage=stage)
    work.put(counted)
    if stage == PRE_SALE:
        convert_contact(work, contact)


def repeats(work: Work, case: Row) -> None:
    """R-CMP-07: a complaint case is a repeat when the customer opened another one on the
    same topic at most ``REPEAT_WINDOW`` (the policy's) before it (ties in time: by case
    reference). Looked for in both directions, so an earlier case stored later still makes
    the later one a repeat."""
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
        work.put(
            owner_fact(m.REPEAT_COMPLAINTS, case, second_of(case["at"]), created_by(case)), True
        )
    for other in others:
        if (other["at"], other["ref"]) > own:
            made_of = created_by(other)
            work.put(owner_fact(m.REPEAT_COMPLAINTS, other, second_of(other["at"]), made_of), True)


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
            and contact["stage"] == PRE_SALE
            and (not contact["converted_by"] or mark < contact["converted_by"])
        ):
            converted(work, contact, order)


def converted(work: Work, contact: Row, order: Row) -> None:
    contact["converted_by"] = f"{order['at']} {order['ref']}"
    work.changed(contact)
    work.put(owner_fact(m.CONVERTED, contact, second_of(contact["at"]), created_by(order)))

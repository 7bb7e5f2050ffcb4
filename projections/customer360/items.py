"""What each creation event makes in the customer 360: a new item of its aggregate — the
item's kind, its external id (``ref``) and its document. Pure functions of the event, its
event time (``at``) and its notification id (``nid``)."""

from __future__ import annotations

from typing import Any

from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.order import Order
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections.customer360.segments import iso

Created = tuple[str, str, dict[str, Any]]
"""A new item: its kind, its external id (``ref``) and its document."""


def registered(e: Customer.Registered, at: str, nid: int) -> Created:
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


def contact_opened(e: Contact.Opened, at: str, nid: int) -> Created:
    return (
        "contact",
        e.contact_id,
        {
            "contact_id": e.contact_id,
            "case_ref": e.case_ref,
            "channel": e.channel,
            "opened_at": at,
            "events": [[at, nid, "contact.opened", {}]],
        },
    )


def case_opened(e: Case.Opened, at: str, nid: int) -> Created:
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


def order_placed(e: Order.Placed, at: str, nid: int) -> Created:
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
            "promised_delivery_at": iso(e.promised_delivery_at),
            "first_promised_delivery_at": iso(e.promised_delivery_at),
            "delays": 0,
            "shipped_at": None,
            "delivered_at": None,
            "cancelled_at": None,
            "refunds": [],
            "refunded": "0",
        },
    )


def return_requested(e: ReturnRequest.Requested, at: str, nid: int) -> Created:
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


def callback_scheduled(e: Callback.Scheduled, at: str, nid: int) -> Created:
    return (
        "callback",
        e.callback_id,
        {
            "callback_id": e.callback_id,
            "reason": e.reason,
            "order_id": e.order_id,
            "scheduled_at": at,
            "due_at": iso(e.due_at),
            "status": "scheduled",
            "outcome": None,
            "ended_at": None,
        },
    )


def survey_sent(e: Survey.Sent, at: str, nid: int) -> Created:
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

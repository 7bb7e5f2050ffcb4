"""A scripted multi-channel journey of one customer, as channels would publish it.

Registered in the app; an order placed on the web, shipped, delivered; a complaint about a
damaged delivery opened in the app and continued by phone; an owner, an escalation to a
supervisor, options, a refund through a return linked to the case, resolution and its
confirmation; a survey with a low score followed up late (one R-SAT-02 breach); a
callback seven days after delivery. Every clock the journey starts is stopped by a later
fact, so the outcome does not depend on when a timer runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tests.factories import unique

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=CST)  # a Monday, inside phone hours

STORE = "store-sh-07"
GROUP = "after-sales-east"


def at(days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> str:
    delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return (T0 + delta).isoformat()


class Journey:
    def __init__(self) -> None:
        tag = unique("")
        self.customer = f"cust-{tag}"
        self.case = f"ct-{tag}-1"
        self.phone_contact = f"ct-{tag}-2"
        self.order = f"o-{tag}"
        self.return_id = f"rt-{tag}"
        self.survey = f"sv-{tag}"
        self.callback = f"cb-{tag}"
        self.events: list[dict[str, Any]] = []

    def add(self, type_: str, when: str, channel: str, data: dict[str, Any]) -> dict[str, Any]:
        version = 2 if type_ == "contact.opened" else 1
        event = {
            "event_id": unique("ev-"),
            "type": type_,
            "occurred_at": when,
            "channel": channel,
            "customer_id": self.customer,
            "source": "e2e-script",
            "schema_version": version,
            "data": data,
        }
        self.events.append(event)
        return event


def script() -> Journey:
    j = Journey()
    case, order = {"case_id": j.case}, {"order_id": j.order}
    j.add(
        "customer.registered",
        at(),
        "app",
        {"member_id": "m-1", "personal": {"name": "Li Wei", "phone": "+86 138 0000 0000"},
         "consents": ["service", "marketing"], "preferences": ["kitchen"]},
    )  # fmt: skip
    j.add(
        "order.placed",
        at(hours=1),
        "web",
        {**order, "items": [{"sku": "KT-2209", "quantity": 1, "unit_price": "299.00"}],
         "amount_paid": "299.00", "currency": "CNY", "promised_delivery_at": at(days=3),
         "store_id": STORE},
    )  # fmt: skip
    j.add("order.shipped", at(days=1), "web", {**order, "carrier": "SF Express"})
    j.add("order.delivered", at(days=2), "web", order)
    j.add(
        "contact.opened",
        at(days=2, hours=1),
        "app",
        {"contact_id": j.case, "classification": "complaint", "topic": "after_sales",
         "after_sales_kind": "damaged", "demand": "a refund for a cracked kettle",
         "verified_by": "order_number", "store_id": STORE, "agent_group": GROUP},
    )  # fmt: skip
    j.add("contact.message", at(days=2, hours=1, seconds=10), "app",
          {"contact_id": j.case, "message_id": "m-1"})  # fmt: skip
    j.add("contact.replied", at(days=2, hours=1, seconds=25), "app",
          {"contact_id": j.case, "responder": "agent", "agent_id": "ag-17"})  # fmt: skip
    j.add(
        "contact.opened",
        at(days=2, hours=3),
        "phone",
        {"contact_id": j.phone_contact, "case_id": j.case, "classification": "complaint",
         "topic": "after_sales", "verified_by": "phone", "store_id": STORE,
         "agent_group": GROUP},
    )  # fmt: skip
    j.add("contact.replied", at(days=2, hours=3, seconds=8), "phone",
          {"contact_id": j.phone_contact, "responder": "agent", "agent_id": "ag-17"})  # fmt: skip
    j.add("case.owner_assigned", at(days=2, hours=3, minutes=5), "phone",
          {**case, "owner": "ag-17", "due_at": at(days=4),
           "acceptance_criteria": "refund received"})  # fmt: skip
    j.add("case.escalated", at(days=2, hours=3, minutes=10), "phone",
          {**case, "level": 2, "supervisor_id": "sup-3"})  # fmt: skip
    j.add("case.options_offered", at(days=2, hours=4), "phone",
          {**case, "options": ["replace", "refund"]})  # fmt: skip
    j.add("case.option_chosen", at(days=2, hours=5), "app", {**case, "option": "refund"})
    j.add(
        "return.requested",
        at(days=2, hours=5, minutes=5),
        "app",
        {"return_id": j.return_id, "order_id": j.order, "reason": "damaged", "opened": True,
         "where": "online", "amount_requested": "299.00", "items": ["KT-2209"],
         "case_id": j.case},
    )  # fmt: skip
    j.add("return.approved", at(days=2, hours=6), "app", {"return_id": j.return_id})
    j.add("refund.refunded", at(days=2, hours=8), "app",
          {"return_id": j.return_id, "amount": "299.00"})  # fmt: skip
    j.add("case.resolved", at(days=2, hours=9), "app",
          {**case, "option": "refund", "summary": "refunded in full"})  # fmt: skip
    j.add("case.resolution_confirmed", at(days=2, hours=10), "app", {**case, "via": "sms"})
    j.add("survey.sent", at(days=2, hours=11), "app", {"survey_id": j.survey, "case_id": j.case})
    j.add("survey.answered", at(days=2, hours=12), "app",
          {"survey_id": j.survey, "attitude": 3, "efficiency": 2, "solution": 3, "overall": 2,
           "nps": 3, "comment": "slow and the box was crushed"})  # fmt: skip
    j.add("survey.followed_up", at(days=2, hours=14), "phone",
          {"survey_id": j.survey, "supervisor_id": "sup-3"})  # fmt: skip
    j.add("callback.scheduled", at(days=2, hours=14, minutes=5), "phone",
          {"callback_id": j.callback, "reason": "after_delivery", "order_id": j.order})  # fmt: skip
    j.add("callback.completed", at(days=8), "phone",
          {"callback_id": j.callback, "outcome": "reached"})  # fmt: skip
    return j

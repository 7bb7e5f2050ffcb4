"""The rules of the contacts: opening on every channel, replies, hand-offs, promises, the
end of a contact (R-RESP-01..05, R-CH-01, R-CUS-01)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from domain.case import Case
from tests.unit.journeys.machine import JourneyMachineBase, step
from tests.unit.journeys.model import CaseM, ContactM, choose
from tests.unit.journeys.setting import (
    CHANNELS,
    CUSTOMERS,
    GAPS,
    MAX_CONTACTS,
    PHONE_SECOND_OF_DAY,
    PICK,
)


class ContactRules(JourneyMachineBase):
    """Contacts on every channel and what happens in them."""

    # -- contacts (R-RESP, R-CH-01, R-CUS-01) -------------------------------------------------

    @precondition(lambda self: len(self.contacts) < MAX_CONTACTS)
    @rule(
        customer=st.sampled_from(CUSTOMERS),
        gap=GAPS,
        channel=st.sampled_from(CHANNELS),
        phone_second=PHONE_SECOND_OF_DAY,
        classification=st.sampled_from(["inquiry", "service", "complaint", "urgent"]),
        topic=st.sampled_from(["product", "order", "after_sales", "logistics", "other"]),
        after_sales_kind=st.sampled_from([None, "quality", "damaged", "usage"]),
        priority=st.sampled_from([None, None, "urgent", "important", "general"]),
        major=st.sampled_from([None, None, None, None, "no batch", "KT-2209"]),
        verified_by=st.sampled_from([None, None, "order_number", "member_id", "phone"]),
        join=st.sampled_from([None, None, *range(4)]),
    )
    @step
    def contact_opened(
        self,
        customer: str,
        gap: timedelta,
        channel: str,
        phone_second: int,
        classification: str,
        topic: str,
        after_sales_kind: str | None,
        priority: str | None,
        major: str | None,
        verified_by: str | None,
        join: int | None,
    ) -> None:
        """A contact on any channel opens its case or joins one of the customer's cases
        (R-CH-01); a phone call at any time of day (R-RESP-03)."""
        if channel == "phone":
            at = self.tick_to_local_time(customer, phone_second)
        else:
            at = self.tick(customer, gap)
        contact_id = self.new_id("k")
        own_cases = [c for c in self.cases.values() if c.customer == customer]
        joined = choose(own_cases, join) if join is not None else None
        data: dict[str, Any] = {
            "contact_id": contact_id,
            "classification": classification,
            "topic": topic,
        }
        if joined is not None:
            data["case_id"] = joined.ref
        if priority is not None:
            data["priority"] = priority
        if topic == "after_sales" and after_sales_kind is not None:
            data["after_sales_kind"] = after_sales_kind
        if major is not None:
            data["major"] = True
            if major != "no batch":
                data["product_batch"] = major
        if verified_by is not None:
            data["verified_by"] = verified_by
        if joined is None:
            case = CaseM(
                ref=contact_id,
                customer=customer,
                priority=priority
                or {"urgent": "urgent", "complaint": "important"}.get(classification, "general"),
                major=major is not None,
                product_batch=major if major not in (None, "no batch") else None,
            )
            self.cases[case.ref] = case
        else:
            case = joined
        contact = ContactM(contact_id, customer, case.ref, verified_by is not None)
        self.contacts[contact_id] = contact
        self.created(contact.aid, customer)
        self.created(case.aid, customer)
        self.send(
            customer, at, "contact.opened", data, channel=channel, touches=(contact.aid, case.aid)
        )

    @precondition(lambda self: bool(self.open_contacts()))
    @rule(
        pick=PICK,
        gap=GAPS,
        what=st.sampled_from(
            [
                "agent_reply",
                "agent_reply",
                "bot_reply",
                "account_specific_reply",
                "message",
                "verify",
                "handoff_requested",
                "handed_off",
                "promise",
                "closed_resolved",
                "closed",
                "abandoned",
            ]
        ),
    )
    @step
    def contact_event(self, pick: int, gap: timedelta, what: str) -> None:
        """Replies by an agent or a bot (R-RESP-01..04, R-PRI-02/03), an account-specific
        answer needing a verified identity (R-CUS-01), hand-off requests and hand-offs
        (R-RESP-02), promised replies (R-RESP-05), the end of the contact."""
        contact = choose(self.open_contacts(), pick)
        assert contact is not None
        at = self.tick(contact.customer, gap)
        case_aid = Case.create_id(contact.case_ref)
        data: dict[str, Any] = {"contact_id": contact.contact_id}
        expect: str | None = None
        touches: tuple[UUID, ...] = (contact.aid,)
        if what.endswith("reply"):
            event_type = "contact.replied"
            data["responder"] = "bot" if what == "bot_reply" else "agent"
            if what != "bot_reply":
                data["agent_id"] = "ag-17"
            if what == "account_specific_reply":
                data["account_specific"] = True
                expect = None if contact.verified else "R-CUS-01"
            touches = (contact.aid, case_aid)
        elif what == "message":
            event_type = "contact.message"
            data["message_id"] = self.new_id("m-")
        elif what == "verify":
            event_type = "contact.identity_verified"
            data["method"] = "phone"
            contact.verified = True
        elif what == "handed_off":
            event_type = "contact.handed_off"
            data["agent_id"] = "ag-17"
        elif what == "promise":
            event_type = "contact.reply_promised"
            data["agent_id"] = "ag-17"
            touches = (contact.aid, case_aid)
        elif what.startswith("closed"):
            event_type = "contact.closed"
            data["resolved"] = what == "closed_resolved"
            contact.open = False
        else:
            event_type = f"contact.{what}"
            contact.open = what != "abandoned"
        self.send(contact.customer, at, event_type, data, expect=expect, touches=touches)

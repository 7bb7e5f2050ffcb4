"""The rules of the customers (R-CUS-02, R-CUS-03), and of events naming an aggregate that
does not exist or belongs to another customer (NotFound, R-CH-01)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID

from hypothesis import strategies as st
from hypothesis.stateful import rule

from domain.callback import Callback
from domain.case import Case
from domain.contact import Contact
from domain.customer import Customer
from domain.order import Order
from domain.returns import ReturnRequest
from domain.survey import Survey
from tests.unit.journeys.machine import JourneyMachineBase, step
from tests.unit.journeys.model import CustomerM, choose, prefer
from tests.unit.journeys.setting import CUSTOMERS, GAPS, NOT_FOUND, PARKED, PICK


class CustomerRules(JourneyMachineBase):
    """Customers' registrations, consents, notes and erasures; events for
    unknown or other customers' aggregates."""

    # -- customers (R-CUS) ------------------------------------------------------------------

    @rule(
        pick=PICK,
        gap=GAPS,
        what=st.sampled_from(
            [
                "register",
                "register_with_data",
                "grant_service",
                "withdraw_service",
                "update_phone",
                "note",
                "subjective_note",
                "erase",
            ]
        ),
    )
    @step
    def customer_event(self, pick: int, gap: timedelta, what: str) -> None:
        """R-CUS-02 personal data only with service consent and not after erasure;
        R-CUS-03 factual notes only; events of an unregistered customer wait for the
        registration (and are refused as late once it comes)."""
        registering = what.startswith("register")
        customer = prefer(CUSTOMERS, lambda c: (c in self.customers) != registering, pick)
        assert customer is not None
        record = self.customers.get(customer)
        if registering:
            if record is not None:
                return  # a second registration is refused without a rule id: not generated
            at = self.tick(customer, gap)
            with_data = what == "register_with_data"
            record = CustomerM(customer, {"service"} if with_data else set())
            self.customers[customer] = record
            self.created(record.aid, customer)
            data: dict[str, Any] = {"consents": sorted(record.consents)}
            if with_data:
                data["personal"] = {"name": "Li Wei"}
            self.send(customer, at, "customer.registered", data, touches=[record.aid])
            return
        at = self.tick(customer, gap)
        expect: str | None = None
        if what in ("grant_service", "withdraw_service"):
            granted = what == "grant_service"
            event_type = f"customer.consent_{'granted' if granted else 'withdrawn'}"
            data = {"purpose": "service"}
            if record is not None:
                if granted:
                    record.consents.add("service")
                else:
                    record.consents.discard("service")
        elif what == "update_phone":
            event_type = "customer.profile_updated"
            data = {"personal": {"phone": "+86 138 0000 0000"}}
            if record is not None and (record.erased or "service" not in record.consents):
                expect = "R-CUS-02"
        elif what in ("note", "subjective_note"):
            event_type = "customer.note_added"
            note = "asked for delivery after 18:00"
            if what == "subjective_note":
                note = "difficult customer, 很难缠"
                expect = "R-CUS-03"
            data = {"note": note, "author": "ag-17"}
        else:
            event_type = "customer.erasure_requested"
            data = {"reason": "closing the account"}
            if record is not None:
                record.erased = True
        if record is None:
            # Waits for the registration; let in then, it is older than it: refused (late).
            waits_for = Customer.create_id(customer)
            self.send(
                customer,
                at,
                event_type,
                data,
                expect=PARKED,
                waits_for=waits_for,
                on_release="late",
                lets_in=["customer.registered"],
            )
            return
        self.send(customer, at, event_type, data, expect=expect, touches=[record.aid])

    # -- events for unknown or other customers' aggregates (NotFound, R-CH-01) --------------

    @rule(
        customer=st.sampled_from(CUSTOMERS),
        gap=GAPS,
        event_type=st.sampled_from(
            [
                "contact.replied",
                "case.resolved",
                "order.shipped",
                "return.approved",
                "refund.refunded",
                "survey.answered",
                "callback.completed",
                "return.requested",
                "survey.sent",
                "contact.opened",
            ]
        ),
        pick=PICK,
        foreign=st.booleans(),
    )
    @step
    def wrong_aggregate(
        self, customer: str, gap: timedelta, event_type: str, pick: int, foreign: bool
    ) -> None:
        """An event naming an aggregate that belongs to another customer (``foreign``) is
        refused with NotFound (joining another customer's case: R-CH-01); one naming an
        aggregate that does not exist waits for it (parked; none of these ids is ever
        created). Nothing of the journey is recorded."""
        at = self.tick(customer, gap)
        missing: dict[str, UUID] = {}

        def other(ids: Iterable[tuple[str, str]], absent: str, aid: UUID) -> str:
            if foreign:
                found = choose([i for i, owner in ids if owner != customer], pick)
                if found is not None:
                    return found
            missing[absent] = aid
            return absent

        contact = other(
            ((c.contact_id, c.customer) for c in self.contacts.values()),
            "k-none",
            Contact.create_id("k-none"),
        )
        case = other(
            ((c.ref, c.customer) for c in self.cases.values()), "k-none", Case.create_id("k-none")
        )
        order = other(
            ((o.order_id, o.customer) for o in self.orders.values()),
            "o-none",
            Order.create_id("o-none"),
        )
        request = other(
            ((r.return_id, r.customer) for r in self.returns.values()),
            "r-none",
            ReturnRequest.create_id("r-none"),
        )
        survey = other(
            ((s.survey_id, s.customer) for s in self.surveys.values()),
            "s-none",
            Survey.create_id("s-none"),
        )
        callback = other(
            ((c.callback_id, c.customer) for c in self.callbacks.values()),
            "cb-none",
            Callback.create_id("cb-none"),
        )
        payloads: dict[str, tuple[dict[str, Any], UUID | None]] = {
            "contact.replied": (
                {"contact_id": contact, "responder": "agent"},
                Contact.create_id("k-none") if contact == "k-none" else None,
            ),
            "case.resolved": (
                {"case_id": case, "option": "replace"},
                Case.create_id("k-none") if case == "k-none" else None,
            ),
            "order.shipped": ({"order_id": order}, missing.get(order)),
            "return.approved": ({"return_id": request}, missing.get(request)),
            "refund.refunded": ({"return_id": request, "amount": "1.00"}, missing.get(request)),
            "survey.answered": (
                {
                    "survey_id": survey,
                    **dict.fromkeys(("attitude", "efficiency", "solution", "overall"), 4),
                },
                missing.get(survey),
            ),
            "callback.completed": (
                {"callback_id": callback, "outcome": "reached"},
                missing.get(callback),
            ),
            "return.requested": (
                {
                    "return_id": self.new_id("r"),
                    "order_id": order,
                    "reason": "quality",
                    "opened": True,
                    "where": "online",
                    "amount_requested": "1.00",
                },
                missing.get(order),
            ),
            "survey.sent": (
                {"survey_id": self.new_id("s"), "case_id": case},
                Case.create_id("k-none") if case == "k-none" else None,
            ),
            "contact.opened": (
                {
                    "contact_id": self.new_id("k"),
                    "case_id": case,
                    "classification": "inquiry",
                    "topic": "other",
                },
                Case.create_id("k-none") if case == "k-none" else None,
            ),
        }
        data, waits_for = payloads[event_type]
        if waits_for is not None:
            self.send(customer, at, event_type, data, expect=PARKED, waits_for=waits_for)
            return
        expect = "R-CH-01" if event_type == "contact.opened" else NOT_FOUND
        self.send(customer, at, event_type, data, expect=expect)

"""The rules of the customers (R-CUS-02, R-CUS-03), and of events naming an aggregate that
does not exist or belongs to another customer (NotFound, R-CH-01)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import rule

from tests.unit.journeys.machine import JourneyMachineBase, step
from tests.unit.journeys.model import CustomerM, choose, prefer
from tests.unit.journeys.setting import CUSTOMERS, GAPS, NOT_FOUND, PICK


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
        R-CUS-03 factual notes only; events of an unregistered customer are NotFound."""
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
                note = "customer is picky about delivery"
                expect = "R-CUS-03"
            data = {"note": note, "author": "ag-17"}
        else:
            event_type = "customer.erasure_requested"
            data = {"reason": "closing the account"}
            if record is not None:
                record.erased = True
        if record is None:
            expect = NOT_FOUND
        touches = [record.aid] if record is not None else []
        self.send(customer, at, event_type, data, expect=expect, touches=touches)

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
        """An event naming an aggregate that does not exist, or (``foreign``) that belongs
        to another customer, is refused with NotFound (joining another customer's case:
        R-CH-01); nothing is recorded."""
        at = self.tick(customer, gap)

        def other(ids: Iterable[tuple[str, str]], missing: str) -> str:
            if foreign:
                found = choose([i for i, owner in ids if owner != customer], pick)
                if found is not None:
                    return found
            return missing

        contact = other(((c.contact_id, c.customer) for c in self.contacts.values()), "k-none")
        case = other(((c.ref, c.customer) for c in self.cases.values()), "k-none")
        order = other(((o.order_id, o.customer) for o in self.orders.values()), "o-none")
        request = other(((r.return_id, r.customer) for r in self.returns.values()), "r-none")
        survey = other(((s.survey_id, s.customer) for s in self.surveys.values()), "s-none")
        callback = other(((c.callback_id, c.customer) for c in self.callbacks.values()), "cb-none")
        payloads: dict[str, dict[str, Any]] = {
            "contact.replied": {"contact_id": contact, "responder": "agent"},
            "case.resolved": {"case_id": case, "option": "replace"},
            "order.shipped": {"order_id": order},
            "return.approved": {"return_id": request},
            "refund.refunded": {"return_id": request, "amount": "1.00"},
            "survey.answered": {
                "survey_id": survey,
                **dict.fromkeys(("attitude", "efficiency", "solution", "overall"), 4),
            },
            "callback.completed": {"callback_id": callback, "outcome": "reached"},
            "return.requested": {
                "return_id": self.new_id("r"),
                "order_id": order,
                "reason": "quality",
                "opened": True,
                "where": "online",
                "amount_requested": "1.00",
            },
            "survey.sent": {"survey_id": self.new_id("s"), "case_id": case},
            "contact.opened": {
                "contact_id": self.new_id("k"),
                "case_id": case,
                "classification": "inquiry",
                "topic": "other",
            },
        }
        data = payloads[event_type]
        joins_theirs = event_type == "contact.opened" and case != "k-none"
        self.send(customer, at, event_type, data, expect="R-CH-01" if joins_theirs else NOT_FOUND)

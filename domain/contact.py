"""A contact: one conversation of a customer on one channel, inside a case.

Owns the first-response rules (R-RESP-01..05) and identity verification before
account-specific answers (R-CUS-01).

Each first-response clock starts at the fact the rule counts from, on event time:

- R-RESP-01 (instant messaging: app, mini_program, web): the customer's first message —
  the contact's earliest ``MessageReceived``, which is recorded at the opening when the
  contact opens with the customer's message (``first_message_id``), otherwise by the first
  ``contact.message``. A chat opened before the customer writes starts no clock, and
  an answer before the customer's first message (a greeting) answers nothing.
- R-RESP-02 (a bot answered first): the customer's request for a person
  (``HandoffRequested``), one clock per request, stopped by the hand-off.
- R-RESP-03 (phone): the ring — a phone contact opens when the call is offered to the
  service — inside the policy's working hours at that instant.
- R-RESP-04 (store): the visit — a store contact opens when the store's device records
  the visitor.

Whatever order the facts arrive in, a clock that starts after the facts that end it
(an answer, a bot's answer, a hand-off, the abandonment) were applied is decided by them
at once, so the outcome is that of event-time order. The one fact that could move a start
is refused instead: on an instant-messaging contact, a message older than the customer's
first message (``LateFact``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import Fact, JourneyAggregate, command
from domain.clocks import Cancel, ClockCommand, Start, Stop
from domain.errors import DomainError
from domain.funnel import STAGES
from domain.ids import aggregate_id
from domain.policy import Policy, policy_in_force
from domain.provenance import SourceRef

IM_CHANNELS = frozenset({"app", "mini_program", "web"})
"""Instant-messaging channels (R-RESP-01)."""
VERIFICATION_METHODS = frozenset({"order_number", "member_id", "phone"})
"""Ways to verify a customer's identity (R-CUS-01)."""

FIRST_RESPONSE = ("R-RESP-01", "R-RESP-03", "R-RESP-04")
BOT_FIRST = "a bot answered first (R-RESP-02 applies)"
ABANDONED = "the customer abandoned the contact"

Responder = Literal["agent", "bot"]


class UnverifiedIdentity(DomainError):
    pass


class UnknownStage(DomainError):
    """A stated journey stage that is not one of the funnel's (R-KPI-08)."""


class ContactEnded(DomainError):
    pass


class Contact(JourneyAggregate):
    started_by = "the contact's opening"

    class Opened(Aggregate.Created):
        contact_id: str
        customer_id: str
        case_ref: str
        channel: str
        verified_by: str | None
        policy_version: str
        occurred_at: datetime
        source: SourceRef
        funnel_stage: str | None = None
        """The journey stage the channel stated (R-KPI-08); None: its case's topic decides.
        Stored events from before it have none."""

    class MessageReceived(Fact["Contact"]):
        """A message from the customer; the first one starts R-RESP-01 on IM channels."""

        message_id: str

        def apply_fact(self, aggregate: Contact) -> None:
            first = aggregate.first_message_at
            if first is None or self.occurred_at < first:
                aggregate.first_message_at = self.occurred_at

    class Replied(Fact["Contact"]):
        responder: str
        agent_id: str | None
        account_specific: bool

        def apply_fact(self, aggregate: Contact) -> None:
            if self.responder == "agent":
                aggregate.agent_replies += 1
            else:
                aggregate.bot_replies += 1
            aggregate.answers.append((self.occurred_at, self.responder))

    class IdentityVerified(Fact["Contact"]):
        method: str

        def apply_fact(self, aggregate: Contact) -> None:
            aggregate.verified_by = aggregate.verified_by or self.method

    class HandoffRequested(Fact["Contact"]):
        def apply_fact(self, aggregate: Contact) -> None:
            aggregate.handoff_requests += 1
            aggregate.advance_chain("handoff_request", self.occurred_at)

    class HandedOff(Fact["Contact"]):
        agent_id: str

        def apply_fact(self, aggregate: Contact) -> None:
            aggregate.handoffs += 1
            aggregate.handed_off_at.append(self.occurred_at)

    class ReplyPromised(Fact["Contact"]):
        agent_id: str | None

        def apply_fact(self, aggregate: Contact) -> None:
            aggregate.promises += 1
            aggregate.advance_chain("promise", self.occurred_at)
            aggregate.answers.append((self.occurred_at, "agent"))  # a person's answer

    class Closed(Fact["Contact"]):
        resolved: bool

        def apply_fact(self, aggregate: Contact) -> None:
            aggregate.ended_at = self.occurred_at
            aggregate.status = "closed"
            aggregate.resolved_in_contact = self.resolved

    class Abandoned(Fact["Contact"]):
        def apply_fact(self, aggregate: Contact) -> None:
            aggregate.ended_at = self.occurred_at
            aggregate.status = "abandoned"

    @staticmethod
    def create_id(contact_id: str) -> UUID:
        return aggregate_id("contact", contact_id)

    @event(Opened)
    def __init__(
        self,
        *,
        contact_id: str,
        customer_id: str,
        case_ref: str,
        channel: str,
        verified_by: str | None,
        policy_version: str,
        occurred_at: datetime,
        source: SourceRef,
        funnel_stage: str | None = None,
    ) -> None:
        self._begin(policy_version, occurred_at, source)
        self.funnel_stage = funnel_stage
        self.contact_id = contact_id
        self.customer_id = customer_id
        self.case_ref = case_ref
        self.channel = channel
        self.verified_by = verified_by
        self.opened_at = occurred_at
        self.status = "open"
        self.ended_at: datetime | None = None
        self.resolved_in_contact = False
        self.first_message_at: datetime | None = None
        self.agent_replies = 0
        self.bot_replies = 0
        self.answers: list[tuple[datetime, str]] = []
        """Every answer to the customer: when, and by whom ("agent": a reply or a promise
        of a person; "bot"), in the order applied."""
        self.handoff_requests = 0
        self.handoffs = 0
        self.handed_off_at: list[datetime] = []
        self.promises = 0

    @classmethod
    def open(
        cls,
        *,
        contact_id: str,
        customer_id: str,
        case_ref: str,
        channel: str,
        verified_by: str | None,
        occurred_at: datetime,
        source: SourceRef,
        first_message_id: str | None = None,
        funnel_stage: str | None = None,
    ) -> Contact:
        """The contact opens; ``first_message_id``: it opens with the customer's first
        message, recorded then as the contact's first message (R-RESP-01 starts);
        ``funnel_stage``: the journey stage the channel states (R-KPI-08), else its case's
        topic decides (``domain.funnel``)."""
        if verified_by is not None and verified_by not in VERIFICATION_METHODS:
            raise UnverifiedIdentity(f"unknown verification method {verified_by!r}", "R-CUS-01")
        if funnel_stage is not None and funnel_stage not in STAGES:
            raise UnknownStage(f"funnel_stage {funnel_stage!r} is not one of {STAGES}", "R-KPI-08")
        contact = cls(
            contact_id=contact_id,
            customer_id=customer_id,
            case_ref=case_ref,
            channel=channel,
            verified_by=verified_by,
            policy_version=policy_in_force(occurred_at).version,
            occurred_at=occurred_at,
            source=source,
            funnel_stage=funnel_stage,
        )
        contact._run_clocks(contact.pending_events[-1])
        if first_message_id is not None:
            # The same source record as the opening: not through ``receive_message``,
            # whose guard would see its event id as applied already.
            contact._record(
                cls.MessageReceived,
                message_id=first_message_id,
                occurred_at=occurred_at,
                source=source,
            )
        return contact

    # -- commands ---------------------------------------------------------------------------

    def check_live(self, occurred_at: datetime) -> None:
        """Refuses facts after the end."""
        if self.ended_at is not None and occurred_at > self.ended_at:
            raise ContactEnded(
                f"contact {self.contact_id!r} was {self.status} at {self.ended_at.isoformat()}"
            )

    @command
    def receive_message(self, *, message_id: str, occurred_at: datetime, source: SourceRef) -> None:
        """A message from the customer. On an IM channel one older than the customer's
        first message is refused: R-RESP-01 started at that first message."""
        first = self.first_message_at
        if self.channel in IM_CHANNELS and first is not None:
            self.require_in_order(occurred_at, first, "the customer's first message")
        self._record(
            self.MessageReceived, message_id=message_id, occurred_at=occurred_at, source=source
        )

    @command
    def reply(
        self,
        *,
        responder: Responder,
        agent_id: str | None,
        account_specific: bool,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """An answer to the customer. An account-specific answer needs a verified identity
        (R-CUS-01)."""
        if account_specific and self.verified_by is None:
            raise UnverifiedIdentity(
                f"contact {self.contact_id!r}: identity not verified by order number, member id"
                " or phone before an account-specific answer",
                "R-CUS-01",
            )
        self._record(
            self.Replied,
            responder=responder,
            agent_id=agent_id,
            account_specific=account_specific,
            occurred_at=occurred_at,
            source=source,
        )

    def verify_identity(self, *, method: str, occurred_at: datetime, source: SourceRef) -> None:
        if method not in VERIFICATION_METHODS:
            raise UnverifiedIdentity(f"unknown verification method {method!r}", "R-CUS-01")
        # Not @command: an unknown method is refused even for a source event already applied.
        if self.fresh(occurred_at, source):
            self._record(
                self.IdentityVerified, method=method, occurred_at=occurred_at, source=source
            )

    @command
    def request_handoff(self, *, occurred_at: datetime, source: SourceRef) -> None:
        self.require_chain_order("handoff_request", occurred_at)
        self._record(self.HandoffRequested, occurred_at=occurred_at, source=source)

    @command
    def hand_off(self, *, agent_id: str, occurred_at: datetime, source: SourceRef) -> None:
        self._record(self.HandedOff, agent_id=agent_id, occurred_at=occurred_at, source=source)

    @command
    def promise_reply(
        self, *, agent_id: str | None, occurred_at: datetime, source: SourceRef
    ) -> None:
        self.require_chain_order("promise", occurred_at)
        self._record(self.ReplyPromised, agent_id=agent_id, occurred_at=occurred_at, source=source)

    @command
    def close(self, *, resolved: bool, occurred_at: datetime, source: SourceRef) -> None:
        self._record(self.Closed, resolved=resolved, occurred_at=occurred_at, source=source)

    @command
    def abandon(self, *, occurred_at: datetime, source: SourceRef) -> None:
        self._record(self.Abandoned, occurred_at=occurred_at, source=source)

    # -- SLA clocks -------------------------------------------------------------------------

    def clock_rules(self, fact: Any, policy: Policy) -> Iterable[ClockCommand]:
        at = fact.occurred_at
        if isinstance(fact, Contact.Opened):
            # The opening is the ring of a call, the visit to a store. An IM contact's
            # clock waits for the customer's first message (R-RESP-01, below).
            if fact.channel == "phone" and policy.phone_hours.contains(at):
                # Outside working hours the call goes to voicemail: no clock (R-RESP-03).
                yield Start("R-RESP-03", "R-RESP-03", at, policy.phone_answer)
            elif fact.channel == "store":
                yield Start("R-RESP-04", "R-RESP-04", at, policy.store_greeting)
        elif isinstance(fact, Contact.MessageReceived):
            if self.channel in IM_CHANNELS and at == self.first_message_at:
                # R-RESP-01 counts from the customer's first message.
                yield Start("R-RESP-01", "R-RESP-01", at, policy.im_first_reply)
                yield from self._ends_since("R-RESP-01", at)
        elif isinstance(fact, Contact.Replied) and fact.responder == "bot":
            # A bot answered before any person: the hand-off rule applies instead
            # (R-RESP-02). The clocks judge it by event time: a bot's answer before the
            # customer's first message, or after a person's answer, changes nothing.
            yield Cancel("R-RESP-01", at, BOT_FIRST)
        elif isinstance(fact, Contact.Replied | Contact.ReplyPromised):
            for rule in FIRST_RESPONSE:
                yield Stop(rule, at)
            if isinstance(fact, Contact.Replied) and self.promises:
                yield Stop(f"R-RESP-05:{self.promises}", at)
            if isinstance(fact, Contact.ReplyPromised):
                yield Start(
                    "R-RESP-05", f"R-RESP-05:{self.promises}", at, policy.promised_reply_max
                )
        elif isinstance(fact, Contact.HandoffRequested):
            # R-RESP-02 counts from the customer's request for a person.
            key = f"R-RESP-02:{self.handoff_requests}"
            yield Start("R-RESP-02", key, at, policy.bot_handoff)
            handed_off = [h for h in self.handed_off_at if h >= at]
            if handed_off:  # the hand-off arrived before the request
                yield Stop(key, min(handed_off))
            elif self.status == "abandoned" and self.ended_at is not None:
                yield Cancel(key, self.ended_at, "abandoned")
        elif isinstance(fact, Contact.HandedOff):
            for n in range(1, self.handoff_requests + 1):
                yield Stop(f"R-RESP-02:{n}", at)
        elif isinstance(fact, Contact.Abandoned):
            for rule in FIRST_RESPONSE:
                yield Cancel(rule, at, ABANDONED)
            yield Cancel(f"R-RESP-02:{self.handoff_requests}", at, "abandoned")

    def _ends_since(self, key: str, start: datetime) -> Iterable[ClockCommand]:
        """The commands of the facts already applied that end a clock started at ``start``
        (R-RESP-01), in event-time order: a person's answer stops it, a bot's calls it
        off, and so does the customer's leaving. Facts may arrive before the message that
        starts the clock (they come from other systems); given to the clock in event-time
        order, they decide it as if they had arrived after it."""
        ends: list[tuple[datetime, ClockCommand]] = [
            (when, Stop(key, when) if who == "agent" else Cancel(key, when, BOT_FIRST))
            for when, who in self.answers
            if when >= start
        ]
        if self.status == "abandoned" and self.ended_at is not None and self.ended_at >= start:
            ends.append((self.ended_at, Cancel(key, self.ended_at, ABANDONED)))
        for _, end in sorted(ends, key=lambda end: end[0]):
            yield end

    def state(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "customer_id": self.customer_id,
            "case_ref": self.case_ref,
            "channel": self.channel,
            "verified_by": self.verified_by,
            "status": self.status,
            "opened_at": self.opened_at.isoformat(),
            "first_message_at": None
            if self.first_message_at is None
            else self.first_message_at.isoformat(),
            "agent_replies": self.agent_replies,
            "bot_replies": self.bot_replies,
            "handoffs": self.handoffs,
            "promises": self.promises,
            "resolved_in_contact": self.resolved_in_contact,
            "outcomes": {k: (o.rule, o.met, o.actual) for k, o in sorted(self.outcomes().items())},
        }

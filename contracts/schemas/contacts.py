"""Contacts and conversations: ``contact.*``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from contracts.schemas.base import Data, Flag, Id, Text

Classification = Literal["inquiry", "service", "complaint", "urgent"]  # R-PRI-01
Topic = Literal["product", "order", "after_sales", "logistics", "membership", "other"]
Priority = Literal["urgent", "important", "general"]  # R-PRI-02
Verification = Literal["order_number", "member_id", "phone"]  # R-CUS-01


def upcast_contact_opened_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 had no priority, after-sales kind, major flag, batch, demand or verification:
    they take their defaults."""
    return dict(data)


class ContactOpenedV1(
    Data, event_type="contact.opened", family="contacts", upcast=upcast_contact_opened_v1
):
    """A customer starts a contact on a channel (R-PRI-01). Version 1, upcast to 2."""

    contact_id: Id
    case_id: Id | None = None
    classification: Classification
    topic: Topic
    store_id: Id | None = None
    agent_group: Id | None = None

    example = {"contact_id": "ct-1001", "classification": "inquiry", "topic": "product"}


def upcast_contact_opened_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 had no ``first_message_id``: a v2 opening carries no message, so an
    instant-messaging contact's R-RESP-01 clock waits for its first ``contact.message``."""
    return dict(data)


class ContactOpenedV2(
    Data, event_type="contact.opened", family="contacts", version=2, upcast=upcast_contact_opened_v2
):
    """A customer starts a contact on a channel, classified by type and topic
    (R-PRI-01); it opens its own case, or joins ``case_id`` (R-CH-01). Version 2, upcast
    to 3."""

    contact_id: Id
    case_id: Id | None = Field(
        default=None, description="An existing case the contact joins; default: its own case."
    )
    classification: Classification
    topic: Topic
    priority: Priority | None = Field(
        default=None, description="Default: urgent→urgent, complaint→important, else general."
    )
    after_sales_kind: Literal["quality", "damaged", "usage"] | None = Field(
        default=None, description="For topic after_sales (R-PRI-03)."
    )
    major: Flag = Field(
        default=False, description="Safety hazard or many customers affected (R-CMP-05)."
    )
    product_batch: Id | None = None
    demand: Text | None = Field(default=None, description="What the customer asks for.")
    verified_by: Verification | None = None
    store_id: Id | None = None
    agent_group: Id | None = None

    example = {
        "contact_id": "ct-1002",
        "classification": "complaint",
        "topic": "after_sales",
        "after_sales_kind": "damaged",
        "demand": "replacement for a cracked kettle",
        "verified_by": "order_number",
        "store_id": "store-sh-07",
        "agent_group": "after-sales-east",
    }


class ContactOpened(Data, event_type="contact.opened", family="contacts", version=3):
    """A customer starts a contact on a channel, classified by type and topic
    (R-PRI-01); it opens its own case, or joins ``case_id`` (R-CH-01). Its ``occurred_at``
    starts the first-response clock of a phone call — the ring: a phone contact opens when
    the call is offered to the service, and is timed when that instant is inside the
    policy's working hours (R-RESP-03) — and of a store visit — when the store's device
    records the visitor (R-RESP-04). On instant messaging (app, mini_program, web) the
    clock starts at the customer's first message (R-RESP-01): at the opening when it
    carries ``first_message_id``, otherwise at the contact's first ``contact.message``; a
    chat opened before the customer writes is not timed until the customer does."""

    contact_id: Id
    case_id: Id | None = Field(
        default=None, description="An existing case the contact joins; default: its own case."
    )
    classification: Classification
    topic: Topic
    priority: Priority | None = Field(
        default=None, description="Default: urgent→urgent, complaint→important, else general."
    )
    after_sales_kind: Literal["quality", "damaged", "usage"] | None = Field(
        default=None, description="For topic after_sales (R-PRI-03)."
    )
    major: Flag = Field(
        default=False, description="Safety hazard or many customers affected (R-CMP-05)."
    )
    product_batch: Id | None = None
    demand: Text | None = Field(default=None, description="What the customer asks for.")
    verified_by: Verification | None = None
    store_id: Id | None = None
    agent_group: Id | None = None
    funnel_stage: Literal["pre_sale", "in_sale", "after_sale"] | None = Field(
        default=None,
        description="The journey stage of this contact (R-KPI-08), when the channel knows it"
        " (a pre-sale consultation about an order topic, say); default: its case's topic"
        ' decides (docs/events.md, "How a contact\'s journey stage is decided").',
    )
    first_message_id: Id | None = Field(
        default=None,
        description="The contact opens with this message of the customer (a chat that"
        " starts when the customer writes): recorded as the contact's first message, at the"
        " opening's time, so R-RESP-01 counts from the opening. Without it, an"
        " instant-messaging contact's R-RESP-01 waits for its first contact.message.",
    )

    example = {
        "contact_id": "ct-1002",
        "classification": "complaint",
        "topic": "after_sales",
        "after_sales_kind": "damaged",
        "demand": "replacement for a cracked kettle",
        "verified_by": "order_number",
        "store_id": "store-sh-07",
        "agent_group": "after-sales-east",
        "first_message_id": "m-0",
    }


class ContactMessage(Data, event_type="contact.message", family="contacts"):
    """A message from the customer on an open contact. On instant messaging (app,
    mini_program, web) the customer's first message starts R-RESP-01 (a person answers
    within 30 s) unless the contact opened with one (``first_message_id``); there a
    message older than the customer's first message is refused, since the clock already
    runs from that one."""

    contact_id: Id
    message_id: Id
    example = {"contact_id": "ct-1002", "message_id": "m-1"}


class ContactReplied(Data, event_type="contact.replied", family="contacts"):
    """An answer to the customer by an agent or a bot (R-RESP-01..04). A person's first
    answer at or after a clock's start stops it: R-RESP-01 from the customer's first
    message, R-RESP-03 from the ring, R-RESP-04 from the visit; an answer before the
    customer's first message (a greeting) answers nothing. A bot's answer before any
    person's calls R-RESP-01 off: R-RESP-02 applies. An account-specific answer needs a
    verified identity (R-CUS-01)."""

    contact_id: Id
    responder: Literal["agent", "bot"]
    agent_id: Id | None = None
    account_specific: Flag = False
    example = {"contact_id": "ct-1002", "responder": "agent", "agent_id": "ag-17"}


class ContactIdentityVerified(Data, event_type="contact.identity_verified", family="contacts"):
    """The customer's identity was verified (R-CUS-01)."""

    contact_id: Id
    method: Verification
    example = {"contact_id": "ct-1002", "method": "phone"}


class ContactHandoffRequested(Data, event_type="contact.handoff_requested", family="contacts"):
    """The customer asked a bot for a person: starts an R-RESP-02 clock (a person takes
    over within 10 s), one per request, stopped by ``contact.handed_off``. Requests apply
    in event-time order: one older than the latest is refused."""

    contact_id: Id
    example = {"contact_id": "ct-1002"}


class ContactHandedOff(Data, event_type="contact.handed_off", family="contacts"):
    """A person took the conversation over from the bot: stops the R-RESP-02 clock of
    every request made at or before it."""

    contact_id: Id
    agent_id: Id
    example = {"contact_id": "ct-1002", "agent_id": "ag-17"}


class ContactReplyPromised(Data, event_type="contact.reply_promised", family="contacts"):
    """An agent who cannot answer at once promises a reply within 5 min (R-RESP-05)."""

    contact_id: Id
    agent_id: Id | None = None
    example = {"contact_id": "ct-1002", "agent_id": "ag-17"}


class ContactClosed(Data, event_type="contact.closed", family="contacts"):
    """The contact ended; ``resolved`` when the problem was solved in this contact."""

    contact_id: Id
    resolved: Flag = False
    example = {"contact_id": "ct-1002", "resolved": True}


class ContactAbandoned(Data, event_type="contact.abandoned", family="contacts"):
    """The customer left before the contact ended."""

    contact_id: Id
    example = {"contact_id": "ct-1002"}

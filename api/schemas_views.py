"""Response bodies of the views built on demand: the customer 360, a case's state, what-if,
and the channels' contract documents (issue 15, item 6: every answer typed in OpenAPI).

Each names the fields a client relies on; a view may carry more (``extra="allow"``: an
aggregate's state holds every field of its kind), never fewer. Times are RFC 3339 with the
request zone's offset (``api.times``); amounts are decimal strings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import HistoryEntryOut


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- the customer 360 -------------------------------------------------------------------------


class ConsentChangeOut(BaseModel):
    at: str
    purpose: str
    granted: bool


class ConsentsOut(BaseModel):
    current: list[str]
    """Purposes granted now (at the view's ``as_of``)."""
    history: list[ConsentChangeOut]


class SegmentsOut(_Open):
    """R-CUS-05: RFM and lifecycle segments at ``as_of``."""

    rule: str
    as_of: str | None = None
    rfm: str | None = None
    lifecycle: str | None = None
    recency_days: int | None = None
    frequency: int | None = None
    monetary: str | None = None


class RefundOut(_Open):
    at: str
    amount: str


class CustomerOrderOut(_Open):
    order_id: str
    placed_at: str | None = None
    status: str | None = None
    amount: str | None = None
    currency: str | None = None
    promised_delivery_at: str | None = None
    delivered_at: str | None = None
    refunds: list[RefundOut] = []
    refunded: str | None = None
    late: bool | None = None


class CustomerReturnOut(_Open):
    return_id: str
    order_id: str | None = None
    requested_at: str | None = None
    reason: str | None = None
    status: str | None = None
    refunds: list[RefundOut] = []
    refunded: str | None = None


class CustomerCaseOut(_Open):
    case_ref: str
    opened_at: str | None = None
    channel: str | None = None
    channels: list[str] = []
    classification: str | None = None
    topic: str | None = None
    priority: str | None = None
    status: str | None = None
    overdue: list[str] = []
    """Open and awaiting cases: rules of SLA clocks past due at the watermark."""


class CustomerCasesOut(BaseModel):
    open: list[CustomerCaseOut]
    awaiting_confirmation: list[CustomerCaseOut]
    """Resolved, not yet confirmed (R-CMP-04)."""
    past: list[CustomerCaseOut]


class CallbackOut(_Open):
    callback_id: str
    reason: str | None = None
    due_at: str | None = None
    status: str | None = None
    overdue: bool | None = None


class SurveyOut(_Open):
    survey_id: str
    case_ref: str | None = None
    sent_at: str | None = None
    answered_at: str | None = None
    scores: dict[str, int] | None = None
    nps: int | None = None
    dissatisfied: bool | None = None


class TimelineEntryOut(_Open):
    at: str
    nid: int
    """The stored event's notification id."""
    event: str
    channel: str | None = None
    contact_id: str | None = None
    case_ref: str | None = None


class Customer360Out(BaseModel):
    """R-CUS-06: the customer in one place."""

    customer_id: str
    as_of: str | None
    as_of_basis: str
    """``watermark`` (the SLA timer's) or ``requested`` (the ``as_of`` asked)."""
    first_seen_at: str | None
    profile: dict[str, Any] | None
    """Masked for analysts (R-CUS-04)."""
    consents: ConsentsOut
    segments: SegmentsOut | None
    orders: list[CustomerOrderOut]
    returns: list[CustomerReturnOut]
    cases: CustomerCasesOut
    callbacks: list[CallbackOut]
    satisfaction: list[SurveyOut]
    timeline: list[TimelineEntryOut]
    """The contact timeline across channels, newest last."""
    timeline_truncated: bool


# -- a case's state ---------------------------------------------------------------------------


class OpenClockOut(_Open):
    rule: str
    key: str
    due_at: str | None = None


class ClockOutcomeOut(_Open):
    rule: str
    key: str
    target: float | None = None
    """Seconds."""
    met: bool | None = None
    actual: float | None = None
    """Seconds."""


class ClocksOut(BaseModel):
    open: list[OpenClockOut]
    outcomes: list[ClockOutcomeOut]


class AsOfOut(BaseModel):
    basis: str
    """event_time, recorded_time or version"""
    value: str | int


class AggregateStateOut(_Open):
    """Any aggregate rebuilt from its stored events; every field of its state is there."""

    aggregate_id: str
    kind: str
    """The aggregate's class (``Order``, ``Callback``…)."""
    version: int
    recorded_at: str | None = None
    as_of: AsOfOut | None = None
    """What the state is as of; None: as stored now."""


class AggregateHistoryOut(BaseModel):
    kind: str
    ref: str
    events: list[HistoryEntryOut]
    next_cursor: str | None = None
    """The ``cursor`` of the next page (a version), None on the last page."""


class CaseStateOut(_Open):
    """A case rebuilt from its stored events; every field of the case's state is there."""

    aggregate_id: str
    kind: str
    version: int
    recorded_at: str | None = None
    policy_version: str | None = None
    case_ref: str | None = None
    customer_id: str | None = None
    status: str | None = None
    opened_at: str | None = None
    clocks: ClocksOut | None = None
    as_of: AsOfOut | None = None
    """What the state is as of; None: as stored now."""


# -- what-if ----------------------------------------------------------------------------------


class OutcomeDifferenceOut(BaseModel):
    key: str
    rule: str
    change: str
    """``<recorded> -> <alternative>`` (met, breached, undecided)."""
    recorded: dict[str, Any] | None
    alternative: dict[str, Any] | None


class AggregateDifferenceOut(BaseModel):
    aggregate_id: str
    kind: str
    ref: str | None
    recorded_policy_version: str
    differences: list[OutcomeDifferenceOut]


class WhatIfOut(BaseModel):
    """One case, or one page of the aggregates opened in a period: the figures are this
    page's."""

    policy_version: str
    replayed: int
    """Aggregates replayed on this page."""
    differing: int
    newly_breached: int
    no_longer_breached: int
    aggregates: list[AggregateDifferenceOut]
    """Only the aggregates whose SLA outcomes differ."""
    next_cursor: str | None = None
    """The ``cursor`` of the next page of the period, None on the last page (and for one
    case)."""


# -- the channels' contract documents ---------------------------------------------------------


class AsyncApiOut(_Open):
    """An AsyncAPI 3.0 document (https://www.asyncapi.com/docs/reference/specification/v3.0.0)."""

    asyncapi: str
    info: dict[str, Any]
    channels: dict[str, Any]
    operations: dict[str, Any] = {}
    components: dict[str, Any] = {}


class JsonSchemaOut(_Open):
    """A JSON Schema (draft 2020-12) of one source event type's envelope and payload."""

    schema_: str | None = Field(None, alias="$schema")
    title: str | None = None
    type: str | None = None
    properties: dict[str, Any] = {}
    required: list[str] = []

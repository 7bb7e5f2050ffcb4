"""Request and response bodies of the HTTP API (apart from domain objects)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.security import Role


class ProblemOut(BaseModel):
    field: str
    reason: str


class ErrorOut(BaseModel):
    """An RFC 9457 problem (``application/problem+json``), with our extensions."""

    type: str
    """``urn:journey:problem:<error>``."""
    title: str
    """The same for every problem of this type."""
    status: int
    detail: str
    """This occurrence, naming the field or rule at fault."""
    instance: str | None = None
    """The path of the request."""
    error: str
    """The problem's short code (``not_found``, ``invalid_request``, ``rule_violated``...)."""
    problems: list[ProblemOut] = []
    """Each field at fault, with the reason."""
    rule: str | None = None
    """For a refusal by a service rule: its id (``R-…``)."""


class AcceptedOut(BaseModel):
    event_id: str
    topic: str
    partition: int
    offset: int
    position: str
    """``topic:partition:offset``; pass it as ``consistent_with`` to read your write."""


class AcceptedListOut(BaseModel):
    accepted: list[AcceptedOut]


# -- the complaint ledger --------------------------------------------------------------------


class SlaClockOut(BaseModel):
    rule: str
    started_at: str | None = None
    due_at: str | None = None
    target_s: float | None = None
    outcome: str
    """open, overdue (past due at the SLA timer's watermark, not breached yet), met,
    breached, late (settled after its target), cancelled"""
    actual_s: float | None = None


class BreachOut(BaseModel):
    rule: str
    key: str
    due_at: str
    target_s: float
    actual_s: float | None
    detected_by: str


class CommunicationOut(BaseModel):
    at: str
    kind: str
    event_id: str
    channel: str | None = None
    contact_id: str | None = None
    agent_id: str | None = None
    options: list[str] | None = None
    via: str | None = None
    reason: str | None = None
    resolved: bool | None = None


class SolutionOut(BaseModel):
    option: str
    summary: str | None


class SatisfactionOut(BaseModel):
    overall: int
    attitude: int
    efficiency: int
    solution: int
    nps: int | None
    dissatisfied: bool
    answered_at: str


class ComplaintOut(BaseModel):
    """One case of the ledger (R-CMP-06), of any classification; times are RFC 3339 in the
    request's zone."""

    case_id: str
    case_ref: str
    customer_id: str
    channel: str
    channels: list[str]
    store_id: str | None
    agent_group: str | None
    classification: str
    topic: str
    priority: str
    status: str
    demand: str | None
    opened_at: str
    first_response_at: str | None
    supervisor_at: str | None
    supervisor_id: str | None
    solution_at: str | None
    resolved_at: str | None
    confirmed_at: str | None
    closed_at: str | None
    owner: str | None
    reassignment_count: int = 0
    """Owners assigned after the first (R-CMP-02), on an open or a resolved case."""
    due_at: str | None
    acceptance_criteria: str | None
    escalation_level: int
    options_offered: list[str]
    option_chosen: str | None
    solution: SolutionOut | None
    outcome: str | None
    refund_amount: str
    satisfaction: SatisfactionOut | None
    sla: dict[str, SlaClockOut]
    breaches: int
    overdue: int = 0
    """Clocks overdue at the SLA timer's watermark: past due, not breached yet."""
    awaiting_confirmation: bool = False
    """Resolved, not yet confirmed by the customer nor closed without a reply (R-CMP-04)."""
    breach_list: list[BreachOut]
    communications: list[CommunicationOut]
    contacts: int
    reopen_count: int
    repeat_complaint: bool
    """R-CMP-07: the customer complained on the same topic within the 30 days before."""
    repeat_of: str | None
    recall_id: str | None
    major: bool
    policy_version: str
    version: int
    attributes: dict[str, str] = Field(default_factory=dict)
    """Source attributes of the case's events, the latest value of each (docs/events.md)."""


class ComplaintPageOut(BaseModel):
    items: list[ComplaintOut]
    next_cursor: str | None


class ExplainedEventOut(BaseModel):
    notification_id: int
    aggregate_id: str
    version: int
    type: str
    occurred_at: str | None
    event_id: str | None
    """The source record's ``event_id`` (clock decisions have none)."""


class ExplainOut(BaseModel):
    subject: str
    count: int
    """How many events the figure is made of (all pages)."""
    events: list[ExplainedEventOut]
    next_cursor: str | None = None
    """The ``cursor`` of the next page (a notification id), None on the last page."""


# -- auditors --------------------------------------------------------------------------------


class HistoryEntryOut(BaseModel):
    version: int
    type: str
    kind: str
    """fact, decision (a clock's), or undecodable"""
    occurred_at: str | None
    recorded_at: str | None
    source: dict[str, Any] | None
    """The source record: event_id, topic, partition, offset (facts only)."""
    caused_by: dict[str, Any] | None = None
    data: dict[str, Any]


class HistoryOut(BaseModel):
    case_ref: str
    events: list[HistoryEntryOut]
    next_cursor: str | None = None
    """The ``cursor`` of the next page (a version), None on the last page."""


class VerifyProblemOut(BaseModel):
    version: int
    kind: str
    """altered, missing or unexpected"""
    detail: str


class VerifyOut(BaseModel):
    aggregate_id: str
    ok: bool
    events_checked: int
    stored: int
    chained: int
    pending: int
    problem: VerifyProblemOut | None


class AggregateVerifyOut(VerifyOut):
    """``VerifyOut`` of any aggregate, with what it was asked by."""

    kind: str
    """cases, contacts, customers, orders, returns, callbacks or surveys"""
    ref: str
    """The id its channel sent."""


# -- admins ----------------------------------------------------------------------------------


class KeyCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    label: str | None = Field(None, max_length=200)
    source: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Channel keys only: the publishing system (the events' `source`) the key"
        " publishes as and whose dead letters it lists.",
    )


class KeyOut(BaseModel):
    """A key as listed: never its secret, never its hash."""

    key_id: str
    role: Role
    label: str | None
    source: str | None
    created_at: str
    revoked_at: str | None
    active: bool


class KeyIssuedOut(KeyOut):
    key: str
    """The full key to send as ``Authorization: Bearer <key>``. Shown this once only."""


class KeyListOut(BaseModel):
    items: list[KeyOut]


class AccessEntryOut(BaseModel):
    id: int
    at: str
    key_id: str
    role: str
    subject: str
    """``customer:<id>`` or ``case:<ref>``"""
    route: str
    method: str
    status: int


class AccessLogPageOut(BaseModel):
    items: list[AccessEntryOut]
    next_cursor: str | None


class ParkedEventOut(BaseModel):
    """A source event waiting for what it refers to; never its contents."""

    event_id: str
    type: str
    customer_id: str
    reason: str
    """What it waits for (``unknown order 'o-1'``, ``order 'o-1' is not delivered yet``)."""
    occurred_at: str
    expires_at: str
    """Event time after which, still waiting, it is dead-lettered (the policy's window)."""
    waits_for: str
    """The id of the aggregate it waits for."""
    source: str
    """``topic:partition:offset`` of its record."""
    source_topic: str
    source_partition: int
    source_offset: int


class ParkedPageOut(BaseModel):
    total: int
    items: list[ParkedEventOut]
    next_cursor: str | None


class QuarantinedOut(BaseModel):
    """A stored event a read model could not apply, held aside for that read model."""

    read_model: str
    notification_id: int
    originator_id: str
    """The aggregate whose event it is."""
    originator_version: int
    topic: str
    """The stored event's class (``module:Class.Event``)."""
    reason: str
    """What the read model raised (``<exception>: <message>``, control characters shown
    escaped)."""
    quarantined_at: str


class QuarantinePageOut(BaseModel):
    counts: dict[str, int]
    """Read model → events it holds in quarantine (only read models with any)."""
    items: list[QuarantinedOut]
    next_cursor: str | None

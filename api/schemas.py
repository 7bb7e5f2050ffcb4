"""Request and response bodies of the HTTP API (apart from domain objects)."""

from __future__ import annotations

from pydantic import BaseModel


class ProblemOut(BaseModel):
    field: str
    reason: str


class ErrorOut(BaseModel):
    error: str
    detail: str
    problems: list[ProblemOut] = []


class AcceptedOut(BaseModel):
    event_id: str
    topic: str
    partition: int
    offset: int
    position: str
    """``topic:partition:offset``; pass it as ``consistent_with`` to read your write."""


class AcceptedListOut(BaseModel):
    accepted: list[AcceptedOut]


class ComplaintOut(BaseModel):
    case_id: str
    case_ref: str
    customer_id: str
    channel: str
    channels: list[str]
    store_id: str | None
    agent_group: str | None
    classification: str
    topic: str
    status: str
    opened_at: str
    contacts: int
    version: int


class ComplaintPageOut(BaseModel):
    items: list[ComplaintOut]
    next_cursor: str | None

"""Channels publish source events over HTTP; they go to the same log as Kafka producers'."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.publishing import record_of
from adapters.sourcelog.base import Coordinates
from api.auth import Roles, caller_of
from api.csv_export import AnswerResponse
from api.deps import services_of
from api.direct_route import DirectRoute
from api.errors import ApiError
from api.schemas import AcceptedListOut, ErrorOut
from contracts.envelope import (
    InvalidEvent,
    Problem,
    SourceEvent,
    envelope_json_schema,
    may_hold_controls,
    validate,
)
from contracts.strict_json import not_json, strict_json

router = APIRouter(prefix="/v1", tags=["channels"], route_class=DirectRoute)

MAX_BATCH = 1000

_envelope = envelope_json_schema()
_body_schema = {"anyOf": [_envelope, {"type": "array", "items": _envelope, "maxItems": MAX_BATCH}]}


@router.post(
    "/events",
    status_code=202,
    response_model=AcceptedListOut,
    responses={422: {"model": ErrorOut}, 413: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    dependencies=[Roles("channel")],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _body_schema}},
        }
    },
)
async def publish_events(request: Request) -> Response:
    """Accept one source event (a JSON object) or a batch (a JSON array). Every event is
    validated first; if any is invalid nothing is published and the answer names each
    field at fault. Accepted events are acknowledged by the log before the answer. A key
    that names its source publishes only events of that `source` (403 otherwise)."""
    # The request alone, as a DirectRoute's endpoint takes it (issue 18): the services and
    # the caller (whom the route's Roles authenticated) come from it.
    services = services_of(request)
    caller = caller_of(request)
    raw = await request.body()  # bounded by JOURNEY_MAX_BODY_BYTES (api/middleware.py)
    try:
        body = strict_json(raw)  # the ingest's decoder too (contracts.envelope.decode)
    except ValueError as error:
        raise InvalidEvent([Problem("body", not_json(error))]) from None
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > MAX_BATCH:
        raise InvalidEvent([Problem("body", f"a batch holds 1 to {MAX_BATCH} events")])
    now = datetime.now(UTC)
    limits, topics = services.limits, services.topics
    max_future = limits.max_future_skew
    ruled_out = not may_hold_controls(raw)  # as the ingest does: no escape, no control
    events: list[SourceEvent] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        try:
            events.append(
                validate(item, now=now, max_future=max_future, controls_ruled_out=ruled_out)
            )
        except InvalidEvent as error:
            prefix = f"[{index}]." if isinstance(body, list) else ""
            problems += [Problem(prefix + p.field, p.reason) for p in error.problems]
    if problems:
        raise InvalidEvent(problems)
    foreign = sorted({e.envelope.source for e in events} - {caller.source or ""})
    if caller.source is not None and foreign:
        raise ApiError(
            403,
            "forbidden",
            f"source: this key publishes as {caller.source!r}, not {', '.join(map(repr, foreign))}",
        )
    records = [record_of(topics, event) for event in events]
    for event, record in zip(events, records, strict=True):
        if len(record.value) > limits.max_record_bytes:
            raise InvalidEvent(
                [Problem("body", f"event {event.event_id} is over the record limit")]
            )
    # The publisher is made on first use: a refused batch never opens a producer.
    placed = await services.publisher.publish_many_async(records)
    return accepted(events, placed)


def accepted(events: Sequence[SourceEvent], placed: Sequence[Coordinates]) -> Response:
    """The 202 answer: ``AcceptedListOut`` as FastAPI would render it (the route's response
    class, the model's fields in order), without validating and serialising a model this
    route has just made from values it holds."""
    return AnswerResponse(
        {
            "accepted": [
                {
                    "event_id": event.event_id,
                    "topic": c.topic,
                    "partition": c.partition,
                    "offset": c.offset,
                    "position": str(c),
                }
                for event, c in zip(events, placed, strict=True)
            ]
        },
        status_code=202,
    )

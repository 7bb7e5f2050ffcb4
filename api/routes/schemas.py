"""The channels' contracts, machine-readable: the AsyncAPI document of the Kafka topics and
the JSON Schema of every source event type (``contracts.asyncapi``), for any key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import ProtectedRoute, Roles
from api.deps import TopicsDep
from api.errors import ApiError
from api.schemas import ErrorOut
from api.schemas_views import AsyncApiOut, JsonSchemaOut
from contracts.asyncapi import document, event_json_schema
from contracts.schemas import EVENT_TYPES

router = APIRouter(
    prefix="/v1/schemas",
    tags=["channels"],
    route_class=ProtectedRoute,
    dependencies=[Roles("channel", "analyst", "auditor", "admin")],
)


class EventTypeOut(BaseModel):
    type: str
    family: str
    topic: str
    """The Kafka topic it is published on (keyed by ``customer_id``)."""
    latest_version: int
    versions: list[int]
    """Every ``schema_version`` accepted (older ones are upcast)."""
    schema_url: str


class EventTypesOut(BaseModel):
    items: list[EventTypeOut]


@router.get("/asyncapi", response_model=AsyncApiOut)
async def get_asyncapi_document(topics: TopicsDep) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the ingress topics (one message per event type: key,
    headers, payload) and the dead-letter topic (the refusal reasons), generated from the
    event registry: what a channel publishing over Kafka needs."""
    families: dict[str, str] = {f: f"{topics.prefix}{f}" for f in EVENT_TYPES.families()}
    return document(families, topics.dead_letters)


@router.get("/events", response_model=EventTypesOut)
async def list_event_types(topics: TopicsDep) -> EventTypesOut:
    """Every source event type, its topic and the versions accepted."""
    return EventTypesOut(
        items=[
            EventTypeOut(
                type=t.name,
                family=t.family,
                topic=topics.for_type(t.name),
                latest_version=t.latest,
                versions=sorted(t.versions),
                schema_url=f"/v1/schemas/events/{t.name}",
            )
            for t in sorted(EVENT_TYPES, key=lambda t: t.name)
        ]
    )


@router.get(
    "/events/{event_type}",
    response_model=JsonSchemaOut,
    responses={404: {"model": ErrorOut}},
)
async def get_event_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one event type's record value: the envelope with its
    ``data`` (latest version)."""
    known = EVENT_TYPES.get(event_type) if len(event_type) <= 100 else None
    if known is None:
        raise ApiError(
            404,
            "not_found",
            f"event_type: no event type {event_type[:100]!r} (GET /v1/schemas/events)",
        )
    return event_json_schema(known)

"""Dead letters: refused records kept for inspection, a page at a time, filtered; personal
fields masked for every role, nothing of an erased customer's records shown. Admins list
them all; a channel lists its own: those whose envelope ``source`` is the one its key
names (docs/security.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from adapters.privacy.personal import PersonalData
from adapters.sourcelog.base import Coordinates
from api.auth import CallerDep, ProtectedRoute, Roles
from api.deps import DeadLettersDep, PersonalDep, ReplayDeadLettersDep
from api.errors import ApiError
from api.schemas import ErrorOut
from api.services import ReadDeadLetters
from api.times import DATE_NOTE, From, To
from application.deadletter_query import DeadLetterFilter, InvalidCursor

router = APIRouter(prefix="/v1", route_class=ProtectedRoute)
MAX_PAGE = 500


class DeadLetterOut(BaseModel):
    dead_letter: str = Field(description="Where the letter is: topic:partition:offset.")
    dead_lettered_at: str
    source: str | None = Field(description="Where the refused record was.")
    source_topic: str | None
    source_partition: int | None
    source_offset: int | None
    published_by: str | None = Field(description="The envelope's `source`, if readable.")
    customer_id: str | None = Field(description="The record's key, else its `customer_id`.")
    event_id: str | None
    type: str | None
    reason: str
    named: list[str] = Field(description="The fields and rule ids the reason names.")
    original: str = Field(description="The refused bytes as `original_shown` says.")
    original_shown: Literal["masked", "opaque", "erased"] = Field(
        description="masked: JSON, personal fields as ***; opaque: not JSON or nested too"
        " deep, shown as its shape only; erased: a customer it names was erased."
    )
    original_bytes: int
    truncated: bool


class DeadLetterPageOut(BaseModel):
    count: int = Field(description="Dead letters ever written to the topic, whatever the filter.")
    items: list[DeadLetterOut] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


def _text(description: str) -> object:
    return Query(max_length=300, description=description)


Topic = Annotated[str | None, _text("The topic the refused record was on.")]
Type = Annotated[str | None, _text("The envelope's `type`.")]
Customer = Annotated[str | None, _text("The record's key or the envelope's `customer_id`.")]
Rule = Annotated[
    str | None,
    _text(
        "A rule id or field the reason names (R-CUS-02, data.consents); a field matches its"
        " parts too (data matches data.consents)."
    ),
]
PublishedBy = Annotated[str | None, _text("The publishing system: the envelope's `source`.")]
Since = Annotated[From | None, Query(description="Dead-lettered at or after." + DATE_NOTE)]
Until = Annotated[To | None, Query(description="Dead-lettered before." + DATE_NOTE)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"At most {MAX_PAGE} per page.")]
Cursor = Annotated[
    str | None, Query(max_length=2000, description="`next_cursor` of the previous page.")
]


def dead_letter_filter(
    *,
    topic: str | None,
    type: str | None,
    customer: str | None,
    rule: str | None,
    published_by: str | None,
    since: datetime | None,
    until: datetime | None,
) -> DeadLetterFilter:
    for name, at in (("since", since), ("until", until)):
        if at is not None and at.tzinfo is None:
            raise ApiError(422, "invalid_request", f"{name}: give a time with a UTC offset")
    return DeadLetterFilter(
        topic=topic,
        type=type,
        customer=customer,
        rule=rule,
        published_by=published_by,
        since=since,
        until=until,
    )


def _page(
    read: ReadDeadLetters,
    personal: PersonalData,
    where: DeadLetterFilter,
    cursor: str | None,
    limit: int,
) -> DeadLetterPageOut:
    try:
        page = read(where, cursor, limit)
    except InvalidCursor as error:
        raise ApiError(422, "invalid_cursor", str(error)) from None
    return DeadLetterPageOut(
        count=page.written,
        items=[
            DeadLetterOut(**letter.as_json(is_erased=personal.is_erased)) for letter in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/admin/deadletters",
    tags=["admins"],
    response_model=DeadLetterPageOut,
    responses={422: {"model": ErrorOut}},
    dependencies=[Roles("admin")],
)
async def list_dead_letters(
    read: DeadLettersDep,
    personal: PersonalDep,
    topic: Topic = None,
    type: Type = None,
    customer: Customer = None,
    rule: Rule = None,
    published_by: PublishedBy = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> DeadLetterPageOut:
    """Refused records kept for inspection (as ``journey deadletters list``), oldest first,
    a page at a time (``next_cursor``), filtered by source topic, event type, customer,
    rule or field named in the reason, publishing system, and when they were dead-lettered."""
    where = dead_letter_filter(
        topic=topic,
        type=type,
        customer=customer,
        rule=rule,
        published_by=published_by,
        since=since,
        until=until,
    )
    return await run_in_threadpool(_page, read, personal, where, cursor, limit)


class ReplayIn(BaseModel):
    sources: list[str] = Field(
        min_length=1,
        max_length=100,
        description="Source coordinates of refused records, `topic:partition:offset` (a"
        " letter's `source`).",
    )


class ReplayedOut(BaseModel):
    source: str | None
    event_id: str | None
    type: str | None
    replayed_to: str = Field(description="Where the original bytes landed again.")


class ReplayOut(BaseModel):
    replayed: list[ReplayedOut]


@router.post(
    "/admin/deadletters/replay",
    response_model=ReplayOut,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    dependencies=[Roles("admin")],
    tags=["admins"],
)
async def replay_dead_letters(replay: ReplayDeadLettersDep, body: ReplayIn) -> ReplayOut:
    """Publish the original bytes of the letters of ``sources`` back to their ingress
    topics, once each (as ``journey deadletters replay --source``), after the cause was
    fixed (a missing customer created, a channel corrected): the ingest decides them
    again. Letters of an erased customer have nothing to replay (404)."""
    try:
        sources = [Coordinates.parse(text) for text in body.sources]
    except ValueError as error:
        raise ApiError(422, "invalid_request", f"sources: {error}") from None
    try:
        done = await run_in_threadpool(replay, sources)
    except LookupError as error:
        raise ApiError(404, "not_found", str(error)) from None
    except ValueError as error:
        raise ApiError(422, "invalid_request", str(error)) from None
    return ReplayOut(replayed=[ReplayedOut(**item) for item in done])


class ChannelDeadLetterPageOut(BaseModel):
    source: str = Field(description="The publishing system this key names.")
    items: list[DeadLetterOut] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


@router.get(
    "/deadletters",
    tags=["channels"],
    response_model=ChannelDeadLetterPageOut,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    dependencies=[Roles("channel")],
)
async def list_own_dead_letters(
    caller: CallerDep,
    read: DeadLettersDep,
    personal: PersonalDep,
    topic: Topic = None,
    type: Type = None,
    customer: Customer = None,
    rule: Rule = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ChannelDeadLetterPageOut:
    """The channel's own refused records: most rule refusals answer 202 at publication and
    are refused when applied, so this is where a channel finds them. Letters whose envelope
    `source` is the one the key names (409 for a key that names none), personal fields
    masked; filters and pages as `GET /v1/admin/deadletters`."""
    if caller.source is None:
        raise ApiError(
            409,
            "no_source",
            "this channel key names no source; an admin makes one that does"
            " (journey keys create --role channel --source <system>)",
        )
    where = dead_letter_filter(
        topic=topic,
        type=type,
        customer=customer,
        rule=rule,
        published_by=caller.source,
        since=since,
        until=until,
    )
    page = await run_in_threadpool(_page, read, personal, where, cursor, limit)
    return ChannelDeadLetterPageOut(
        source=caller.source, items=page.items, next_cursor=page.next_cursor
    )

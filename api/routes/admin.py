"""Admins: API keys, the access log, the parked source events, the events read models
hold in quarantine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from adapters.security.access_log import MAX_PAGE
from adapters.security.apikeys import KeyInfo
from api.auth import ProtectedRoute, Roles
from api.deps import AccessLogDep, ApiKeysDep, ParkedDep, QuarantineDep, RateLimiterDep
from api.errors import ApiError
from api.paging import parked_cursor, read_parked_cursor
from api.params import IdCursor
from api.schemas import (
    AccessEntryOut,
    AccessLogPageOut,
    ErrorOut,
    KeyCreateIn,
    KeyIssuedOut,
    KeyListOut,
    KeyOut,
    ParkedEventOut,
    ParkedPageOut,
    QuarantinedOut,
    QuarantinePageOut,
)
from api.times import DATE_NOTE, From
from projections.parking import ParkedEvent

router = APIRouter(
    prefix="/v1/admin",
    tags=["admins"],
    route_class=ProtectedRoute,
    dependencies=[Roles("admin")],
)


def _key_out(info: KeyInfo) -> KeyOut:
    return KeyOut(
        key_id=info.key_id,
        role=info.role,
        label=info.label,
        source=info.source,
        created_at=info.created_at,
        revoked_at=info.revoked_at,
        active=info.active,
    )


@router.post(
    "/keys", status_code=201, response_model=KeyIssuedOut, responses={422: {"model": ErrorOut}}
)
async def create_key(keys: ApiKeysDep, body: KeyCreateIn) -> KeyIssuedOut:
    """A new key for a role. The answer holds the key itself, this once: only its hash is
    stored. A channel key may name its `source`: it then publishes only events of that
    source, and lists their dead letters (GET /v1/deadletters)."""
    try:
        issued = await run_in_threadpool(keys.create, body.role, body.label, body.source)
    except ValueError as error:
        raise ApiError(422, "invalid_request", str(error)) from None
    info = next(k for k in await run_in_threadpool(keys.list) if k.key_id == issued.key_id)
    return KeyIssuedOut(**_key_out(info).model_dump(), key=issued.secret_text)


@router.get("/keys", response_model=KeyListOut)
async def list_keys(keys: ApiKeysDep) -> KeyListOut:
    """Every key, active and revoked: id, role, label, when made and revoked (no secrets)."""
    listed = await run_in_threadpool(keys.list)
    return KeyListOut(items=[_key_out(info) for info in listed])


@router.delete(
    "/keys/{key_id}",
    response_model=KeyOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
async def revoke_key(keys: ApiKeysDep, rate_limiter: RateLimiterDep, key_id: str) -> KeyOut:
    """Revoke a key: it is refused from the next request on. Revoking a revoked key
    changes nothing. The last active admin key cannot be revoked here (that would lock
    every admin out); `journey keys revoke` can."""

    def revoke() -> KeyInfo:
        found = {info.key_id: info for info in keys.list()}
        info = found.get(key_id)
        if info is None:
            raise ApiError(404, "not_found", f"key_id: no key {key_id!r}")
        admins = [k for k in found.values() if k.active and k.role == "admin"]
        if info.active and admins == [info]:
            raise ApiError(409, "last_admin_key", "key_id: the last active admin key")
        keys.revoke(key_id)
        rate_limiter.forget(key_id)
        return next(k for k in keys.list() if k.key_id == key_id)

    return _key_out(await run_in_threadpool(revoke))


@router.get(
    "/access-log",
    response_model=AccessLogPageOut,
    responses={422: {"model": ErrorOut}},
)
async def list_access_log(
    log: AccessLogDep,
    subject: Annotated[
        str | None, Query(max_length=300, description="customer:<id> or case:<ref>")
    ] = None,
    key_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[From | None, Query(description="At or after." + DATE_NOTE)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[IdCursor | None, Query(max_length=19, pattern=r"^[0-9]+$")] = None,
) -> AccessLogPageOut:
    """Reads of clear personal data (auditors' and admins'), oldest first, a page at a
    time (``next_cursor``): who, which subject, which route, the status, when."""
    page = await run_in_threadpool(
        lambda: log.entries(
            subject=subject,
            key_id=key_id,
            since=since,
            after_id=int(cursor) if cursor else None,
            limit=limit,
        )
    )
    return AccessLogPageOut(
        items=[AccessEntryOut(**entry.as_json()) for entry in page.entries],
        next_cursor=None if page.next_after is None else str(page.next_after),
    )


MAX_PARKED_PAGE = 500


@router.get("/parked", response_model=ParkedPageOut, responses={422: {"model": ErrorOut}})
async def list_parked_events(
    index: ParkedDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PARKED_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=600, description="`next_cursor`.")] = None,
) -> ParkedPageOut:
    """Source events parked, waiting for the order, case, return, callback, contact, survey
    or customer they refer to (or its delivery, its resolution), the soonest to expire
    first, a page at a time (``next_cursor``): event id, type, customer, why it waits, its
    event time, when it expires (then it is dead-lettered), its source coordinates. Never
    its contents. As of the parked index (a read model: it may lag the store a little)."""
    after = None if cursor is None else read_parked_cursor(cursor)

    def read() -> tuple[int, list[ParkedEvent]]:
        return index.count(), index.listing(limit + 1, after)

    total, rows = await run_in_threadpool(read)
    shown = rows[:limit]
    return ParkedPageOut(
        total=total,
        items=[ParkedEventOut(**row.as_json()) for row in shown],
        next_cursor=parked_cursor(shown[-1].position) if len(rows) > limit else None,
    )


MAX_QUARANTINE_PAGE = 500
QUARANTINE_CURSOR = r"^[a-z0-9_]{1,64}:[0-9]{1,18}$"
"""``<read model>:<notification id>`` of the last item of the page before."""


@router.get("/quarantine", response_model=QuarantinePageOut, responses={422: {"model": ErrorOut}})
async def list_quarantined_events(
    held: QuarantineDep,
    read_model: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_QUARANTINE_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=83, pattern=QUARANTINE_CURSOR)] = None,
) -> QuarantinePageOut:
    """Stored events a read model (or the audit chain) could not apply, held aside for it
    while the others kept up, by read model and notification id, a page at a time
    (``next_cursor``), with ``counts`` per read model. Rebuilding a read model once the
    cause is fixed applies them again (``journey rebuild``)."""
    after: tuple[str, int] | None = None
    if cursor:
        name, _, number = cursor.partition(":")
        after = (name, int(number))

    def read() -> tuple[dict[str, int], list[QuarantinedOut]]:
        rows = held.page(read_model, after, limit + 1)
        return held.counts(), [QuarantinedOut(**row.as_json()) for row in rows]

    counts, rows = await run_in_threadpool(read)
    last = rows[limit - 1] if len(rows) > limit else None
    return QuarantinePageOut(
        counts=counts,
        items=rows[:limit],
        next_cursor=None if last is None else f"{last.read_model}:{last.notification_id}",
    )

"""Read-your-writes on any read route: ``consistent_with`` waits until the read models
include the given positions (docs/read-models.md "Read your writes").

The wait holds no thread: it runs in the event loop, sleeping with ``asyncio.sleep``
between steps of :class:`~application.consistency.PositionsCheck`, and only those steps (a
few reads each) go to the thread pool. A wait that held a thread for its whole length (up
to ``JOURNEY_CONSISTENCY_WAIT_MAX_S``) let a few dozen waiting reads take every worker
thread, and every other request, a channel's publish too, queued behind them.

A key may have at most ``JOURNEY_CONSISTENCY_WAITS_PER_KEY`` waits at once; one more is
answered 429 ``too_many_waits`` with ``Retry-After`` (the caller holds too many, as with the
rate limit), before it waits at all.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import CallerDep
from api.deps import ApplicationDep, LimitsDep, ProjectionsDep, TopicsDep
from api.errors import ApiError
from api.params import position
from application.consistency import NotYetConsistent, PositionsCheck

FIRST_PAUSE_S, LONGEST_PAUSE_S = 0.005, 0.1
"""Pauses between two steps of a wait: from 5 ms, doubling, to at most 100 ms."""


class WaitSlots:
    """How many reads of each key are waiting for consistency; at most ``per_key``."""

    def __init__(self, per_key: int) -> None:
        self.per_key = per_key
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()

    def active(self, key_id: str | None = None) -> int:
        """Waits now, of one key or of all."""
        with self._lock:
            return self._held[key_id] if key_id is not None else self._held.total()

    @contextmanager
    def hold(self, key_id: str) -> Iterator[None]:
        """One slot of ``key_id`` for the block; 429 if the key holds them all."""
        with self._lock:
            if self._held[key_id] >= self.per_key:
                raise ApiError(
                    429,
                    "too_many_waits",
                    f"consistent_with: this key already has {self.per_key} reads waiting"
                    " for consistency; retry when one has answered",
                    headers={"Retry-After": "1"},
                )
            self._held[key_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._held[key_id] -= 1
                if self._held[key_id] <= 0:
                    del self._held[key_id]


async def get_wait_slots(request: Request, limits: LimitsDep) -> WaitSlots:
    """The app's slots (``create_api`` makes them); our own for an app built otherwise."""
    slots = getattr(request.app.state, "consistency_waits", None)
    if not isinstance(slots, WaitSlots):
        slots = request.app.state.consistency_waits = WaitSlots(limits.consistency_waits_per_key)
    return slots


WaitSlotsDep = Annotated[WaitSlots, Depends(get_wait_slots)]


async def wait_until_reached(check: PositionsCheck, timeout_s: float) -> None:
    """Step ``check`` until it is reached, sleeping in the event loop between steps;
    NotYetConsistent after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    pause = FIRST_PAUSE_S
    while not await run_in_threadpool(check.reached):
        left = deadline - time.monotonic()
        if left <= 0:
            raise NotYetConsistent(f"not yet consistent: {check.missing()}")
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, LONGEST_PAUSE_S)


async def read_your_writes(
    app: ApplicationDep,
    projections: ProjectionsDep,
    limits: LimitsDep,
    topics: TopicsDep,
    caller: CallerDep,
    slots: WaitSlotsDep,
    consistent_with: Annotated[
        list[str] | None,
        Query(
            max_length=100,
            description="Positions (topic:partition:offset) from POST /v1/events that the"
            " answer must include; waits a bounded time for them (503 if not reached;"
            " 429 if this key has too many reads waiting already).",
        ),
    ] = None,
) -> None:
    """Read-your-writes: wait until every read model includes the given positions."""
    if not consistent_with:
        return
    ingress = set(topics.ingress)
    try:
        positions = [position(text, ingress) for text in consistent_with]
    except ValueError as error:
        raise ApiError(422, "invalid_position", f"consistent_with: {error}") from None
    check = PositionsCheck(app, projections, positions)
    if await run_in_threadpool(check.reached):
        return  # nothing to wait for: no slot taken
    with slots.hold(caller.key_id):
        await wait_until_reached(check, limits.consistency_wait_max_s)


Consistent = Depends(read_your_writes)
"""Add ``dependencies=[Consistent]`` to a read route to accept ``consistent_with``."""

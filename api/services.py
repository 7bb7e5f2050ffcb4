"""What the API needs of the process it serves in, named here so that the HTTP edge depends
on its own description and not on the composition root above it.

``journey.bootstrap.Runtime`` satisfies :class:`ApiServices` structurally (mypy checks it
wherever a ``Runtime`` is passed to ``api.main.create_api``); a test can pass anything else
that does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from adapters.privacy.personal import PersonalData
from adapters.security.access_log import AccessLog
from adapters.security.apikeys import ApiKeys
from adapters.security.ratelimit import RateLimiter
from adapters.sourcelog.base import Coordinates, Log, LogPublisher
from adapters.topics import Topics
from application.audit import Auditor
from application.deadletter_query import DeadLetterFilter
from application.erasure import ErasureReceipt
from application.rebuilds import RebuildJobs
from application.service import JourneyApplication
from projections.base import Projection
from projections.customer360 import Customer360
from projections.kpis import KpiCounters
from projections.ledger import ComplaintLedger
from projections.orders import OrdersAndReturns
from projections.parking import ParkedIndex
from projections.quarantine import Quarantine


@dataclass(frozen=True)
class ApiLimits:
    """The limits the API enforces (from the ``JOURNEY_*`` settings of the same names)."""

    max_body_bytes: int
    """The largest request body read (413 beyond it)."""
    max_record_bytes: int
    """The largest record one published event may make."""
    max_future_skew: timedelta
    """How far ``occurred_at`` may lie after the time the event was received."""
    consistency_wait_max_s: float
    """How long a read with ``consistent_with`` waits for the read models."""
    projection_stall_s: float
    """How long a read model behind the store's head may stay still before ``/readyz``
    reports it stalled."""
    consistency_waits_per_key: int = 16
    """How many reads of one API key may wait for ``consistent_with`` at once (429
    beyond)."""


class RunningWorkers(Protocol):
    """Background workers started for the API's lifetime, as ``/readyz`` inspects them."""

    @property
    def stop_event(self) -> threading.Event: ...

    @property
    def threads(self) -> Sequence[threading.Thread]: ...

    @property
    def failed(self) -> Mapping[str, str]:
        """Worker name → the error it stopped on."""
        ...

    def stop(self) -> None: ...


class DeadLetter(Protocol):
    """A refused record read back from the dead-letter topic."""

    def as_json(self, *, is_erased: Callable[[str], bool]) -> dict[str, Any]:
        """Its coordinates, reason and original, personal fields masked (nothing of the
        original once a customer it names ``is_erased``)."""
        ...


class DeadLetterPage(Protocol):
    """One page of the dead letters a filter admits, oldest first."""

    @property
    def items(self) -> Sequence[DeadLetter]: ...

    @property
    def next_cursor(self) -> str | None:
        """Where the next page starts (opaque); None on the last page."""
        ...

    @property
    def written(self) -> int:
        """Letters ever written to the topic, whatever the filter."""
        ...


ReadDeadLetters = Callable[[DeadLetterFilter, str | None, int], DeadLetterPage]
"""``(filter, cursor, limit)`` → a page; ``application.deadletter_query.InvalidCursor`` for
a cursor no page gave."""


ReplayDeadLetters = Callable[[Sequence[Coordinates]], list[dict[str, Any]]]
"""Source coordinates → what each replayed letter became; LookupError for a source with
no letter, ValueError for one outside the ingress topics."""


class EraseCustomer(Protocol):
    def __call__(
        self, customer_id: str, requested_by: str, reason: str | None = None
    ) -> ErasureReceipt: ...


class ApiServices(Protocol):
    """Everything the routes, the auth checks and the app's life use."""

    @property
    def app(self) -> JourneyApplication:
        """The event-sourced application: stored events and tracking records."""
        ...

    @property
    def projections(self) -> Sequence[Projection]: ...

    @property
    def ledger(self) -> ComplaintLedger: ...

    @property
    def customers(self) -> Customer360: ...

    @property
    def orders(self) -> OrdersAndReturns:
        """One row per order and per return (R-ORD, R-REF)."""
        ...

    @property
    def kpis(self) -> KpiCounters: ...

    @property
    def parked(self) -> ParkedIndex:
        """The parked source events (``domain.parking``)."""
        ...

    @property
    def quarantine(self) -> Quarantine:
        """Events read models could not apply (``projections.quarantine``)."""
        ...

    @property
    def auditor(self) -> Auditor: ...

    @property
    def personal(self) -> PersonalData: ...

    @property
    def api_keys(self) -> ApiKeys: ...

    @property
    def access_log(self) -> AccessLog: ...

    @property
    def rate_limiter(self) -> RateLimiter: ...

    @property
    def rebuilds(self) -> RebuildJobs: ...

    @property
    def registry(self) -> CollectorRegistry: ...

    @property
    def log(self) -> Log: ...

    @property
    def topics(self) -> Topics: ...

    @property
    def publisher(self) -> LogPublisher:
        """Made on first use."""
        ...

    @property
    def limits(self) -> ApiLimits: ...

    def dead_letters(
        self, where: DeadLetterFilter, cursor: str | None, limit: int
    ) -> DeadLetterPage: ...

    def replay_dead_letters(self, sources: Sequence[Coordinates]) -> list[dict[str, Any]]:
        """Publish the original bytes of the dead letters of ``sources`` back to their
        ingress topics; what each became (LookupError for a source with no letter)."""
        ...

    def watermark(self) -> datetime | None:
        """The instant the SLA timer judges deadlines at (the latest event time, or now in
        wall-clock mode): the ledger shows an open clock past due then as overdue."""
        ...

    @property
    def report_zone(self) -> tzinfo:
        """The report time zone (``JOURNEY_REPORT_TZ``): the days of a report and the
        offset of every time in an answer, unless a request names its own (``tz``)."""
        ...

    def erase_customer(
        self, customer_id: str, requested_by: str, reason: str | None = None
    ) -> ErasureReceipt: ...

    def start_workers(self, names: Collection[str]) -> RunningWorkers: ...

"""Dependency aliases for routes: each names the one service a route uses, read from the
:class:`~api.services.ApiServices` that ``create_api`` keeps in ``app.state.services``
(at each request, so a service replaced after the app was made is the one used)."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from adapters.privacy.personal import PersonalData
from adapters.security.access_log import AccessLog
from adapters.security.apikeys import ApiKeys
from adapters.security.ratelimit import RateLimiter
from adapters.sourcelog.base import Log
from adapters.topics import Topics
from api.services import (
    ApiLimits,
    ApiServices,
    EraseCustomer,
    ReadDeadLetters,
    ReplayDeadLetters,
)
from application.audit import Auditor
from application.rebuilds import RebuildJobs
from application.service import JourneyApplication
from application.status import StallWatch
from projections.base import Projection
from projections.customer360 import Customer360
from projections.kpis import KpiCounters
from projections.ledger import ComplaintLedger
from projections.orders import OrdersAndReturns
from projections.parking import ParkedIndex
from projections.quarantine import Quarantine


def services_of(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


# The getters are ``async`` only so that FastAPI calls them in the event loop: they read
# attributes, not worth a trip to the thread pool.


async def get_application(request: Request) -> JourneyApplication:
    return services_of(request).app


async def get_projections(request: Request) -> Sequence[Projection]:
    return services_of(request).projections


async def get_ledger(request: Request) -> ComplaintLedger:
    return services_of(request).ledger


async def get_customers(request: Request) -> Customer360:
    return services_of(request).customers


async def get_orders(request: Request) -> OrdersAndReturns:
    return services_of(request).orders


async def get_kpis(request: Request) -> KpiCounters:
    return services_of(request).kpis


async def get_parked(request: Request) -> ParkedIndex:
    return services_of(request).parked


async def get_quarantine(request: Request) -> Quarantine:
    return services_of(request).quarantine


async def get_auditor(request: Request) -> Auditor:
    return services_of(request).auditor


async def get_personal(request: Request) -> PersonalData:
    return services_of(request).personal


async def get_api_keys(request: Request) -> ApiKeys:
    return services_of(request).api_keys


async def get_access_log(request: Request) -> AccessLog:
    return services_of(request).access_log


async def get_rate_limiter(request: Request) -> RateLimiter:
    return services_of(request).rate_limiter


async def get_rebuilds(request: Request) -> RebuildJobs:
    return services_of(request).rebuilds


async def get_registry(request: Request) -> CollectorRegistry:
    return services_of(request).registry


async def get_log(request: Request) -> Log:
    return services_of(request).log


async def get_topics(request: Request) -> Topics:
    return services_of(request).topics


async def get_limits(request: Request) -> ApiLimits:
    return services_of(request).limits


async def get_dead_letters(request: Request) -> ReadDeadLetters:
    return services_of(request).dead_letters


async def get_replay_dead_letters(request: Request) -> ReplayDeadLetters:
    return services_of(request).replay_dead_letters


async def get_erase_customer(request: Request) -> EraseCustomer:
    return services_of(request).erase_customer


async def get_watermark(request: Request) -> Callable[[], datetime | None]:
    return services_of(request).watermark


ApplicationDep = Annotated[JourneyApplication, Depends(get_application)]
ProjectionsDep = Annotated[Sequence[Projection], Depends(get_projections)]
LedgerDep = Annotated[ComplaintLedger, Depends(get_ledger)]
CustomersDep = Annotated[Customer360, Depends(get_customers)]
OrdersDep = Annotated[OrdersAndReturns, Depends(get_orders)]
KpisDep = Annotated[KpiCounters, Depends(get_kpis)]
ParkedDep = Annotated[ParkedIndex, Depends(get_parked)]
QuarantineDep = Annotated[Quarantine, Depends(get_quarantine)]
AuditorDep = Annotated[Auditor, Depends(get_auditor)]
PersonalDep = Annotated[PersonalData, Depends(get_personal)]
ApiKeysDep = Annotated[ApiKeys, Depends(get_api_keys)]
AccessLogDep = Annotated[AccessLog, Depends(get_access_log)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
RebuildsDep = Annotated[RebuildJobs, Depends(get_rebuilds)]
RegistryDep = Annotated[CollectorRegistry, Depends(get_registry)]
LogDep = Annotated[Log, Depends(get_log)]
TopicsDep = Annotated[Topics, Depends(get_topics)]
LimitsDep = Annotated[ApiLimits, Depends(get_limits)]
DeadLettersDep = Annotated[ReadDeadLetters, Depends(get_dead_letters)]
ReplayDeadLettersDep = Annotated[ReplayDeadLetters, Depends(get_replay_dead_letters)]
"""Reads one page of dead letters when called."""
EraseCustomerDep = Annotated[EraseCustomer, Depends(get_erase_customer)]
WatermarkDep = Annotated[Callable[[], datetime | None], Depends(get_watermark)]
"""Reads the SLA timer's watermark when called (``ApiServices.watermark``)."""


async def get_stall_watch(request: Request, limits: LimitsDep) -> StallWatch:
    """The app's watch (``create_api`` makes one); one of our own for an app built
    otherwise."""
    watch = getattr(request.app.state, "stall_watch", None)
    if not isinstance(watch, StallWatch):
        watch = request.app.state.stall_watch = StallWatch(limits.projection_stall_s)
    return watch


StallWatchDep = Annotated[StallWatch, Depends(get_stall_watch)]

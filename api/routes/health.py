"""Liveness (``/healthz``: the process answers, no I/O) and readiness (``/readyz``: the
event store and the log answer, no read model stalled, no background worker died)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.sourcelog.base import Log
from adapters.topics import Topics
from api.deps import (
    ApplicationDep,
    LogDep,
    ProjectionsDep,
    QuarantineDep,
    StallWatchDep,
    TopicsDep,
)
from api.routing import StrictQueryRoute
from api.services import RunningWorkers
from application.service import JourneyApplication
from application.status import StallWatch
from projections.base import Projection
from projections.quarantine import Quarantine

router = APIRouter(tags=["operations"], route_class=StrictQueryRoute)

OK = "ok"


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    ready: bool
    status: Literal["ready", "degraded", "not ready"]
    """``degraded``: ready, but a read model holds events it could not apply
    (``degraded``)."""
    checks: dict[str, str]
    """Check name (``event_store``, ``log``, ``projection:<name>``, ``worker:<name>``) →
    ``ok`` or what is wrong."""
    degraded: dict[str, str] = {}
    """Read model → how many stored events it holds in quarantine, while it keeps up with
    the rest (``GET /v1/admin/quarantine``)."""


@router.get("/healthz", response_model=HealthOut)
def check_liveness() -> HealthOut:
    """The process is up and answers (no I/O: a slow store does not make it restart)."""
    return HealthOut(status="up")


def _workers(request: Request) -> dict[str, str]:
    checks: dict[str, str] = {}
    workers: RunningWorkers | None = getattr(request.app.state, "workers", None)
    if workers is None:
        return checks
    for name, failure in list(workers.failed.items()):
        checks[f"worker:{name}"] = f"stopped: {failure}"
    if not workers.stop_event.is_set():
        for thread in list(workers.threads):
            if not thread.is_alive():
                checks.setdefault(f"worker:{thread.name}", "stopped")
    return checks


def _store_and_projections(
    application: JourneyApplication, projections: Sequence[Projection], watch: StallWatch
) -> dict[str, str]:
    try:
        head = application.process_recorder.max_notification_id() or 0
        positions = {p.name: p.position() for p in projections}
    except Exception as error:  # readiness reports, it does not raise
        return {"event_store": f"unreachable: {type(error).__name__}"}
    checks = {"event_store": OK} | {f"projection:{name}": OK for name in positions}
    for stall in watch.check(positions, head):
        checks[f"projection:{stall.name}"] = (
            f"stalled: at {stall.position} of {stall.head} and not moved for"
            f" {stall.still_s:.0f} s (limit {watch.stall_s:g} s)"
        )
    return checks


def _quarantined(quarantine: Quarantine) -> dict[str, str]:
    try:
        counts = quarantine.counts()
    except Exception:  # readiness reports, it does not raise; the store check says why
        return {}
    return {
        name: f"{count} stored event{'s' if count != 1 else ''} held in quarantine"
        for name, count in counts.items()
    }


def _log(log: Log, topics: Topics) -> dict[str, str]:
    try:
        admin = log.admin()
        try:
            admin.partitions_for(topics.ingress[0])
        finally:
            admin.close()
    except Exception as error:  # readiness reports, it does not raise
        return {"log": f"unreachable: {type(error).__name__}"}
    return {"log": OK}


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "a check failed: see checks"}},
)
def check_readiness(
    request: Request,
    application: ApplicationDep,
    projections: ProjectionsDep,
    log: LogDep,
    topics: TopicsDep,
    watch: StallWatchDep,
    quarantine: QuarantineDep,
) -> JSONResponse:
    """Ready when the event store and the log answer, no read model is stalled (behind the
    store's head and not moving for ``JOURNEY_PROJECTION_STALL_S``) and no background
    worker of this process stopped; else 503 with every check and what failed. Ready but
    ``degraded`` (still 200) when a read model holds stored events in quarantine: it
    serves, and keeps up with everything else (``projections.quarantine``)."""
    checks = _workers(request)
    checks |= _store_and_projections(application, projections, watch)
    checks |= _log(log, topics)
    degraded = _quarantined(quarantine)
    ready = all(value == OK for value in checks.values())
    status = "not ready" if not ready else "degraded" if degraded else "ready"
    body = ReadyOut(ready=ready, status=status, checks=checks, degraded=degraded)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

"""Admin maintenance: rebuild a read model (dead letters: ``api.routes.deadletters``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.auth import ProtectedRoute, Roles
from api.deps import RebuildsDep
from api.errors import ApiError
from api.schemas import ErrorOut
from application.rebuilds import AlreadyRebuilding, RebuildJob, UnknownReadModel

router = APIRouter(prefix="/v1/admin", tags=["admins"], route_class=ProtectedRoute)
ADMIN = Roles("admin")


class RebuildIn(BaseModel):
    read_model: str = Field(min_length=1, max_length=100, description="e.g. complaint_ledger")


class RebuildOut(BaseModel):
    job_id: str
    read_model: str
    state: Literal["running", "swapped", "failed"]
    started_at: str
    position: int | None = Field(description="Notification reached so far.")
    head: int | None = Field(description="The store's head when last reported.")
    applied: int | None
    events_per_s: float | None
    error: str | None


class RebuildListOut(BaseModel):
    items: list[RebuildOut]


def _out(job: RebuildJob) -> RebuildOut:
    progress = job.progress
    return RebuildOut(
        job_id=job.job_id,
        read_model=job.read_model,
        state=job.state,
        started_at=job.started_at.isoformat(),
        position=progress.position if progress else None,
        head=progress.head if progress else None,
        applied=progress.applied if progress else None,
        events_per_s=round(progress.rate, 1) if progress else None,
        error=job.error,
    )


@router.post(
    "/rebuilds",
    status_code=202,
    response_model=RebuildOut,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    dependencies=[ADMIN],
)
async def start_rebuild(rebuilds: RebuildsDep, body: RebuildIn) -> RebuildOut:
    """Rebuild a read model from position zero while the live copy serves, then swap
    (as ``journey rebuild``); follow it at ``GET /v1/admin/rebuilds/{job_id}``."""
    try:
        return _out(rebuilds.start(body.read_model))
    except UnknownReadModel as error:
        raise ApiError(422, "invalid_request", str(error)) from None
    except AlreadyRebuilding as error:
        raise ApiError(409, "conflict", str(error)) from None


@router.get("/rebuilds", response_model=RebuildListOut, dependencies=[ADMIN])
async def list_rebuilds(rebuilds: RebuildsDep) -> RebuildListOut:
    """Rebuilds started by this API process, oldest first."""
    return RebuildListOut(items=[_out(job) for job in rebuilds.all()])


@router.get(
    "/rebuilds/{job_id}",
    response_model=RebuildOut,
    responses={404: {"model": ErrorOut}},
    dependencies=[ADMIN],
)
async def get_rebuild(
    rebuilds: RebuildsDep, job_id: Annotated[str, Path(max_length=64)]
) -> RebuildOut:
    job = rebuilds.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"job_id: no rebuild {job_id!r}")
    return _out(job)

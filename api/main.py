"""The FastAPI application: routers collected, errors mapped, workers tied to its life."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import cases, complaints, customers, events, health, kpis, metrics
from journey.bootstrap import Runtime
from journey.settings import WorkerName


def create_api(runtime: Runtime, workers: set[WorkerName] | None = None) -> FastAPI:
    """The API over ``runtime``; ``workers`` run in the background while it serves."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        running = runtime.start_workers(workers or set())
        app.state.workers = running
        try:
            yield
        finally:
            running.stop()

    app = FastAPI(
        title="Service-journey backend",
        version="0.1.0",
        summary="Customer-service journeys as immutable events: publish, query, audit.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    errors.install(app)
    app.include_router(health.router)
    app.include_router(events.router)
    app.include_router(complaints.router)
    app.include_router(customers.router)
    app.include_router(kpis.router)
    app.include_router(cases.router)
    app.include_router(metrics.router)
    return app

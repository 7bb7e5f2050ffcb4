"""The FastAPI application: routers collected, errors mapped, hostile input refused, each
request logged and measured, workers tied to its life."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from adapters.metrics import http_metrics
from api import errors
from api.consistency import WaitSlots
from api.console import pages
from api.console.assets import VENDOR, Assets
from api.middleware import BodyGuard, RequestContext, document_answers
from api.routes import (
    admin,
    audit,
    cases,
    complaints,
    customers,
    deadletters,
    events,
    health,
    kpis,
    ledger_counts,
    maintenance,
    metrics,
    order_counts,
    orders,
    privacy,
    schemas,
    session,
)
from api.routing import AUDIENCES, operation_id
from api.services import ApiServices
from application.status import StallWatch


def create_api(
    services: ApiServices, workers: Collection[str] | None = None, assets: Assets | None = None
) -> FastAPI:
    """The API over ``services`` (the composition root's ``Runtime``); ``workers`` (by
    name) run in the background while it serves; the console and /docs use the browser
    ``assets`` (default: the package's vendored ones)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        running = services.start_workers(workers or set())
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
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        openapi_tags=[{"name": name, "description": text} for name, text in AUDIENCES.items()],
    )
    limits = services.limits
    app.state.services = services
    app.state.stall_watch = StallWatch(limits.projection_stall_s)
    app.state.consistency_waits = WaitSlots(limits.consistency_waits_per_key)
    errors.install(app)
    # Added last runs first: RequestContext wraps BodyGuard, so a request refused for its
    # body is logged and counted too, and an error in BodyGuard ends as the JSON 500.
    measured = http_metrics(services.registry)
    app.add_middleware(BodyGuard, max_body_bytes=limits.max_body_bytes, metrics=measured)
    app.add_middleware(RequestContext, metrics=measured)
    app.include_router(health.router)
    app.include_router(events.router)
    app.include_router(complaints.router)
    app.include_router(ledger_counts.router)
    app.include_router(order_counts.router)
    app.include_router(customers.router)
    app.include_router(orders.router)
    app.include_router(kpis.router)
    app.include_router(cases.router)
    app.include_router(audit.router)
    app.include_router(metrics.router)
    app.include_router(admin.router)
    app.include_router(privacy.router)
    app.include_router(maintenance.router)
    app.include_router(deadletters.router)
    app.include_router(schemas.router)
    app.include_router(session.router)
    pages.install(app, assets or Assets(VENDOR))

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_answers(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

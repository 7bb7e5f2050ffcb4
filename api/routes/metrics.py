"""Prometheus metrics: the ingest counters of this process, and the lag of every ingress
partition and read model read from the log and the store on each scrape."""

from fastapi import APIRouter, Response

from adapters.metrics import CONTENT_TYPE, render
from api.deps import RegistryDep
from api.routing import StrictQueryRoute

router = APIRouter(tags=["operations"], route_class=StrictQueryRoute)
"""Open without a key (api.auth.PUBLIC_PATHS): scrapers hold no key."""


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
)
def get_metrics(registry: RegistryDep) -> Response:
    """Ingest counters of this process; lag of every ingress partition and read model."""
    # A plain ``def``: the scrape reads the log and the store, in FastAPI's thread pool.
    return Response(render(registry), media_type=CONTENT_TYPE)

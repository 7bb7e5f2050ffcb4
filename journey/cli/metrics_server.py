"""``/metrics`` for the workers that run without the API (``journey ingest``, ``project``,
``timer`` in scaled mode): with ``JOURNEY_METRICS_PORT`` set, a small HTTP server of the
client library serves the runtime's registry on it — this process's own counts (what the
ingest workers of this process did) and what every scrape reads from the log and the store.
``journey serve`` has ``/metrics`` on its API port already."""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import start_http_server

from journey.bootstrap import Runtime

logger = logging.getLogger("journey.cli")


def serve_metrics(runtime: Runtime) -> Callable[[], None]:
    """Start serving ``/metrics`` if the settings name a port; returns how to stop it."""
    port = runtime.settings.metrics_port
    if port is None:
        return lambda: None
    server, thread = start_http_server(port, addr=runtime.settings.host, registry=runtime.registry)
    logger.info(
        "serving /metrics", extra={"host": runtime.settings.host, "port": server.server_port}
    )

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop

"""Where the publishing commands (``journey simulate``, ``import``, ``deadletters replay``)
publish: a running service over HTTP (``--url`` with a channel key) or the configured log.
Part of the composition root (``journey.bootstrap`` builds the log itself)."""

from __future__ import annotations

from datetime import timedelta

from adapters.http_publisher import HttpPublisher
from adapters.sourcelog.base import LogPublisher
from adapters.topics import Topics
from journey.settings import Settings
from tools.importers.pipeline import Outlet


def log_description(settings: Settings) -> str:
    """Where the configured log is, for ``publishing to ...``."""
    if settings.log_backend == "kafka":
        return f"Kafka at {settings.kafka_bootstrap}"
    return f"the embedded log in {settings.data_dir.resolve()}"


def embedded_log_missing(settings: Settings) -> bool:
    """The embedded log was never created in the data folder (a fresh folder): publishing
    there would start a store that no running service reads."""
    return settings.log_backend == "embedded" and not (settings.data_dir / "log.sqlite").exists()


def http_publisher(settings: Settings, url: str, key: str) -> HttpPublisher:
    """Publishes through a running service's ``POST /v1/events`` with a channel key, within
    the body limit of these settings (the service's default unless both are configured
    alike)."""
    return HttpPublisher(url, key, max_body_bytes=settings.max_body_bytes)


def topics(settings: Settings) -> Topics:
    return Topics(settings.topic_prefix, settings.topic_partitions, settings.log_retention_days)


def outlet(settings: Settings, publisher: LogPublisher) -> Outlet:
    """Where importers publish, with the API's validation limits."""
    return Outlet(
        publisher=publisher,
        topics=topics(settings),
        max_future=timedelta(seconds=settings.max_future_skew_s),
        max_record_bytes=settings.max_record_bytes,
    )

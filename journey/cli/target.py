"""Where ``journey simulate``, ``import`` and ``deadletters replay`` publish, and saying so.

- ``--url`` with ``--key`` (or ``JOURNEY_API_URL`` / ``JOURNEY_API_KEY``): a running
  service's ``POST /v1/events`` with a channel key (``adapters.http_publisher``);
- otherwise the configured log: Kafka, or the embedded log in the data folder.

Each command says where, in one line on stderr (a log line of ``journey.publish``:
``publishing to http://127.0.0.1:8000 (key ch_…)``), before it publishes. ``simulate`` and
``import`` refuse (usage, exit 2) to start a new embedded store in a folder that has none
(a fresh data folder: most likely the command was run from another folder than the
service's, and the service would never see the records) unless ``--new-store`` is given.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from adapters.http_publisher import HttpPublisher
from adapters.sourcelog.base import LogPublisher
from adapters.topics import Topics
from journey.bootstrap import Runtime, build
from journey.cli.arguments import UsageError
from journey.settings import Settings
from tools.importers.pipeline import Outlet

logger = logging.getLogger("journey.publish")


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


def add_options(parser: argparse.ArgumentParser, *, new_store: bool) -> None:
    """``--url`` and ``--key`` (and ``--new-store`` for commands that may start a store)."""
    parser.add_argument(
        "--url",
        default=None,
        metavar="URL",
        help="publish through the running service at URL (POST /v1/events) instead of the"
        " configured log (default: JOURNEY_API_URL)",
    )
    parser.add_argument(
        "--key",
        default=None,
        metavar="KEY",
        help="the channel key for --url (default: JOURNEY_API_KEY)",
    )
    if new_store:
        parser.add_argument(
            "--new-store",
            action="store_true",
            help="without --url: publish to the embedded log even if the data folder holds"
            " none yet (starts a new store there)",
        )


def remote(args: argparse.Namespace) -> tuple[str, str] | None:
    """The service's URL and channel key, if the command is to publish over HTTP."""
    url = args.url or os.environ.get("JOURNEY_API_URL") or None
    key = args.key or os.environ.get("JOURNEY_API_KEY") or None
    if url is None:
        if args.key:
            raise UsageError("--key is for --url (a running service)", f"journey {args.command}")
        return None
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url: not an http(s) URL: {url!r}", f"journey {args.command}")
    if key is None:
        raise UsageError(
            "--url needs a channel key: --key or JOURNEY_API_KEY (make run prints one)",
            f"journey {args.command}",
        )
    return url, key


def announce(where: str) -> None:
    """One line on stderr, in the log format (JSON when stderr is not a terminal)."""
    logger.info("publishing to %s", where)


@dataclass
class Target:
    publisher: LogPublisher
    topics: Topics
    runtime: Runtime | None
    """Built only when publishing to the configured log."""


@contextmanager
def publishing(settings: Settings, args: argparse.Namespace) -> Iterator[Target]:
    """The publisher the command's arguments choose, announced; closed afterwards."""
    chosen = remote(args)
    if chosen is not None:
        publisher = http_publisher(settings, *chosen)
        announce(publisher.describe())
        try:
            yield Target(publisher, topics(settings), None)
        finally:
            publisher.close()
        return
    if getattr(args, "new_store", None) is False and embedded_log_missing(settings):
        raise UsageError(
            f"{args.command}: no embedded log in {settings.data_dir.resolve()} (a fresh data"
            " folder: a running service would never see these records); publish to the"
            " service with --url and --key (or JOURNEY_API_URL, JOURNEY_API_KEY), point"
            " JOURNEY_DATA_DIR at its data folder, or give --new-store to start one here",
            f"journey {args.command}",
        )
    announce(log_description(settings))
    runtime = build(settings)
    try:
        runtime.create_topics()
        yield Target(runtime.publisher, runtime.topics, runtime)
    finally:
        runtime.close()

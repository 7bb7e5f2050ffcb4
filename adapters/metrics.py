"""Prometheus metrics of the ingest path, the log and the read models.

Three kinds, in one registry that the composition root builds (nothing registers at import):

- **Counted by this process** (:class:`IngestMetrics`): records by outcome once their batch
  is stored, the size and duration of each partition's batch, dead letters published.
  They count what the ingest workers of *this* process did.
- **Read from the log and the store on each scrape** (``adapters.status_metrics``,
  :class:`StatusCollector`): the same whichever process serves them.
- **Counted by the API of this process** (:class:`HttpMetrics`): requests by route template,
  method and status class, their latency, and the events ``POST /v1/events`` accepted.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections import Counter as Counter_
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client import generate_latest as _generate_latest

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
BATCH_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
REQUEST_SECONDS_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
)  # fmt: skip
UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route matched: raw paths would let clients create series."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class IngestMetrics:
    """What the ingest workers of this process count. Every worker built by one runtime
    records into the same instance."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._records = Counter(
            "journey_ingest_records",
            "Ingress records whose partition batch was stored, by outcome: applied (recorded"
            " new events), refused (dead-lettered), parked (waiting for the order, case..."
            " they refer to), ignored (valid but changed nothing, such as an event_id"
            " already applied).",
            ["topic", "outcome"],
            registry=registry,
        )
        self._batch_records = Histogram(
            "journey_ingest_batch_records",
            "Records in one partition's batch (decided and stored in one transaction).",
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self._batch_seconds = Histogram(
            "journey_ingest_batch_seconds",
            "Time to decode, decide, dead-letter, store and commit one partition's batch.",
            buckets=BATCH_SECONDS_BUCKETS,
            registry=registry,
        )
        self._dead_letters = Counter(
            "journey_dead_letters_published",
            "Records published to the dead-letter topic, by source topic and reason (the rule"
            " id, or the envelope field at fault, or not_arrived for a parked event whose"
            " prerequisite never came; at least once: a batch redone after a crash or a lost"
            " partition publishes its letters again).",
            ["topic", "reason"],
            registry=registry,
        )
        self._cache_lookups = Counter(
            "journey_ingest_cache_lookups",
            "Aggregate lookups of the ingest's aggregate cache: hit (answered from memory,"
            " including ids known to have no events) or miss (asked the store).",
            ["result"],
            registry=registry,
        )
        self._cache_forgotten = Counter(
            "journey_ingest_cache_forgotten",
            "Cached aggregates forgotten before a batch because another writer (the clock"
            " timer, another group member) changed them.",
            registry=registry,
        )

    def batch_stored(
        self,
        topic: str,
        *,
        applied: int,
        refused: int,
        ignored: int,
        seconds: float,
        parked: int = 0,
    ) -> None:
        outcomes = (
            ("applied", applied),
            ("refused", refused),
            ("parked", parked),
            ("ignored", ignored),
        )
        for outcome, count in outcomes:
            self._records.labels(topic=topic, outcome=outcome).inc(count)
        self._batch_records.observe(applied + refused + parked + ignored)
        self._batch_seconds.observe(seconds)

    def dead_lettered(self, topic: str, reasons: Iterable[str]) -> None:
        """Letters published for records of ``topic``, one per reason text."""
        for label, count in Counter_(reason_label(reason) for reason in reasons).items():
            self._dead_letters.labels(topic=topic, reason=label).inc(count)

    def cache_used(self, *, hits: int, misses: int, forgotten: int) -> None:
        self._cache_lookups.labels(result="hit").inc(hits)
        self._cache_lookups.labels(result="miss").inc(misses)
        self._cache_forgotten.inc(forgotten)


RULE_FAMILIES = ("RESP", "PRI", "CMP", "CH", "CUS", "ORD", "REF", "SAT", "KPI")
REASON_FIELDS = frozenset(
    {
        "event_id", "type", "occurred_at", "channel", "customer_id", "source",
        "schema_version", "data", "body", "value", "key", "timestamp", "record", "headers",
    }
)  # fmt: skip
_RULE = re.compile(rf"^(R-(?:{'|'.join(RULE_FAMILIES)})-(?:0[1-9]|1[0-9]|20))\b")


def reason_label(reason: str) -> str:
    """A dead letter's reason as a metric label from a bounded set: the service rule it
    names first (``R-CMP-01``), else the envelope field at fault (``data`` for any field of
    the payload, ``body`` for bytes that are no event), ``not_arrived`` for a parked event
    whose prerequisite never came, else ``other``. Never text the record chose: a label
    per field name a producer can invent would let it create series without bound."""
    rule = _RULE.match(reason)
    if rule is not None:
        return rule.group(1)
    if "not arrived within" in reason:
        return "not_arrived"
    field = reason.partition(":")[0].strip().partition(".")[0].partition("[")[0]
    return field if field in REASON_FIELDS else "other"


def new_registry() -> CollectorRegistry:
    """The registry of a runtime's metrics, scraped without ``_created`` series: the
    client library adds one per counter and histogram series by default, doubling what a
    scrape carries for a value Prometheus does not use. The switch is the library's, for
    the whole process; the composition root turns it when it builds a runtime."""
    disable_created_metrics()  # type: ignore[no-untyped-call]
    return CollectorRegistry()


def status_class(status: int) -> str:
    """``2xx``, ``4xx``...: the label of a response status (a bounded set)."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


class HttpMetrics:
    """What the API of this process counts. The route label is the route's template
    (``/v1/customers/{customer_id}``), never the raw path, so ids do not multiply series."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            "journey_http_requests",
            "HTTP requests answered, by route template, method and status class.",
            ["route", "method", "status_class"],
            registry=registry,
        )
        self._seconds = Histogram(
            "journey_http_request_seconds",
            "Time from a request's arrival to the end of its answer, by route template,"
            " method and status class.",
            ["route", "method", "status_class"],
            buckets=REQUEST_SECONDS_BUCKETS,
            registry=registry,
        )
        self._in_flight = Gauge(
            "journey_http_requests_in_flight",
            "HTTP requests being served now.",
            registry=registry,
        )
        self._published = Counter(
            "journey_events_published",
            "Source events accepted by POST /v1/events (acknowledged by the log), by type.",
            ["type"],
            registry=registry,
        )

    def started(self) -> None:
        self._in_flight.inc()

    def answered(self, route: str, method: str, status: int, seconds: float) -> None:
        labels = (route, method if method in METHODS else "other", status_class(status))
        self._in_flight.dec()
        self._requests.labels(*labels).inc()
        self._seconds.labels(*labels).observe(seconds)

    def published(self, event_type: str, count: int = 1) -> None:
        self._published.labels(type=event_type).inc(count)


_http_metrics: weakref.WeakKeyDictionary[CollectorRegistry, HttpMetrics] = (
    weakref.WeakKeyDictionary()
)
_http_metrics_lock = threading.Lock()


def http_metrics(registry: CollectorRegistry) -> HttpMetrics:
    """The :class:`HttpMetrics` of ``registry``, registered on the first call: every API
    built over one runtime counts into the same series (a registry refuses a second set)."""
    with _http_metrics_lock:
        metrics = _http_metrics.get(registry)
        if metrics is None:
            metrics = _http_metrics[registry] = HttpMetrics(registry)
        return metrics


def render(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text exposition format (:data:`CONTENT_TYPE`)."""
    return _generate_latest(registry)

"""Prometheus metrics of the ingest path, the log and the read models.

Three kinds, in one registry that the composition root builds (nothing registers at import):

- **Counted by this process** (:class:`IngestMetrics`): records by outcome once their batch
  is stored, the size and duration of each partition's batch, dead letters published.
  They count what the ingest workers of *this* process did.
- **Read from the log and the store on each scrape** (:class:`StatusCollector`): every
  ingress partition's end offset, stored offset and lag, the dead-letter count, each
  projection's position and lag, the parked source events, the events each read model
  holds in quarantine, the audit verifications and their failures per kind (recorded
  by whichever process verified: the API or ``journey verify``), and the SLA deadlines
  overdue at the clock timer's watermark. They are the same whichever process serves them.
- **Counted by the API of this process** (:class:`HttpMetrics`): requests by route template,
  method and status class, their latency, and the events ``POST /v1/events`` accepted.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from adapters.sourcelog.base import TopicPartition

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


class PartitionLagView(Protocol):
    """What a scrape reads of one ingress partition (``application.status.PartitionLag``)."""

    @property
    def partition(self) -> TopicPartition: ...
    @property
    def log_end_offset(self) -> int: ...
    @property
    def stored_offset(self) -> int: ...
    @property
    def lag(self) -> int: ...


class ProjectionLagView(Protocol):
    """What a scrape reads of one read model (``application.status.ProjectionLag``)."""

    @property
    def name(self) -> str: ...
    @property
    def position(self) -> int: ...
    @property
    def lag(self) -> int: ...


class VerificationCountView(Protocol):
    """Audit verifications of one kind (``projections.audit_chain.VerificationCount``)."""

    @property
    def kind(self) -> str: ...
    @property
    def verified(self) -> int: ...
    @property
    def failed(self) -> int: ...


class StatusView(Protocol):
    """The pipeline's status as a scrape reads it (``application.status.Status``): the
    adapter names what it needs, so it does not import the layer above it."""

    @property
    def partitions(self) -> Sequence[PartitionLagView]: ...
    @property
    def dead_letters(self) -> int: ...
    @property
    def notifications(self) -> int: ...
    @property
    def projections(self) -> Sequence[ProjectionLagView]: ...
    @property
    def parked(self) -> int: ...
    @property
    def quarantined(self) -> Mapping[str, int]: ...
    @property
    def verifications(self) -> Sequence[VerificationCountView]: ...
    @property
    def overdue(self) -> int: ...


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
            "Records published to the dead-letter topic, by source topic (at least once: a"
            " batch redone after a crash or a lost partition publishes its letters again).",
            ["topic"],
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

    def dead_lettered(self, topic: str, count: int) -> None:
        self._dead_letters.labels(topic=topic).inc(count)

    def cache_used(self, *, hits: int, misses: int, forgotten: int) -> None:
        self._cache_lookups.labels(result="hit").inc(hits)
        self._cache_lookups.labels(result="miss").inc(misses)
        self._cache_forgotten.inc(forgotten)


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


def _families(status: StatusView | None) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "journey_status_up", "1 if the log and the store answered this scrape, else 0."
    )
    up.add_metric([], 0 if status is None else 1)
    yield up
    ends = GaugeMetricFamily(
        "journey_ingest_log_end_offset",
        "The offset the next record of the ingress partition will get.",
        labels=["topic", "partition"],
    )
    stored = GaugeMetricFamily(
        "journey_ingest_stored_offset",
        "The partition's next offset stored with the events (the truth of what was applied).",
        labels=["topic", "partition"],
    )
    lags = GaugeMetricFamily(
        "journey_ingest_lag",
        "Records of the partition not applied yet: log end offset minus stored offset.",
        labels=["topic", "partition"],
    )
    dead = GaugeMetricFamily(
        "journey_dead_letters", "Records on the dead-letter topic (sum of its end offsets)."
    )
    head = GaugeMetricFamily(
        "journey_notifications_max_id", "The event store's last notification id."
    )
    positions = GaugeMetricFamily(
        "journey_projection_position",
        "The last notification id the read model applied.",
        labels=["projection"],
    )
    projection_lags = GaugeMetricFamily(
        "journey_projection_lag",
        "Notifications the read model has not applied yet.",
        labels=["projection"],
    )
    parked = GaugeMetricFamily(
        "journey_parked_events",
        "Source events parked, waiting for the order, case, return, callback, contact,"
        " survey or customer they refer to (or its delivery, its resolution).",
    )
    quarantined = GaugeMetricFamily(
        "journey_read_model_quarantined_events",
        "Stored events the read model could not apply and holds in quarantine while it"
        " keeps up with the rest (GET /v1/admin/quarantine; a rebuild applies them again).",
        labels=["read_model"],
    )
    verifications = CounterMetricFamily(
        "journey_audit_verifications",
        "Aggregates whose stored events were verified against the audit chain, by kind, by"
        " any process (GET .../verify, journey verify).",
        labels=["kind"],
    )
    failures = CounterMetricFamily(
        "journey_audit_verification_failures",
        "Verifications that found a stored event altered, missing or unexpected, by kind,"
        " by any process (GET .../verify, journey verify).",
        labels=["kind"],
    )
    overdue = GaugeMetricFamily(
        "journey_overdue_deadlines",
        "Open SLA deadlines whose due time the clock timer's watermark is past, not"
        " breached yet: inside the allowed lateness, or before the timer's next round.",
    )
    if status is not None:
        overdue.add_metric([], status.overdue)
        for name, held in status.quarantined.items():
            quarantined.add_metric([name], held)
        for count in status.verifications:
            verifications.add_metric([count.kind], count.verified)
            failures.add_metric([count.kind], count.failed)
        for p in status.partitions:
            labels = [p.partition.topic, str(p.partition.partition)]
            ends.add_metric(labels, p.log_end_offset)
            stored.add_metric(labels, p.stored_offset)
            lags.add_metric(labels, p.lag)
        dead.add_metric([], status.dead_letters)
        head.add_metric([], status.notifications)
        for projection in status.projections:
            positions.add_metric([projection.name], projection.position)
            projection_lags.add_metric([projection.name], projection.lag)
        parked.add_metric([], status.parked)
    yield from (
        ends,
        stored,
        lags,
        dead,
        head,
        positions,
        projection_lags,
        parked,
        quarantined,
        overdue,
    )
    yield from (verifications, failures)


class StatusCollector:
    """Reads the pipeline's status on each scrape. If the log or the store does not
    answer, the scrape still succeeds with ``journey_status_up 0`` and no positions."""

    def __init__(self, read: Callable[[], StatusView]) -> None:
        self._read = read

    def describe(self) -> Iterable[Metric]:
        return list(_families(None))

    def collect(self) -> Iterable[Metric]:
        try:
            status: StatusView | None = self._read()
        except Exception:  # a scrape reports, it does not raise
            logger.warning("status for /metrics could not be read", exc_info=True)
            status = None
        return list(_families(status))


def render(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text exposition format (:data:`CONTENT_TYPE`)."""
    return _generate_latest(registry)

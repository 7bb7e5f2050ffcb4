"""Prometheus metrics read from the log and the store on each scrape
(:class:`StatusCollector`): every ingress partition's end offset, stored offset and lag,
the dead-letter count, each projection's position and lag, the parked source events, the
events each read model holds in quarantine, the audit verifications and their failures per
kind, the SLA deadlines open, overdue and breached by rule, and the event-time watermark. They are
the same whichever process serves them. The adapter names what it reads of the status
(``StatusView``), so it does not import the layer above it (``application.status``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from adapters.sourcelog.base import TopicPartition

logger = logging.getLogger(__name__)


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
    @property
    def indexes_deferred(self) -> bool: ...


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
    def event_time(self) -> datetime | None: ...
    @property
    def deadlines(self) -> Mapping[str, tuple[int, int]]: ...
    @property
    def overdue(self) -> int: ...
    @property
    def timer_backlog(self) -> int: ...
    @property
    def breaches(self) -> Mapping[str, int]: ...


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
    deferred = GaugeMetricFamily(
        "journey_projection_query_indexes_deferred",
        "1 while the read model catches up without its query indexes (queries scan).",
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
        " breached yet (inside the allowed lateness, or before the timer's next round), by"
        " rule.",
        labels=["rule"],
    )
    backlog = GaugeMetricFamily(
        "journey_timer_backlog_deadlines",
        "Open SLA deadlines past due by more than the allowed lateness at the timer's"
        " watermark, not breached yet: the clock timer's backlog (0 once it has caught up;"
        " growing while it is stopped or behind).",
    )
    open_deadlines = GaugeMetricFamily(
        "journey_open_deadlines",
        "SLA deadlines started and not decided yet (met, breached or cancelled), by rule.",
        labels=["rule"],
    )
    breached = GaugeMetricFamily(
        "journey_breached_deadlines",
        "SLA deadlines whose outcome in force is a breach, by rule, whenever they started"
        " (every rule with a clock; 0 when none). A gauge: a breach settled within target"
        " by a late fact, or called off, leaves it. Read from the KPI counters.",
        labels=["rule"],
    )
    event_time = GaugeMetricFamily(
        "journey_event_time_watermark_seconds",
        "The event-time watermark (the latest occurred_at of a journey fact applied), as a"
        " Unix time: what SLA clocks are judged at in event-time mode.",
    )
    behind = GaugeMetricFamily(
        "journey_event_time_behind_seconds",
        "How far the event-time watermark is behind the wall clock of this scrape (large"
        " while replaying history; growing when nothing arrives).",
    )
    if status is not None:
        for rule, (started, late) in status.deadlines.items():
            open_deadlines.add_metric([rule], started)
            overdue.add_metric([rule], late)
        for rule, breaches in status.breaches.items():
            breached.add_metric([rule], breaches)
        if status.event_time is not None:
            event_time.add_metric([], status.event_time.timestamp())
            behind.add_metric([], (datetime.now(UTC) - status.event_time).total_seconds())
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
            deferred.add_metric([projection.name], int(projection.indexes_deferred))
        parked.add_metric([], status.parked)
        backlog.add_metric([], status.timer_backlog)
    yield from (
        ends,
        stored,
        lags,
        dead,
        head,
        positions,
        projection_lags,
        deferred,
        parked,
        quarantined,
        overdue,
        backlog,
        open_deadlines,
        breached,
        event_time,
        behind,
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

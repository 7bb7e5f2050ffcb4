"""The composition root: builds the log, the event store, the read models and the workers
from settings. Nothing else constructs infrastructure, and nothing is built at import."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from prometheus_client import CollectorRegistry

from adapters.metrics import IngestMetrics, new_registry
from adapters.privacy.keys import StoredCustomerKeys
from adapters.privacy.master import load_master_key
from adapters.privacy.personal import PersonalData
from adapters.readstore import PostgresReadStore, ReadStore, SQLiteReadStore
from adapters.schema_setup import one_setup_at_a_time
from adapters.security.access_log import AccessLog
from adapters.security.apikeys import ApiKeys
from adapters.security.ratelimit import RateLimiter
from adapters.sourcelog.base import Coordinates, Log, LogPublisher, TopicPartition
from adapters.status_metrics import StatusCollector
from adapters.topics import Topics
from api.services import ApiLimits
from application.aggregate_cache import AggregateCache
from application.audit import Auditor
from application.deadletter_query import DeadLetterFilter
from application.erasure import ErasureReceipt, erase_customer
from application.rebuilds import RebuildJobs
from application.service import JourneyApplication
from application.status import Status, read_status
from consumers.deadletter_reading import DeadLetterPage, read_dead_letters, read_page
from consumers.deadletters import DeadLetterSink, StoredDeadLetter, replay, replayed, select
from consumers.ingest import IngestWorker
from consumers.parked import LotKeeper
from consumers.supervision import Beat, Loop, Supervised, Workers
from consumers.timer import ClockTimer, breach_lateness, wall_clock
from consumers.watermark_gate import CaughtUpWatermark, IngressEnds
from journey.settings import Settings
from projections.audit_chain import AuditChain
from projections.base import Projection
from projections.catch_up import CatchUp
from projections.customer360 import Customer360
from projections.deadlines import DeadlineIndex
from projections.kpis import KpiCounters
from projections.ledger import ComplaintLedger
from projections.orders import OrdersAndReturns
from projections.parking import ParkedIndex
from projections.quarantine import Quarantine
from projections.registry import ReadModels, build_read_models
from projections.runner import NotificationReader, ProjectionRunner
from tools.importers.pipeline import Outlet

logger = logging.getLogger(__name__)


def build_log(settings: Settings) -> Log:
    if settings.log_backend == "kafka":
        from adapters.sourcelog.kafka import KafkaLog

        return KafkaLog(settings.kafka_bootstrap, settings.kafka_connect_timeout_s)
    from adapters.sourcelog.embedded import EmbeddedLog

    return EmbeddedLog(settings.data_dir / "log.sqlite", _topics(settings).retention_ms)


def _topics(settings: Settings) -> Topics:
    return Topics(settings.topic_prefix, settings.topic_partitions, settings.log_retention_days)


@contextmanager
def _setup_guard(settings: Settings) -> Iterator[None]:
    """PostgreSQL's schema set up by one starting process at a time."""
    if settings.store_backend != "postgres":
        yield
        return
    with one_setup_at_a_time(settings.postgres_conninfo(), settings.postgres_schema):
        yield


def event_store_env(settings: Settings) -> dict[str, str]:
    if settings.store_backend == "postgres":
        password = settings.postgres_password
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": settings.postgres_db,
            "POSTGRES_HOST": settings.postgres_host,
            "POSTGRES_PORT": str(settings.postgres_port),
            "POSTGRES_USER": settings.postgres_user,
            "POSTGRES_PASSWORD": password.get_secret_value() if password else "",
            "POSTGRES_SCHEMA": settings.postgres_schema,
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.data_dir / "events.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def build_read_store(settings: Settings) -> ReadStore:
    if settings.store_backend == "postgres":
        return PostgresReadStore(settings.postgres_conninfo(), settings.postgres_schema)
    return SQLiteReadStore(settings.data_dir / "readmodels.sqlite")


@dataclass
class Runtime:
    settings: Settings
    topics: Topics
    log: Log
    app: JourneyApplication
    read_store: ReadStore
    ledger: ComplaintLedger
    deadlines: DeadlineIndex
    customers: Customer360
    orders: OrdersAndReturns
    kpis: KpiCounters
    parked: ParkedIndex
    """The parked source events (``domain.parking``): status, metrics, admin route, timer."""
    projection_runner: ProjectionRunner
    projections: list[Projection]
    audit_chain: AuditChain
    read_models: ReadModels
    """Every read model of ``projections.registry.READ_MODELS``; the attributes above are
    its members."""
    auditor: Auditor
    personal: PersonalData
    rebuilds: RebuildJobs
    """Rebuilds started over HTTP (``journey rebuild`` runs the same in its own process)."""
    """Opens, masks and erases personal values (DESIGN.md "Privacy")."""
    registry: CollectorRegistry
    """What ``GET /metrics`` renders; built here, never at import."""
    ingest_metrics: IngestMetrics
    api_keys: ApiKeys
    access_log: AccessLog
    rate_limiter: RateLimiter
    _publisher: LogPublisher | None = None

    @property
    def publisher(self) -> LogPublisher:
        if self._publisher is None:
            self._publisher = self.log.publisher()
        return self._publisher

    @property
    def limits(self) -> ApiLimits:
        """The API's limits, from the settings."""
        settings = self.settings
        return ApiLimits(
            max_body_bytes=settings.max_body_bytes,
            max_record_bytes=settings.max_record_bytes,
            max_future_skew=timedelta(seconds=settings.max_future_skew_s),
            consistency_wait_max_s=settings.consistency_wait_max_s,
            projection_stall_s=settings.projection_stall_s,
            consistency_waits_per_key=settings.consistency_waits_per_key,
        )

    def outlet(self) -> Outlet:
        """Where importers publish, with the API's validation limits."""
        return Outlet(
            publisher=self.publisher,
            topics=self.topics,
            max_future=timedelta(seconds=self.settings.max_future_skew_s),
            max_record_bytes=self.settings.max_record_bytes,
        )

    def create_topics(self) -> list[str]:
        admin = self.log.admin()
        try:
            specs = self.topics.specs()
            created = admin.create_topics(specs)
            existing = [spec for spec in specs if spec.name not in created]
            for name in admin.align_configs(existing):
                logger.warning("topic %s given the configs it must hold (%s)", name, specs)
            return created
        finally:
            admin.close()

    def ingest_worker(self, group: str | None = None, beat: Beat | None = None) -> IngestWorker:
        settings = self.settings
        return IngestWorker(
            consumer=self.log.consumer(group or settings.consumer_group),
            app=self.app,
            dead_letters=DeadLetterSink(self.log.publisher(), self.topics.dead_letters),
            topics=self.topics.ingress,
            max_future=timedelta(seconds=settings.max_future_skew_s),
            max_record_bytes=settings.max_record_bytes,
            max_records=settings.poll_max_records,
            on_applied=self.projection_runner.nudge,
            metrics=self.ingest_metrics,
            after_stored=self._forget_applied,
            cache=(
                AggregateCache(self.app.process_recorder, settings.ingest_cache_aggregates)
                if settings.ingest_cache_aggregates
                else None
            ),
            beat=beat,
        )

    def _forget_applied(self, partition: TopicPartition, next_offset: int) -> None:
        """After each stored batch: the log blanks erased customers' records applied since."""
        self.log.forget((), {partition: next_offset}, [self.topics.dead_letters])

    def dead_letters(
        self, where: DeadLetterFilter, cursor: str | None = None, limit: int | None = None
    ) -> DeadLetterPage:
        """A page of the dead letters ``where`` admits, oldest first, from ``cursor`` on (at
        most ``limit``; None: to the topic's end), read by a group that never commits."""
        return read_page(
            self.log,
            self.topics.dead_letters,
            where,
            cursor,
            limit,
            group_prefix=f"{self.settings.consumer_group}-deadletters",
        )

    def all_dead_letters(self) -> list[StoredDeadLetter]:
        """Every dead letter up to the topic's end, by source coordinates (to replay)."""
        return read_dead_letters(
            self.log,
            self.topics.dead_letters,
            group_prefix=f"{self.settings.consumer_group}-deadletters",
        )

    def replay_dead_letters(self, sources: Sequence[Coordinates]) -> list[dict[str, Any]]:
        """Publish the dead letters of ``sources`` back to their ingress topics (as
        ``journey deadletters replay``); LookupError for a source with no letter."""
        chosen = select(self.all_dead_letters(), sources=sources)
        return replayed(chosen, replay(chosen, self.publisher, self.topics.ingress))

    def erase_customer(
        self, customer_id: str, requested_by: str, reason: str | None = None
    ) -> ErasureReceipt:
        """Log the customer's erasure request, delete their key, have the log forget their
        records (application.erasure)."""
        return erase_customer(
            app=self.app,
            log=self.log,
            publisher=self.publisher,
            topics=self.topics,
            keys=self.personal.keys,
            customer_id=customer_id,
            requested_by=requested_by,
            reason=reason,
        )

    @property
    def quarantine(self) -> Quarantine:
        """Events read models could not apply, held aside for each
        (``projections.quarantine``): status, metrics, readiness, admin route."""
        return self.read_models.quarantine

    def status(self) -> Status:
        """Lag of every ingress partition and projection, read from the log and the store."""
        admin = self.log.admin()
        try:
            return read_status(
                admin,
                self.app,
                self.topics.ingress,
                self.topics.dead_letters,
                self.projections,
                parked=self.parked.count,
                quarantined=self.read_models.quarantined,
                verifications=self.audit_chain.verification_counts,
                overdue=lambda: self.deadlines.overdue_count(self.watermark()),
                timer_backlog=lambda: self.deadlines.timer_backlog(
                    self.watermark(), breach_lateness(self.settings.clock == "wall_clock")
                ),
                event_time=self.deadlines.watermark,
                deadlines=lambda: self.deadlines.by_rule(self.watermark()),
                breaches=self.kpis.breaches_by_rule,
            )
        finally:
            admin.close()

    def watermark(self) -> datetime | None:
        """The instant the SLA timer judges deadlines at (``consumers.timer``): now, in
        wall-clock mode, else the latest event time; read models show a deadline past it
        as overdue."""
        return wall_clock() if self.settings.clock == "wall_clock" else self.deadlines.watermark()

    @property
    def report_zone(self) -> tzinfo:
        """The report time zone (``JOURNEY_REPORT_TZ``), for the API."""
        return self.settings.report_zone

    def clock_timer(self, beat: Beat | None = None) -> ClockTimer:
        live = self.settings.clock == "wall_clock"
        letters = DeadLetterSink(
            self.log.publisher(), self.topics.dead_letters, self.ingest_metrics.dead_lettered
        )
        ends = IngressEnds(self.log.admin, self.topics.ingress)
        return ClockTimer(
            self.app,
            self.deadlines,
            wall_clock if live else None,
            beat=beat,
            keeper=LotKeeper(self.app, self.parked, letters),
            gate=CaughtUpWatermark(ends, self.app.next_offset),
        )

    def supervised(self, name: str, failing: dict[str, str]) -> Supervised:
        """The named worker (``journey.settings.WorkerName``) under supervision: restarted,
        built afresh, after infrastructure trouble (``consumers.supervision``)."""
        build: dict[str, Callable[[Beat], Loop]] = {
            "ingest": lambda beat: self.ingest_worker(beat=beat).run,
            "projections": lambda beat: self.projection_runner.run,
            "timer": lambda beat: self.clock_timer(beat=beat).run,
        }
        return Supervised(name, build[name], failing)

    def start_workers(self, names: Collection[str]) -> Workers:
        """Start the named workers (``journey.settings.WorkerName``); others are ignored."""
        workers = Workers()
        for name in ("ingest", "projections", "timer"):
            if name in names:
                workers.start(name, self.supervised(name, workers.failed).run)
        return workers

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
        self.read_store.close()
        self.app.close()
        self.log.close()


def build(settings: Settings) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _setup_guard(settings):
        read_store = build_read_store(settings)
        customer_keys = StoredCustomerKeys(
            read_store,
            load_master_key(
                settings.master_key_text,
                settings.data_dir,
                embedded=settings.store_backend == "sqlite",
            ),
        )
        customer_keys.create_tables()
        personal = PersonalData(customer_keys)
        app = JourneyApplication(env=event_store_env(settings), personal=personal)
        read_models = build_read_models(read_store, app.recorder, app.mapper)
        read_models.create_tables()
        api_keys, access_log = ApiKeys(read_store), AccessLog(read_store)
        api_keys.create_tables()
        access_log.create_tables()
    registry = new_registry()
    reader = NotificationReader(app.process_recorder, app.mapper)
    share = settings.projection_share
    followed = read_models if share is None else read_models.share(*share)
    runtime = Runtime(
        settings=settings,
        topics=_topics(settings),
        log=build_log(settings),
        app=app,
        read_store=read_store,
        ledger=read_models.get(ComplaintLedger),
        deadlines=read_models.get(DeadlineIndex),
        customers=read_models.get(Customer360),
        orders=read_models.get(OrdersAndReturns),
        kpis=read_models.get(KpiCounters),
        parked=read_models.get(ParkedIndex),
        projection_runner=ProjectionRunner(
            reader,
            followed.projections,
            followers=followed.followers,
            quarantine=read_models.quarantine,
            catch_up=CatchUp(min_behind=settings.catch_up_behind),
        ),
        projections=read_models.projections,
        audit_chain=read_models.get(AuditChain),
        read_models=read_models,
        auditor=Auditor(app, read_models.get(AuditChain), settings.report_zone),
        registry=registry,
        ingest_metrics=IngestMetrics(registry),
        api_keys=api_keys,
        access_log=access_log,
        personal=personal,
        rebuilds=RebuildJobs(read_models, reader),
        rate_limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
    )
    registry.register(StatusCollector(runtime.status))
    if settings.log_backend == "embedded":
        runtime.create_topics()
    return runtime

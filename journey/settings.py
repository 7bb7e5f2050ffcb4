"""Typed settings, read from ``JOURNEY_*`` environment variables, checked at start-up.

Only the composition root reads them; the domain never reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from adapters.topics import RETENTION_DAYS

WorkerName = Literal["ingest", "projections", "timer"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEY_", extra="ignore", frozen=True)

    log_backend: Literal["embedded", "kafka"] = "embedded"
    store_backend: Literal["sqlite", "postgres"] = "sqlite"
    data_dir: Path = Path("var")

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_connect_timeout_s: float = Field(5, gt=0, le=600)
    """How long a Kafka client waits for its first answer from the bootstrap address before
    the command fails (``LogUnavailable`` naming the address); a worker under supervision
    retries after that."""
    topic_prefix: str = Field("journey.", pattern=r"^[A-Za-z0-9._-]*$")
    topic_partitions: int = Field(6, ge=1, le=1000)
    consumer_group: str = "journey-ingest"
    log_retention_days: float = Field(RETENTION_DAYS, gt=0, le=36_500)
    """How long the source log keeps records (ingress and dead letters), by the time they
    were appended: the embedded log deletes older ones; Kafka topics are created with this
    ``retention.ms`` (topics that exist keep theirs)."""

    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_db: str = "journey"
    postgres_user: str = "journey"
    postgres_password: SecretStr | None = None

    master_key: SecretStr | None = None
    """Wraps every customer's data key (32 random bytes, base64). Required with the
    PostgreSQL store; with SQLite, made on first start in the data folder if not set."""
    postgres_schema: str = Field("public", pattern=r"^[a-z_][a-z0-9_]*$")

    host: str = "127.0.0.1"
    metrics_port: int | None = Field(None, ge=0, le=65535)
    """``journey ingest|project|timer`` serve ``/metrics`` on this port (scaled mode; 0:
    any free port); unset, they serve none. ``journey serve`` has it on its API port."""
    port: int = Field(8000, ge=0, le=65535)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    """The largest request body the API reads (413 beyond it, whatever Content-Length says).
    At least ``max_record_bytes``, so that one event of the largest size can be published."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """Log lines as JSON objects, one per line, or as text for people; ``auto``: text when
    stderr is a terminal, JSON otherwise (a file, a pipe, a log collector)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    catch_up_behind: int = Field(50_000, ge=0)
    """A read model at least this many stored events behind the head (and a quarter of
    what it has applied) catches up without its query indexes, then builds them at once
    (``projections.catch_up``); 0: never."""
    projection_stall_s: float = Field(60, gt=0)
    """``/readyz`` reports a read model stalled when it is behind the event store's head and
    its position has not moved for longer than this."""
    workers: Annotated[set[WorkerName], NoDecode] = {"ingest", "projections", "timer"}
    """Background workers that ``journey serve`` runs in its own process: a comma-separated
    list, empty for the API alone."""
    worker_processes: Annotated[set[WorkerName], NoDecode] = {"projections"}
    """Of those workers, the ones ``journey serve`` runs each in a child process of its own
    (``journey project``, ``ingest``, ``timer``), restarted if it exits and ended with
    ``serve``, instead of a thread: a Python process computes on one core at a time, so on
    a machine with more than one the read models keep up with the ingest instead of sharing
    its core. Empty: every worker in ``serve``'s own process."""

    projection_processes: int = Field(1, ge=1, le=16)
    """When ``projections`` is one of ``worker_processes``: how many ``journey project``
    processes ``journey serve`` shares the read models among (each runs one
    ``projection_share``), so that several cores apply the log side by side."""
    projection_share: Annotated[tuple[int, int] | None, NoDecode] = None
    """``i/n``: this process follows the log for the i-th of n shares of the read models
    (``projections.registry.ReadModels.share``); unset: for all of them."""

    clock: Literal["event_time", "wall_clock"] = "event_time"
    """What drives the SLA timer: the latest event time seen (replays decide the same; a
    deadline breaches once that is past its due time plus the policy's allowed lateness),
    or the wall clock (live mode: deadlines breach at the deadline, even when no events
    arrive; a late fact settles the breach)."""

    report_tz: str = "Asia/Shanghai"
    """The report time zone (an IANA name): a date alone in a query (``as_of=2026-03-05``)
    is that day in this zone. Default: where the stores of the service rules are."""

    max_future_skew_s: float = Field(300, ge=0)
    """How far ``occurred_at`` may lie after the time the record was received."""
    max_record_bytes: int = Field(256 * 1024, ge=1024)
    poll_max_records: int = Field(500, ge=1)
    ingest_cache_aggregates: int = Field(20_000, ge=0)
    """Aggregates each ingest worker keeps between batches instead of replaying them from
    the store (checked against other writers before every batch); 0 turns the cache off.
    About 4 KiB each on average in the benchmark (docs/BENCHMARKS.md)."""
    consistency_wait_max_s: float = Field(10, ge=0)
    consistency_waits_per_key: int = Field(16, ge=1)
    """Reads of one API key that may wait for ``consistent_with`` at once; one more is
    answered 429 with ``Retry-After``."""

    rate_limit_per_s: float = Field(200, gt=0)
    """Requests per second each API key may make on average (a token bucket)..."""
    rate_limit_burst: int = Field(400, ge=1)
    """...and at once: the bucket's size."""

    @field_validator("report_tz")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"report_tz: unknown time zone {name!r}") from None
        return name

    @property
    def report_zone(self) -> ZoneInfo:
        return ZoneInfo(self.report_tz)

    @field_validator("workers", "worker_processes", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return {name.strip() for name in value.split(",") if name.strip()}
        return value

    @field_validator("projection_share", mode="before")
    @classmethod
    def _share(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        index, slash, count = value.strip().partition("/")
        if not (slash and index.isdigit() and count.isdigit()):
            raise ValueError(f"projection_share: {value!r} is not i/n (such as 1/2)")
        return (int(index), int(count))

    @field_validator("projection_share")
    @classmethod
    def _share_exists(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not 1 <= value[0] <= value[1]:
            raise ValueError(f"projection_share: {value[0]}/{value[1]}: i must be 1 to n")
        return value

    @model_validator(mode="after")
    def _body_holds_a_record(self) -> Settings:
        if self.max_body_bytes < self.max_record_bytes:
            raise ValueError(
                "JOURNEY_MAX_BODY_BYTES must be at least JOURNEY_MAX_RECORD_BYTES, so that"
                " one event of the largest size can be published"
            )
        return self

    @model_validator(mode="after")
    def _postgres_needs_a_password(self) -> Settings:
        if self.store_backend == "postgres":
            secret = self.postgres_password.get_secret_value() if self.postgres_password else ""
            if not secret or secret.lower() in {"changeme", "change-me", "password", "secret"}:
                raise ValueError(
                    "JOURNEY_POSTGRES_PASSWORD must be set to a real secret when"
                    " JOURNEY_STORE_BACKEND=postgres"
                )
        return self

    @property
    def master_key_text(self) -> str | None:
        return self.master_key.get_secret_value() if self.master_key else None

    def postgres_conninfo(self) -> str:
        password = self.postgres_password.get_secret_value() if self.postgres_password else ""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.postgres_host,
            port=self.postgres_port,
            dbname=self.postgres_db,
            user=self.postgres_user,
            password=password,
        )

"""``simulate(config)``: the simulated customers' records in event-time order, ready to
publish (``SimRecord.outgoing(topics)``), and what they hold (``SimSummary``).

Deterministic: each customer's steps come from a generator seeded with the seed and the
customer's number, event ids are ``<customer>-e<n>`` of the n-th step, times are event
times only (never the wall clock), and records of equal time keep the order they were
made in; the same config gives the same bytes. Records are ordered across customers by
event time in bounded memory (``TimeOrder``: sorted runs spilled to temporary files).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from random import Random
from typing import Any

import orjson

from adapters.sourcelog.base import Headers, OutgoingRecord
from adapters.topics import Topics
from contracts.schemas import EVENT_TYPES
from tools.importers.timeorder import Pending, TimeOrder
from tools.simulator.bad import KINDS
from tools.simulator.config import SimConfig
from tools.simulator.customers import customer_timeline

_BAD = "!"  # marks a bad record's ``Pending.type``: "!kind|field|type it was made from"


@dataclass(frozen=True)
class SimRecord:
    """One record to publish: its topic is ``topics.for_type(route)``, keyed by customer."""

    route: str
    key: bytes
    value: bytes
    headers: Headers
    type: str
    """The event type (for a bad record: the type of the good record it was made from)."""
    occurred_at: datetime
    bad_kind: str | None = None
    bad_field: str | None = None
    """For a bad record: what the refusal's reason names."""

    @property
    def family(self) -> str:
        """The topic's family (``contacts``, ``orders``...), without the prefix."""
        return EVENT_TYPES[self.route].family

    def outgoing(self, topics: Topics) -> OutgoingRecord:
        return OutgoingRecord(topics.for_type(self.route), self.key, self.value, self.headers)

    def as_json_line(self) -> bytes:
        """For ``--dry-run``: the record with its value as text."""
        line = {
            "topic": self.family,
            "key": self.key.decode(),
            "headers": {name: value.decode() for name, value in self.headers},
            "value": self.value.decode("latin-1"),
        }
        return orjson.dumps(line)


@dataclass
class SimSummary:
    config: SimConfig
    events_by_type: Counter[str] = field(default_factory=Counter)
    bad_by_kind: Counter[str] = field(default_factory=Counter)
    records_by_family: Counter[str] = field(default_factory=Counter)
    first_at: datetime | None = None
    last_at: datetime | None = None
    planned: int = 0
    """Records the stream will yield, known once every customer was generated."""

    def count(self, record: SimRecord) -> None:
        self.records_by_family[record.family] += 1
        if record.bad_kind is not None:
            self.bad_by_kind[record.bad_kind] += 1
            return
        self.events_by_type[record.type] += 1
        if self.first_at is None:
            self.first_at = record.occurred_at
        self.last_at = record.occurred_at

    @property
    def events(self) -> int:
        return sum(self.events_by_type.values())

    @property
    def bad(self) -> int:
        return sum(self.bad_by_kind.values())

    def as_json(self) -> dict[str, Any]:
        c = self.config
        return {
            "customers": c.customers,
            "days": c.days,
            "seed": c.seed,
            "bad_rate": c.bad_rate,
            "start": c.start.isoformat(),
            "first_at": self.first_at.isoformat() if self.first_at else None,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "events": self.events,
            "bad_records": self.bad,
            "events_by_type": dict(sorted(self.events_by_type.items())),
            "bad_by_kind": dict(sorted(self.bad_by_kind.items())),
            "records_by_topic": dict(sorted(self.records_by_family.items())),
        }

    def render(self) -> str:
        c = self.config
        lines = [
            f"simulate: {c.customers:,} customers x {c.days} days from {c.start}, seed {c.seed},"
            f" bad rate {c.bad_rate}",
            f"  events: {self.events:,}   bad records: {self.bad:,}",
        ]
        lines += [f"    {t:<28} {n:>9,}" for t, n in sorted(self.events_by_type.items())]
        lines.append(f"  bad records by kind: {self.bad:,}")
        lines += [f"    {k:<28} {n:>9,}" for k, n in sorted(self.bad_by_kind.items())]
        lines.append(
            "  records by topic: "
            + ", ".join(f"{f} {n:,}" for f, n in sorted(self.records_by_family.items()))
        )
        return "\n".join(lines)


def _headers(event_id: str, event_type: str, version: int) -> Headers:
    return (
        ("event_id", event_id.encode()),
        ("type", event_type.encode()),
        ("schema_version", str(version).encode()),
    )


def _records(config: SimConfig, order: TimeOrder) -> None:
    """Every customer's steps (and bad records) into ``order``."""
    start, end = config.start_at, config.end_at
    for index in range(config.customers):
        timeline = customer_timeline(config, index)
        bad_rng = Random(f"journey-simulator-bad:{config.seed}:{index}")  # noqa: S311
        for n, step in enumerate(timeline.steps):
            if not start <= step.at < end:
                continue  # a journey cut at the window's end: a valid prefix of it
            event_id = f"{timeline.customer_id}-e{n:05d}"
            envelope = {
                "event_id": event_id,
                "type": step.type,
                "occurred_at": step.at.isoformat(),
                "channel": step.channel,
                "customer_id": timeline.customer_id,
                "source": config.source,
                "schema_version": step.version,
                "data": step.data,
            }
            value = orjson.dumps(envelope).decode("latin-1")
            order.add(
                step.at,
                Pending(step.route, timeline.customer_id, value, event_id, step.type, step.version),
            )
            if config.bad_rate and bad_rng.random() < config.bad_rate:
                kind = bad_rng.choice(tuple(KINDS))
                bad = KINDS[kind](envelope, f"{event_id}-bad", bad_rng)
                marker = f"{_BAD}{bad.kind}|{bad.field}|{step.type}"
                pending = Pending(
                    bad.route or step.route,
                    timeline.customer_id,
                    bad.value.decode("latin-1"),
                    f"{event_id}-bad",
                    marker,
                    0,
                )
                order.add(step.at, pending)


def _record(pending: Pending) -> SimRecord:
    value = pending.value.encode("latin-1")
    key = pending.key.encode()
    if pending.type.startswith(_BAD):
        kind, named, made_from = pending.type[1:].split("|", 2)
        return SimRecord(
            route=pending.topic,
            key=key,
            value=value,
            headers=(("event_id", pending.event_id.encode()), ("simulated_bad", kind.encode())),
            type=made_from,
            occurred_at=_time(value),
            bad_kind=kind,
            bad_field=named,
        )
    return SimRecord(
        route=pending.topic,
        key=key,
        value=value,
        headers=_headers(pending.event_id, pending.type, pending.schema_version),
        type=pending.type,
        occurred_at=_time(value),
    )


def _time(value: bytes) -> datetime:
    """The record's event time; for a record that is not JSON, the epoch."""
    start = value.find(b'"occurred_at":"')
    if start < 0:
        return datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    start += len(b'"occurred_at":"')
    end = value.find(b'"', start)
    try:
        return datetime.fromisoformat(value[start:end].decode())
    except ValueError:
        return datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def simulate(
    config: SimConfig, summary: SimSummary | None = None, *, run_size: int = 50_000
) -> Iterator[SimRecord]:
    """The records of the simulation, in event-time order; counted into ``summary``."""
    order = TimeOrder(run_size)
    try:
        _records(config, order)
        if summary is not None:
            summary.planned = len(order)
        for pending in order.drain():
            record = _record(pending)
            if summary is not None:
                summary.count(record)
            yield record
    finally:
        order.close()

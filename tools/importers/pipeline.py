"""``run_import``: a data set's rows → steps → validated envelopes → event-time order →
the log, through the outlet's publisher (embedded log or Kafka), in chunks.

- Every envelope is checked by the same validation as the API's (``contracts.envelope``);
  one the catalog refuses is dropped with the reason, never published.
- Records are keyed by ``customer_id``. Each goes to the topic the API would choose
  (``Topics.for_type``), except ``survey.*``: a survey needs its case resolved first, and
  the log orders records only within one partition of one topic, so surveys travel with
  their case on the contacts topic.
- Across the data set records are published in event-time order (``TimeOrder``, bounded
  memory), so one customer's records reach their partition in event-time order and the
  event-time watermark of the SLA timer advances as it would have live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from adapters.publishing import source_headers
from adapters.sourcelog.base import LogPublisher, OutgoingRecord
from adapters.topics import Topics
from contracts.envelope import InvalidEvent, validate
from contracts.schemas import EVENT_TYPES
from tools.importers import cfpb as cfpb
from tools.importers import olist as olist
from tools.importers import servicenow as servicenow
from tools.importers.files import ImportFailed
from tools.importers.steps import Step
from tools.importers.summary import ImportSummary
from tools.importers.timeorder import Pending, TimeOrder

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Planner = Callable[[Path, int | None, ImportSummary], Iterator[Step]]

IMPORTERS: dict[str, Planner] = {
    "olist": olist.plan,
    "cfpb": cfpb.plan,
    "servicenow": servicenow.plan,
}
KINDS = tuple(IMPORTERS)


@dataclass(frozen=True)
class Outlet:
    """Where an import publishes, and the API's limits it keeps (built by the composition
    root from settings)."""

    publisher: LogPublisher
    topics: Topics
    max_future: timedelta
    """How far ahead of now ``occurred_at`` may be (the API's future-skew check)."""
    max_record_bytes: int


def topic_for(topics: Topics, event_type: str) -> str:
    """The API's topic for the type; a survey rides with its case (see the module doc)."""
    if event_type.startswith("survey."):
        return topics.for_type("case.resolved")
    return topics.for_type(event_type)


def envelope(step: Step, source: str) -> dict[str, object]:
    body: dict[str, object] = {
        "event_id": step.event_id,
        "type": step.type,
        "occurred_at": step.at.isoformat(),
        "channel": step.channel,
        "customer_id": step.customer_id,
        "source": source,
        "schema_version": EVENT_TYPES[step.type].latest,
        "data": step.data,
    }
    if step.attributes:
        body["attributes"] = step.attributes
    return body


def run_import(
    outlet: Outlet,
    kind: str,
    folder: Path,
    limit: int | None = None,
    progress: Progress | None = None,
    *,
    chunk: int = 2000,
    run_size: int = 50_000,
) -> ImportSummary:
    """Import the data set of ``kind`` found in ``folder`` (its first ``limit`` orders,
    complaints or incidents when given) and publish it; returns what was done."""
    planner = IMPORTERS.get(kind)
    if planner is None:
        raise ImportFailed(f"unknown data set kind {kind!r}; known: {', '.join(KINDS)}")
    if limit is not None and limit < 0:
        raise ImportFailed(f"limit must not be negative: {limit}")
    started = time.perf_counter()
    summary = ImportSummary(kind)
    steps = planner(folder, limit, summary)
    # Validation at the edge, as the API does it: "too far in the future" needs a now.
    now = datetime.now(UTC)
    order = TimeOrder(run_size)
    try:
        for step in steps:
            try:
                event = validate(
                    envelope(step, summary.dataset), now=now, max_future=outlet.max_future
                )
            except InvalidEvent as error:
                fields = ", ".join(sorted({p.field for p in error.problems}))
                summary.steps_dropped[f"{step.type} refused by the catalog ({fields})"] += 1
                continue
            value = event.to_json()
            if len(value) > outlet.max_record_bytes:
                summary.steps_dropped[f"{step.type} over the record size limit"] += 1
                continue
            order.add(
                step.at,
                Pending(
                    topic=topic_for(outlet.topics, step.type),
                    key=step.customer_id,
                    value=value.decode(),
                    event_id=step.event_id,
                    type=step.type,
                    schema_version=event.envelope.schema_version,
                ),
            )
        total = len(order)
        records = order.drain()
        if progress is not None:
            progress(0, total)
        while batch := list(islice(records, chunk)):
            outlet.publisher.publish_many(
                [
                    OutgoingRecord(
                        topic=p.topic,
                        key=p.key.encode(),
                        value=p.value.encode(),
                        headers=source_headers(p.event_id, p.type, p.schema_version),
                    )
                    for p in batch
                ]
            )
            summary.events_published += len(batch)
            summary.events_by_type.update(p.type for p in batch)
            if progress is not None:
                progress(summary.events_published, total)
    finally:
        order.close()
    summary.seconds = time.perf_counter() - started
    log_summary(summary)
    return summary


def log_summary(summary: ImportSummary) -> None:
    """One INFO line an operator reads afterwards: what was imported, and what was not."""
    logger.info(
        "import %s finished: %d %ss, %d events published, %d rows skipped, %d steps dropped",
        summary.kind,
        summary.units,
        summary.unit,
        summary.events_published,
        summary.rows_skipped.total(),
        summary.steps_dropped.total(),
        extra={
            "import_kind": summary.kind,
            "dataset": summary.dataset,
            "units": summary.units,
            "events_published": summary.events_published,
            "rows_skipped": summary.rows_skipped.total(),
            "steps_dropped": summary.steps_dropped.total(),
            "seconds": round(summary.seconds, 3),
        },
    )

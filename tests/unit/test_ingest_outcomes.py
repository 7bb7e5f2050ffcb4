"""What the ingest counts per record (``journey_ingest_records_total{outcome}``) when a batch
parks records and a later record of the same batch lets them in: each record counts once,
as what became of it by the end of the batch (docs/delivery.md, "Counts").

Found by the parking chaos test (tests/integration/test_crash_parking.py, run with the
dependent events and their prerequisites on one partition in one batch): a record parked
and then let in was counted both as parked and as applied, so ``ignored`` came out
negative, the Prometheus counter refused it, and the worker failed after every such batch
(stored, so nothing was lost, but the worker was rebuilt and reported failing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.metrics import render
from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.factories import contact_opened, source_event, unique
from tests.integration.drive import ingest_everything
from tests.integration.processes import dead_letters, source_coordinates


@pytest.fixture
def runtime(tmp_path: Path, settings_env: dict[str, str]) -> Iterator[Runtime]:
    with pytest.MonkeyPatch.context() as patched:
        for name, value in {**settings_env, "JOURNEY_TOPIC_PARTITIONS": "1"}.items():
            patched.setenv(name, value)
        made = build(Settings())
    made.create_topics()
    yield made
    made.close()


def counted(runtime: Runtime) -> dict[tuple[str, str], float]:
    """Each ``(name, outcome or "")`` sample of the ingest's record and batch counters."""
    got: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(render(runtime.registry).decode()):
        for sample in family.samples:
            if sample.name in (
                "journey_ingest_records_total",
                "journey_ingest_batch_records_count",
            ):
                got[sample.name, sample.labels.get("outcome", "")] = sample.value
    return got


def test_records_parked_and_let_in_by_the_same_batch_count_once_as_what_became_of_them(
    runtime: Runtime,
) -> None:
    customer = unique("cust-")
    case = f"{customer}-k1"

    def at(minute: int) -> str:
        return f"2026-03-02T09:{minute:02d}:00+00:00"

    bodies: list[dict[str, Any]] = [
        # Both wait for the case; the third record opens it and lets them in: the joining
        # contact is applied, the resolution refused (R-CMP-01: no option offered).
        contact_opened(
            customer_id=customer, contact_id=f"{case}-2", case_id=case, occurred_at=at(5)
        ),
        source_event(
            "case.resolved",
            {"case_id": case, "option": "refund"},
            customer_id=customer,
            occurred_at=at(6),
        ),
        contact_opened(customer_id=customer, contact_id=case, occurred_at=at(1)),
    ]
    placed = runtime.publisher.publish_many(
        [
            OutgoingRecord(runtime.topics.for_type("contact.opened"), customer.encode(), body)
            for body in map(orjson.dumps, bodies)
        ]
    )

    ingest_everything(runtime)  # raised ValueError from the counter before the fix

    got = counted(runtime)
    assert got["journey_ingest_batch_records_count", ""] == 1  # one batch, all three
    outcomes = {o: got.get(("journey_ingest_records_total", o), 0.0) for o in OUTCOMES}
    assert outcomes == {"applied": 2, "refused": 1, "parked": 0, "ignored": 0}
    (letter,) = dead_letters(runtime)
    assert source_coordinates(letter) == placed[1]
    assert "R-CMP-01" in (letter.header("reason") or b"").decode()


OUTCOMES = ("applied", "refused", "parked", "ignored")

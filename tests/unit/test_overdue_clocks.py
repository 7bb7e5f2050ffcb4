"""Issue 14, item 2: while a deadline is past due but not breached yet (inside the allowed
lateness, or before the timer's next round), the read side shows it as ``overdue``, not
``open``: the complaint ledger's clock and its count, the deadline index, ``journey
status`` and ``/metrics``. Judged when read against the SLA timer's watermark — the latest
event time, or now on the wall clock — never stored, so the rows stay replay-equal.

The R-RESP-01 clock of a chat the customer opened by writing at ``T0``, due 30 s later,
on an embedded runtime through its HTTP API."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import journey.bootstrap
from api.main import create_api
from domain.ids import aggregate_id
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.factories import contact_opened
from tests.integration.drive import ingest_everything, project_everything, publish

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
S = timedelta(seconds=1)
DUE = T0 + 30 * S
LATENESS = timedelta(minutes=5)  # 2026.1
CASE = "k-chat"


@pytest.fixture
def make_runtime(settings_env: dict[str, str]) -> Iterator[Callable[[str], Runtime]]:
    made: list[Runtime] = []

    def make(clock: str) -> Runtime:
        with patch.dict(os.environ, {**settings_env, "JOURNEY_CLOCK": clock}):
            runtime = build(Settings())
        runtime.create_topics()
        made.append(runtime)
        publish_now(runtime, "cust-a", contact_opened(**chat()))
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def chat() -> dict[str, Any]:
    return {
        "customer_id": "cust-a",
        "contact_id": CASE,
        "classification": "inquiry",
        "occurred_at": T0.isoformat(),
        "first_message_id": "m-0",
    }


def publish_now(runtime: Runtime, key: str, *events: dict[str, Any]) -> None:
    publish(runtime, [orjson.dumps(event) for event in events], key=key)
    ingest_everything(runtime)
    project_everything(runtime)


def event_time_reaches(runtime: Runtime, at: datetime) -> None:
    """Another customer's contact at ``at``: the event-time watermark moves there."""
    other = f"o-{int(at.timestamp())}"
    opened = contact_opened(
        customer_id=other, contact_id=other, channel="email", occurred_at=at.isoformat()
    )
    publish_now(runtime, other, opened)
    assert runtime.deadlines.watermark() == at


class Analyst:
    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        key = runtime.api_keys.create("analyst").secret_text
        self.headers = {"Authorization": f"Bearer {key}"}

    def clock(self) -> tuple[str, int]:
        """R-RESP-01's state in the case's row, and the row's count of overdue clocks."""
        answer = self.client.get(f"/v1/complaints/{CASE}", headers=self.headers)
        assert answer.status_code == 200, answer.text
        row = answer.json()
        listed = self.client.get("/v1/complaints", headers=self.headers).json()["items"]
        assert [r["sla"] for r in listed if r["case_ref"] == CASE] == [row["sla"]]
        return row["sla"]["R-RESP-01"]["outcome"], row["overdue"]

    def in_360(self) -> list[str]:
        """The rules the customer 360 shows overdue on the case (open or awaiting)."""
        answer = self.client.get("/v1/customers/cust-a", headers=self.headers)
        assert answer.status_code == 200, answer.text
        cases = answer.json()["cases"]
        [case] = [c for c in cases["open"] + cases["awaiting_confirmation"]]
        return list(case["overdue"])

    def csv_overdue(self) -> str:
        answer = self.client.get("/v1/complaints", params={"format": "csv"}, headers=self.headers)
        [row] = [r for r in csv.DictReader(io.StringIO(answer.text)) if r["case_ref"] == CASE]
        return row["overdue"]


@pytest.fixture
def analyst_of() -> Iterator[Callable[[Runtime], Analyst]]:
    clients: list[TestClient] = []

    def analyst(runtime: Runtime) -> Analyst:
        client = TestClient(create_api(runtime, workers=set()))
        client.__enter__()
        clients.append(client)
        return Analyst(client, runtime)

    yield analyst
    for client in clients:
        client.__exit__(None, None, None)


def metric(client: TestClient, name: str, **labels: str) -> float:
    """The sample of ``name`` with exactly ``labels``."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"no {name} {labels}")


def test_r_resp_01_on_event_time_overdue_from_a_second_past_due_until_breached(
    make_runtime: Callable[[str], Runtime], analyst_of: Callable[[Runtime], Analyst]
) -> None:
    """R-RESP-01 under 2026.1 (5 min of allowed lateness): open at the due time, overdue
    one second later and through the lateness, breached one second after it."""
    runtime = make_runtime("event_time")
    analyst = analyst_of(runtime)
    timer = runtime.clock_timer()
    assert analyst.clock() == ("open", 0)

    event_time_reaches(runtime, DUE)
    assert analyst.clock() == ("open", 0)
    assert runtime.status().overdue == 0
    assert analyst.in_360() == []

    event_time_reaches(runtime, DUE + S)
    assert analyst.clock() == ("overdue", 1)
    assert analyst.in_360() == ["R-RESP-01"]
    assert analyst.csv_overdue() == "1"
    assert (runtime.status().overdue, runtime.status().timer_backlog) == (1, 0)
    assert metric(analyst.client, "journey_overdue_deadlines", rule="R-RESP-01") == 1
    assert metric(analyst.client, "journey_open_deadlines", rule="R-RESP-01") == 1
    assert metric(analyst.client, "journey_breached_deadlines", rule="R-RESP-01") == 0
    watermark = metric(analyst.client, "journey_event_time_watermark_seconds")
    assert watermark == (DUE + S).timestamp()
    [listed] = runtime.deadlines.overdue(runtime.watermark())
    assert (listed["rule"], listed["key"]) == ("R-RESP-01", "R-RESP-01")
    # Nothing of it is stored: the row is what its events made it.
    stored = runtime.ledger.row(str(aggregate_id("case", CASE)))
    assert stored is not None
    assert (stored["sla"]["R-RESP-01"]["outcome"], stored["overdue"]) == ("open", 0)

    event_time_reaches(runtime, DUE + LATENESS)
    assert timer.run_once() == 0
    assert analyst.clock() == ("overdue", 1)

    event_time_reaches(runtime, DUE + LATENESS + S)
    assert runtime.status().timer_backlog == 1  # for the timer to breach
    assert timer.run_once() == 1
    project_everything(runtime)
    assert analyst.clock() == ("breached", 0)
    assert (runtime.status().overdue, runtime.status().timer_backlog) == (0, 0)
    assert analyst.in_360() == []
    assert runtime.status().breaches["R-RESP-01"] == 1
    assert metric(analyst.client, "journey_breached_deadlines", rule="R-RESP-01") == 1
    assert metric(analyst.client, "journey_breached_deadlines", rule="R-RESP-02") == 0


def test_r_resp_01_on_the_wall_clock_overdue_is_judged_against_now(
    make_runtime: Callable[[str], Runtime],
    analyst_of: Callable[[Runtime], Analyst],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """R-RESP-01, JOURNEY_CLOCK=wall_clock: no event moves time, now does; the timer
    breaches at the deadline, and between the due time and its round the clock shows
    overdue."""
    now = [DUE]
    monkeypatch.setattr(journey.bootstrap, "wall_clock", lambda: now[0])
    runtime = make_runtime("wall_clock")
    analyst = analyst_of(runtime)
    assert runtime.deadlines.watermark() == T0
    assert analyst.clock() == ("open", 0)
    assert runtime.clock_timer().run_once() == 0

    now[0] = DUE + S
    assert analyst.clock() == ("overdue", 1)
    assert (runtime.status().overdue, runtime.status().timer_backlog) == (1, 1)

    assert runtime.clock_timer().run_once() == 1
    project_everything(runtime)
    assert analyst.clock() == ("breached", 0)
    assert runtime.status().timer_backlog == 0

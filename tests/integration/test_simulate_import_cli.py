"""``journey simulate`` and ``journey import`` end to end (docs/data.md).

A small simulation with bad records is published into a runtime (every pairing of log and
store), ingested and projected: every good record is applied, every bad one is
dead-lettered with a reason naming its field, and the read models' figures equal the
figures this test computes from the generated stream itself (cases per channel, reopenings
(R-CMP-07), surveys answered (R-SAT-01), orders per status and late deliveries (R-ORD-04),
refunds (R-REF-04)). Then the commands: ``import`` on a slice of each data set,
``simulate --dry-run`` byte for byte, ``simulate`` publishing.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import orjson
import pytest

from consumers.deadletter_reading import read_dead_letters
from journey.bootstrap import Runtime, build
from journey.cli import data as cli_data
from journey.settings import Settings
from tests.integration.datasets import data_set, ledger
from tests.integration.drive import ingest_everything, project_everything
from tools.simulator import SimConfig, SimRecord, simulate

CONFIG = SimConfig(customers=50, days=30, seed=20261122, bad_rate=0.05)


def bodies(stream: list[SimRecord], event_type: str) -> list[dict[str, Any]]:
    return [orjson.loads(r.value) for r in stream if r.bad_kind is None and r.type == event_type]


def expected_orders(stream: list[SimRecord]) -> dict[str, dict[str, Any]]:
    """Per order, from the stream: status, promised date, delivery time, refunds."""
    orders: dict[str, dict[str, Any]] = {}
    for body in bodies(stream, "order.placed"):
        data = body["data"]
        orders[data["order_id"]] = {
            "customer_id": body["customer_id"],
            "status": "placed",
            "promised": datetime.fromisoformat(data["promised_delivery_at"]),
            "delivered_at": None,
            "refunded": Decimal("0"),
        }
    for body in bodies(stream, "order.delay_announced"):
        orders[body["data"]["order_id"]]["promised"] = datetime.fromisoformat(
            body["data"]["new_promised_delivery_at"]
        )
    for kind, status in (
        ("order.shipped", "shipped"),
        ("order.delivered", "delivered"),
        ("order.cancelled", "cancelled"),
    ):
        for body in bodies(stream, kind):
            order = orders[body["data"]["order_id"]]
            order["status"] = status
            if status == "delivered":
                order["delivered_at"] = datetime.fromisoformat(body["occurred_at"])
    return_order = {
        b["data"]["return_id"]: b["data"]["order_id"] for b in bodies(stream, "return.requested")
    }
    for body in bodies(stream, "refund.refunded"):
        orders[return_order[body["data"]["return_id"]]]["refunded"] += Decimal(
            body["data"]["amount"]
        )
    return orders


def test_a_simulation_is_applied_and_its_figures_are_the_read_models(runtime: Runtime) -> None:
    stream = list(simulate(CONFIG))
    runtime.create_topics()
    summary = cli_data.publish(runtime.publisher, runtime.topics, CONFIG, None)
    assert summary.events + summary.bad == len(stream)
    ingest_everything(runtime)
    project_everything(runtime)

    # Every bad record, and only those, dead-lettered with a reason naming the field.
    bad = {r.value: r for r in stream if r.bad_kind is not None}
    assert len({r.bad_kind for r in bad.values()}) >= 5
    letters = read_dead_letters(runtime.log, runtime.topics.dead_letters, idle_s=2)
    assert len(letters) == len(bad)
    for letter in letters:
        record = bad[letter.original]
        assert record.bad_field is not None
        assert record.bad_field in letter.reason, (record.bad_kind, letter.reason)

    # Complaint ledger: cases per channel, reopenings, surveys answered.
    rows = ledger(runtime)
    opened = [b for b in bodies(stream, "contact.opened") if "case_id" not in b["data"]]
    assert Counter(r["channel"] for r in rows.values()) == Counter(b["channel"] for b in opened)
    assert sum(r["reopen_count"] for r in rows.values()) == len(bodies(stream, "case.reopened"))
    answered = len(bodies(stream, "survey.answered"))
    assert answered > 0
    assert sum(1 for r in rows.values() if r["satisfaction"]) == answered

    # Customer 360: orders per status, late deliveries, refunds per order.
    orders = expected_orders(stream)
    seen: dict[str, dict[str, Any]] = {}
    customers = sorted({o["customer_id"] for o in orders.values()})
    for customer_id in customers:
        view = runtime.customers.view(customer_id)
        assert view is not None
        seen |= {o["order_id"]: o for o in view["orders"]}
    assert Counter(o["status"] for o in seen.values()) == Counter(
        o["status"] for o in orders.values()
    )
    late = {
        order_id
        for order_id, o in orders.items()
        if o["delivered_at"] is not None and o["delivered_at"] > o["promised"]
    }
    assert {
        order_id for order_id, o in seen.items() if o["status"] == "delivered" and o["late"]
    } == late
    refunded = {order_id: o["refunded"] for order_id, o in orders.items() if o["refunded"]}
    assert {
        order_id: Decimal(o["refunded"]) for order_id, o in seen.items() if Decimal(o["refunded"])
    } == refunded


# -- the commands ----------------------------------------------------------------------------


@pytest.fixture
def env(settings_env: dict[str, str]) -> dict[str, str]:
    return dict(settings_env, JOURNEY_TOPIC_PARTITIONS="2")


def run(env: dict[str, str], *argv: str) -> int:
    with patch.dict(os.environ, env):
        return cli_data.main(list(argv))


@pytest.mark.parametrize(
    ("kind", "folder"),
    [
        ("olist", "olist-ecommerce"),
        ("cfpb", "cfpb-complaints-bank-of-america"),
        ("cfpb", "cfpb-complaints-sample"),
        ("servicenow", "servicenow-incident-event-log"),
    ],
)
def test_import_a_slice_of_each_data_set(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], kind: str, folder: str
) -> None:
    path = data_set(folder)
    argv = ("import", kind, "--data", str(path), "--limit", "30", "--json", "--new-store")
    assert run(env, *argv) == 0
    out, err = capsys.readouterr()
    summary = orjson.loads(out)
    assert summary["kind"] == kind
    assert summary["units"] == 30
    assert summary["events_published"] == sum(summary["events_by_type"].values()) > 0
    # stderr is not a terminal: progress and the summary are JSON log lines, no "\r".
    assert "\r" not in err
    logged = [orjson.loads(line) for line in err.splitlines()]
    progress = [line for line in logged if line["logger"] == "journey.progress"]
    assert progress[-1]["done"] == progress[-1]["total"] == summary["events_published"]
    (finished,) = [line for line in logged if line.get("import_kind") == kind]
    assert finished["events_published"] == summary["events_published"]
    with patch.dict(os.environ, env):
        runtime = build(Settings())
    try:
        ingest_everything(runtime)
        status = runtime.status()
        assert status.dead_letters == 0
    finally:
        runtime.close()


def test_import_of_a_missing_folder_fails_clearly(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ("import", "olist", "--data", str(tmp_path / "nowhere"), "--new-store")
    assert run(env, *argv) == 1
    assert "journey: import olist:" in capsys.readouterr().err


def test_simulate_dry_run_is_the_same_every_time(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("simulate", "--customers", "15", "--days", "20", "--seed", "4", "--bad-rate", "0.1")
    assert run(env, *argv, "--dry-run") == 0
    first, summary = capsys.readouterr()
    assert run(env, *argv, "--dry-run") == 0
    assert capsys.readouterr().out == first
    lines = first.splitlines()
    config = SimConfig(customers=15, days=20, seed=4, bad_rate=0.1)
    assert lines == [r.as_json_line().decode() for r in simulate(config)]
    assert "bad records by kind" in summary
    other = ("simulate", "--customers", "15", "--days", "20", "--seed", "5", "--dry-run")
    assert run(env, *other) == 0
    assert capsys.readouterr().out != first


def test_simulate_publishes_what_it_counts(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("simulate", "--customers", "10", "--days", "10", "--seed", "1", "--json")
    assert run(env, *argv, "--new-store") == 0
    summary = orjson.loads(capsys.readouterr().out)
    with patch.dict(os.environ, env):
        runtime = build(Settings())
    try:
        ingest_everything(runtime)
        status = runtime.status()
        assert sum(p.log_end_offset for p in status.partitions) == summary["events"] > 0
        assert status.dead_letters == 0
    finally:
        runtime.close()


def test_simulate_refuses_a_window_that_ends_in_the_future(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("simulate", "--customers", "1", "--days", "30", "--seed", "1", "--start", "2999-01-01")
    assert run(env, *argv) == 2
    assert "future" in capsys.readouterr().err

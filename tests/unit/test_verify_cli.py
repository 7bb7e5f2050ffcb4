"""``journey verify`` on an embedded runtime (issue 13, item 11): the summary per kind on
stdout (text or JSON), exit code 0 when nothing failed and 1 when something did, a
progress bar on stderr when stderr is a terminal (log lines otherwise), ``--kind`` and
``--quiet``."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import orjson
import pytest

from contracts.envelope import validate
from domain.order import Order
from journey.bootstrap import Runtime, build
from journey.cli import main
from journey.settings import Settings
from tests.e2e.journey_script import Journey, script
from tests.unit.feeding import NOW, Feed


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def env(settings_env: dict[str, str]) -> Iterator[dict[str, str]]:
    with patch.dict(os.environ, settings_env):
        yield settings_env


@pytest.fixture
def journey(env: dict[str, str]) -> Journey:
    """The scripted journey stored and chained, in a runtime closed before the command."""
    runtime: Runtime = build(Settings())
    try:
        made = script()
        events = [validate(e, now=NOW, max_future=timedelta(minutes=5)) for e in made.events]
        assert Feed(runtime.app)(*events) == []
        while runtime.audit_chain.run_once():
            pass
    finally:
        runtime.close()
    return made


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["verify", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def alter_a_link(order: str) -> None:
    runtime = build(Settings())
    try:
        with runtime.read_store.transaction() as cursor:
            cursor.execute(
                "UPDATE audit_chain SET hash = :h WHERE aggregate_id = :id AND version = 1",
                {"h": "00" * 32, "id": str(Order.create_id(order))},
            )
    finally:
        runtime.close()


def test_an_intact_store_exits_0_with_a_summary_per_kind(
    journey: Journey, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = verify(capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == [
        "kind",
        "aggregates",
        "events",
        "checked",
        "ok",
        "failed",
        "pending",
    ]
    table = {line.split()[0]: line.split()[1:] for line in lines[1:-1]}
    assert table["contacts"][0] == "2"
    assert set(table) == {
        "cases", "contacts", "customers", "orders", "returns", "surveys", "callbacks", "total",
    }  # fmt: skip
    assert table["total"][0] == table["total"][2] == "8"
    assert lines[-1] == "journey verify: 8 aggregates checked, ok"
    assert "verifying" not in err  # stderr is no terminal here: no bar


def test_a_failure_exits_1_and_is_named_in_text_and_json(
    journey: Journey, capsys: pytest.CaptureFixture[str]
) -> None:
    alter_a_link(journey.order)
    order_id = Order.create_id(journey.order)

    code, out, err = verify(capsys, "--json")
    assert code == 1
    summary: dict[str, Any] = orjson.loads(out)
    assert summary["ok"] is False
    assert (summary["total"]["failed"], summary["kinds"]["orders"]["failed"]) == (1, 1)
    assert summary["failures"] == [
        {
            "kind": "orders",
            "ref": journey.order,
            "aggregate_id": str(order_id),
            "version": 1,
            "problem": "altered",
            "detail": "the stored event differs from the one chained",
        }
    ]
    assert f"audit verification failed: orders {journey.order} ({order_id})" in err

    code, out, _ = verify(capsys, "--quiet", "--kind", "orders", "--kind", "cases")
    assert code == 1
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[1:-2]] == ["total"]  # quiet: totals only
    assert lines[-2].startswith(f"FAILED orders {journey.order} ({order_id}) version 1 altered")
    assert lines[-1] == "journey verify: 2 aggregates checked, 1 failed"

    code, _, _ = verify(capsys, "--kind", "cases")
    assert code == 0


def test_the_progress_bar_is_drawn_on_a_terminal_unless_quiet(
    journey: Journey, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    with patch("sys.stderr", terminal):
        assert main(["verify"]) == 0
    assert "verify" in terminal.getvalue()
    assert "8/8" in terminal.getvalue()

    quiet = Terminal()
    with patch("sys.stderr", quiet):
        assert main(["verify", "--quiet"]) == 0
    assert "aggregates" not in quiet.getvalue()


def test_progress_is_log_lines_when_stderr_is_not_a_terminal(
    journey: Journey, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["verify"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [orjson.loads(line) for line in err.splitlines()]  # not a terminal: JSON lines
    progress = [line for line in lines if line["logger"] == "journey.progress"]
    assert progress[-1]["msg"].startswith("verify: 8/8 aggregates (100%)")
    assert (progress[-1]["done"], progress[-1]["total"]) == (8, 8)


def test_an_unknown_kind_is_refused_by_the_parser(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", "--kind", "parking"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("journey: ")
    assert "invalid choice: 'parking'" in line


def test_verify_answers_on_an_empty_store(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = verify(capsys)
    assert code == 0
    assert out.splitlines()[-1] == "journey verify: 0 aggregates checked, ok"

"""Every worker's loop, and a bulk import's or simulation's, runs the cycle collector less
often (issue 18), never more often than the process asked for; start-up's objects are frozen
once (``adapters.collector``)."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator
from unittest.mock import patch

import pytest

from adapters.collector import COLLECTOR_THRESHOLDS, freeze_start_up, tune_collector
from journey.bootstrap import Runtime
from journey.cli import data as cli_data
from tools.importers import ImportFailed

DEFAULTS = (700, 10, 10)


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)
    gc.unfreeze()


def test_the_defaults_are_raised() -> None:
    gc.set_threshold(*DEFAULTS)
    tune_collector()
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS
    assert gc.isenabled()


def test_higher_thresholds_the_process_set_are_kept() -> None:
    gc.set_threshold(50_000, 5, 1_000)
    tune_collector()
    assert gc.get_threshold() == (50_000, COLLECTOR_THRESHOLDS[1], 1_000)


def _ingest(runtime: Runtime) -> None:
    worker = runtime.ingest_worker()
    worker.start()
    worker.close()


def _stopped() -> threading.Event:
    stop = threading.Event()
    stop.set()
    return stop


WORKERS: dict[str, Callable[[Runtime], None]] = {
    "ingest": _ingest,
    "projections": lambda runtime: runtime.projection_runner.run(_stopped()),
    "timer": lambda runtime: runtime.clock_timer().run(_stopped()),
}


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_each_worker_raises_the_thresholds_when_it_starts(runtime: Runtime, name: str) -> None:
    # The read models' child process (`journey project`) ran with the defaults: a full
    # collection over a batch's decoded events was a fifth of the read side's CPU.
    gc.set_threshold(*DEFAULTS)
    WORKERS[name](runtime)
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS


def test_freezing_start_up_leaves_later_objects_to_the_collector() -> None:
    built_at_start = [[n] for n in range(3)]
    freeze_start_up()
    made_later = [[n] for n in range(3)]
    watched = gc.get_objects()  # what a collection scans; the frozen generation is not in it
    assert not any(item is built_at_start for item in watched)
    assert any(item is made_later for item in watched)


def test_a_bulk_import_runs_its_loop_with_the_raised_thresholds(
    settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []

    def importer(*_: object) -> None:
        seen.append(gc.get_threshold())
        raise ImportFailed("stops here")  # what it was run with is all this test needs

    gc.set_threshold(*DEFAULTS)
    monkeypatch.setattr(cli_data, "run_import", importer)
    with patch.dict(os.environ, settings_env):
        assert cli_data.main(["import", "cfpb", "--data", "unused", "--new-store"]) == 1
    assert seen == [COLLECTOR_THRESHOLDS]


def test_a_simulation_is_published_with_the_raised_thresholds(
    settings_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    gc.set_threshold(*DEFAULTS)
    argv = ["simulate", "--customers", "2", "--days", "2", "--seed", "1", "--new-store"]
    with patch.dict(os.environ, settings_env):
        assert cli_data.main(argv) == 0
    assert "events" in capsys.readouterr().out
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS

"""Every worker's loop runs the cycle collector less often (issue 18), never more often than
the process asked for; start-up's objects are frozen once (``adapters.collector``)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator

import pytest

from adapters.collector import COLLECTOR_THRESHOLDS, freeze_start_up, tune_collector
from journey.bootstrap import Runtime

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

"""The ingest runs the cycle collector less often (issue 18), never more often than the
process asked for."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from consumers.ingest import COLLECTOR_THRESHOLDS, tune_collector


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_the_defaults_are_raised() -> None:
    gc.set_threshold(700, 10, 10)
    tune_collector()
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS
    assert gc.isenabled()


def test_higher_thresholds_the_process_set_are_kept() -> None:
    gc.set_threshold(50_000, 5, 1_000)
    tune_collector()
    assert gc.get_threshold() == (50_000, COLLECTOR_THRESHOLDS[1], 1_000)

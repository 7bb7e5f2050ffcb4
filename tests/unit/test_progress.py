"""``journey.cli.progress``: one style of progress for import, simulate, rebuild and verify
(issue 17, item 3). The rate is no rate until time has passed; off a terminal, progress is
log lines at a bounded rate, never carriage returns."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from adapters.logformat import configure_logging
from journey.cli.progress import LogLines, Rate, progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_logging("text", stream=stream)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def test_no_rate_before_the_minimum_time_and_none_from_a_first_batch() -> None:
    rate = Rate(min_elapsed_s=1.0)
    # The first report comes after a batch of 2,000 done "at once": it is the baseline,
    # not 2,000 per millisecond.
    assert rate.observe(2000, now=10.0) is None
    assert rate.observe(4000, now=10.001) is None
    assert rate.observe(4000, now=10.5) is None
    assert rate.observe(6000, now=12.0) == pytest.approx(2000.0)
    assert rate.observe(26000, now=20.0) == pytest.approx(2400.0)


def test_a_rate_never_goes_below_zero() -> None:
    rate = Rate(min_elapsed_s=0.0)
    rate.observe(10, now=0.0)
    assert rate.observe(5, now=1.0) == 0.0


def test_off_a_terminal_lines_come_at_start_every_interval_and_at_the_end(
    logged: io.StringIO,
) -> None:
    clock = Clock()
    report = LogLines("import olist", interval_s=10.0, clock=clock)
    for done in range(0, 100_001, 1000):  # 101 reports, one every half second
        report(done, 100_000)
        clock.now += 0.5
    lines = logged.getvalue().splitlines()
    # At the start, then every 10 s of the 50 s (the last one the end): bounded, whatever
    # the number of reports.
    assert len(lines) == 6
    assert "\r" not in logged.getvalue()
    assert "import olist: 0/100,000 events (0%), -" in lines[0]
    assert "import olist: 20,000/100,000 events (20%), 2,000 events/s" in lines[1]
    assert "import olist: 100,000/100,000 events (100%), 2,000 events/s" in lines[-1]
    assert "done=100000 total=100000 per_s=2000.0" in lines[-1]


def test_the_end_is_told_once(logged: io.StringIO) -> None:
    clock = Clock()
    report = LogLines("rebuild complaint_ledger", "notifications", clock=clock)
    report(5, 10)
    report(10, 10)
    report(10, 10)
    assert len(logged.getvalue().splitlines()) == 2


def test_the_helper_picks_log_lines_off_a_terminal_and_a_bar_on_one(
    logged: io.StringIO,
) -> None:
    plain = io.StringIO()
    with progress("simulate", stream=plain) as report:
        report(0, 10)
        report(10, 10)
    assert plain.getvalue() == ""  # the lines went to the log
    assert "simulate: 10/10 events (100%)" in logged.getvalue()

    terminal = Terminal()
    with progress("simulate", stream=terminal) as report:
        report(10, 10)
    assert "10/10" in terminal.getvalue()
    assert "simulate" in terminal.getvalue()

    quiet = Terminal()
    with progress("verify", stream=quiet, enabled=False) as report:
        report(1, 2)
    assert quiet.getvalue() == ""

"""Progress of a long command (``import``, ``simulate``, ``rebuild``, ``verify``) on stderr,
in one style.

On a terminal: a ``rich`` bar (label, bar, done/total, percentage, rate, elapsed), redrawn
in place. Anywhere else (a file, a pipe, a log collector): a log line (``journey.progress``,
INFO, with ``task``, ``done``, ``total`` and ``per_s`` as fields) at the start, at most
every ``interval_s`` seconds after, and at the end — no carriage returns, whatever the log
format.

The rate is counted from the first report on, and shown only once ``MIN_ELAPSED_S`` have
passed since: a first batch that arrives all at once is not a rate.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

logger = logging.getLogger("journey.progress")

Report = Callable[[int, int], None]
"""``report(done, total)``: how far a command is."""

Clock = Callable[[], float]

MIN_ELAPSED_S = 1.0
"""No rate before this long has passed since the first report."""

INTERVAL_S = 10.0
"""At most one log line this often when stderr is not a terminal."""


class Rate:
    """Items per second from the first observation on; None until ``min_elapsed_s`` passed
    since it (what was done before the first observation is not counted)."""

    def __init__(self, min_elapsed_s: float = MIN_ELAPSED_S) -> None:
        self._min_elapsed_s = min_elapsed_s
        self._first: tuple[float, int] | None = None

    def observe(self, done: int, now: float) -> float | None:
        """The rate once ``done`` items are done at ``now`` (seconds, any monotonic clock)."""
        if self._first is None:
            self._first = (now, done)
            return None
        started, done_then = self._first
        elapsed = now - started
        if elapsed < self._min_elapsed_s:
            return None
        return max(done - done_then, 0) / elapsed


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def rate_text(per_s: float | None, unit: str) -> str:
    return "-" if per_s is None else f"{per_s:,.0f} {unit}/s"


class LogLines:
    """``report(done, total)`` as log lines at a bounded rate (stderr not a terminal)."""

    def __init__(
        self,
        label: str,
        unit: str = "events",
        *,
        interval_s: float = INTERVAL_S,
        clock: Clock = time.monotonic,
        min_elapsed_s: float = MIN_ELAPSED_S,
    ) -> None:
        self.label = label
        self.unit = unit
        self.interval_s = interval_s
        self._clock = clock
        self._rate = Rate(min_elapsed_s)
        self._last: float | None = None
        self._finished = False

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        per_s = self._rate.observe(done, now)
        finished = total > 0 and done >= total
        due = self._last is None or now - self._last >= self.interval_s
        if self._finished or not (due or finished):
            return
        self._last = now
        self._finished = finished
        share = f" ({done / total:.0%})" if total > 0 else ""
        logger.info(
            "%s: %s/%s %s%s, %s",
            self.label,
            f"{done:,}",
            f"{total:,}",
            self.unit,
            share,
            rate_text(per_s, self.unit),
            extra={
                "task": self.label,
                "done": done,
                "total": total,
                "per_s": None if per_s is None else round(per_s, 1),
            },
        )


class _RateColumn(ProgressColumn):
    """The rate our :class:`Rate` computed, kept in the task's fields."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        return Text(rate_text(task.fields.get("per_s"), self.unit), style="progress.data.speed")


@contextmanager
def _bar(
    label: str, unit: str, stream: TextIO, clock: Clock, min_elapsed_s: float
) -> Iterator[Report]:
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        _RateColumn(unit),
        TimeElapsedColumn(),
        console=Console(file=stream),
    )
    rate = Rate(min_elapsed_s)
    with bar:
        task = bar.add_task(label, total=None, per_s=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, per_s=rate.observe(done, clock()))

        yield report


@contextmanager
def progress(
    label: str,
    unit: str = "events",
    *,
    stream: TextIO | None = None,
    enabled: bool = True,
    interval_s: float = INTERVAL_S,
    clock: Clock = time.monotonic,
    min_elapsed_s: float = MIN_ELAPSED_S,
) -> Iterator[Report]:
    """A ``report(done, total)`` for the block: a bar when ``stream`` (stderr by default) is
    a terminal, log lines otherwise, nothing when not ``enabled``."""
    target = stream if stream is not None else sys.stderr
    if not enabled:
        yield lambda done, total: None
    elif is_terminal(target):
        with _bar(label, unit, target, clock, min_elapsed_s) as report:
            yield report
    else:
        yield LogLines(label, unit, interval_s=interval_s, clock=clock, min_elapsed_s=min_elapsed_s)

"""A plain-text progress bar on stderr: ``progress(done, total)`` as ``run_import`` calls it."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class TextProgress:
    """Redraws one line at most every ``interval_s`` seconds (and at the end)."""

    def __init__(
        self, label: str, stream: TextIO | None = None, width: int = 30, interval_s: float = 0.2
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interval_s = interval_s
        self._last_draw = 0.0
        self._started: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._started is None:
            self._started = now
        finished = done >= total
        if not finished and now - self._last_draw < self.interval_s:
            return
        self._last_draw = now
        share = done / total if total else 1.0
        filled = round(self.width * share)
        rate = done / max(now - self._started, 1e-3)
        line = (
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}]"
            f" {done:,}/{total:,} events {share:6.1%} {rate:,.0f}/s"
        )
        self.stream.write(line + ("\n" if finished else ""))
        self.stream.flush()

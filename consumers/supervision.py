"""Workers that outlive infrastructure trouble.

A worker loop (ingest, projections, SLA timer) refuses bad records itself: a record error is
dead-lettered and the loop goes on. What escapes a loop is therefore trouble with what it
runs on — the store or the log unreachable, a connection dropped — or a bug. Either way the
supervisor logs it, reports the worker as failing (``/readyz`` turns false), waits a backoff
that doubles up to a bound, and starts the worker again, built afresh: it resumes from the
positions stored with the events, so nothing is skipped and nothing is applied twice. The
worker calls ``beat`` after each round that worked; that clears the failure and the backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

Loop = Callable[[threading.Event], None]
"""A worker's loop: runs until the event is set."""

Beat = Callable[[], None]
"""Called by a worker after each round that worked."""


@dataclass(frozen=True)
class Backoff:
    initial_s: float = 0.5
    max_s: float = 30.0


class Supervised:
    """One worker under supervision. ``build(beat)`` makes a fresh worker's loop each time
    (a closed Kafka consumer cannot be reused); ``failing[name]`` says what went wrong while
    it retries, and is removed once the worker beats again."""

    def __init__(
        self,
        name: str,
        build: Callable[[Beat], Loop],
        failing: MutableMapping[str, str],
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self._build = build
        self._failing = failing
        self._backoff = backoff or Backoff()
        self._delay = self._backoff.initial_s
        self.restarts = 0

    def beat(self) -> None:
        if self.name in self._failing:
            logger.info("worker %s is working again", self.name)
            self._failing.pop(self.name, None)
        self._delay = self._backoff.initial_s

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._build(self.beat)(stop)
            except Exception as error:
                self._failing[self.name] = (
                    f"retrying in {self._delay:g} s after {type(error).__name__}: {error}"
                )[:500]
                logger.exception("worker %s failed; retrying in %g s", self.name, self._delay)
                self.restarts += 1
                if stop.wait(self._delay):
                    return
                self._delay = min(self._delay * 2, self._backoff.max_s)
            else:
                return


@dataclass
class Workers:
    """Background workers running in this process."""

    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """Worker name → what is wrong, while it is (a supervised worker retrying, or one that
    ended on an error); ``/readyz`` reports each."""

    def start(self, name: str, target: Callable[[threading.Event], None]) -> None:
        def run() -> None:
            try:
                target(self.stop_event)
            except Exception as error:
                logger.exception("worker %s stopped on an error", name)
                self.failed[name] = f"{type(error).__name__}: {error}"

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self, timeout_s: float = 30) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout_s)

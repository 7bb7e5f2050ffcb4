"""A supervised worker outlives infrastructure trouble (issue 13, item 2): what escapes its
loop is reported while it retries, it is built afresh after a backoff, and a round that
works clears the report."""

from __future__ import annotations

import threading
from collections.abc import Callable

from consumers.supervision import Backoff, Beat, Loop, Supervised


class FlakyStore:
    """Fails the first ``failures`` rounds, then works; stops the loop after ``rounds``."""

    def __init__(self, failures: int, rounds: int, stop: threading.Event) -> None:
        self.failures = failures
        self.rounds = rounds
        self.stop = stop
        self.built = 0
        self.worked = 0
        self.seen_failing: list[dict[str, str]] = []

    def build(self, failing: dict[str, str]) -> Callable[[Beat], Loop]:
        def make(beat: Beat) -> Loop:
            self.built += 1

            def loop(stop: threading.Event) -> None:
                while not stop.is_set():
                    self.seen_failing.append(dict(failing))
                    if self.failures > 0:
                        self.failures -= 1
                        raise ConnectionError("store unreachable")
                    self.worked += 1
                    beat()
                    if self.worked >= self.rounds:
                        self.stop.set()

            return loop

        return make


def test_a_worker_that_fails_is_reported_rebuilt_and_cleared_once_it_works() -> None:
    stop = threading.Event()
    failing: dict[str, str] = {}
    store = FlakyStore(failures=3, rounds=2, stop=stop)
    worker = Supervised("ingest", store.build(failing), failing, Backoff(0.001, 0.004))

    worker.run(stop)

    assert store.built == 4, "one fresh worker per start"
    assert worker.restarts == 3
    reports = [seen.get("ingest", "") for seen in store.seen_failing]
    assert reports[0] == ""
    assert reports[1].startswith("retrying in 0.001 s after ConnectionError: store unreachable")
    assert reports[3].startswith("retrying in 0.004 s"), "the backoff doubles up to its bound"
    assert failing == {}, "a round that worked cleared the report"


def test_the_backoff_is_cut_short_by_a_stop() -> None:
    stop = threading.Event()
    failing: dict[str, str] = {}

    def build(beat: Beat) -> Loop:
        def loop(_: threading.Event) -> None:
            stop.set()  # asked to stop while it fails: the wait must not hold the stop up
            raise ConnectionError("down")

        return loop

    Supervised("timer", build, failing, Backoff(3600, 3600)).run(stop)

    assert "ConnectionError: down" in failing["timer"]


def test_a_loop_that_returns_is_not_restarted() -> None:
    built: list[int] = []

    def build(beat: Beat) -> Loop:
        built.append(1)
        return lambda stop: None

    Supervised("projections", build, {}).run(threading.Event())

    assert built == [1]

"""Runners started at once, each in a thread of its own (the tests of read-model shares)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from projections.runner import ProjectionRunner


def caught_up_at_once(runners: Sequence[ProjectionRunner], timeout_s: float = 120) -> None:
    """Each runner applies the log until it has nothing left, all in threads started
    together; the first error any of them raised is raised here."""
    failed: list[BaseException] = []

    def follow(runner: ProjectionRunner) -> None:
        try:
            while runner.run_once():
                pass
        except BaseException as error:  # raised below, in the test's thread
            failed.append(error)

    threads = [threading.Thread(target=follow, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    assert not any(thread.is_alive() for thread in threads), "a runner did not finish"
    if failed:
        raise failed[0]

"""Workers ``journey serve`` runs in child processes (``JOURNEY_WORKER_PROCESSES``).

A Python process computes on one core at a time (the GIL): with the ingest, six read models
and the timer as threads of one process, a catch-up of history runs on one core however
many the machine has. A worker named here runs instead as its own ``journey <command>``
(the same program, the same ``JOURNEY_*`` settings from the environment), which resumes
from the positions stored with the events like any worker, so nothing is skipped or applied
twice whichever process applies it.

Each child is watched by a thread of ``serve``: one that exits is started again after a
backoff that doubles up to 30 s (and logged); when ``serve`` stops, the children are asked
to stop (SIGTERM) and waited for. Should ``serve`` die without stopping them (kill -9), the
kernel ends them too (``PR_SET_PDEATHSIG``, Linux, asked by the child itself as it starts:
:func:`end_with_parent`), so no orphan keeps writing.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress

from consumers.supervision import Backoff

logger = logging.getLogger(__name__)

COMMANDS = {"ingest": "ingest", "projections": "project", "timer": "timer"}
"""Worker name (``journey.settings.WorkerName``) → the command that runs it alone."""
POLL_S = 0.5
STOP_TIMEOUT_S = 30.0
_PR_SET_PDEATHSIG = 1


PARENT_ENV = "JOURNEY_CHILD_OF"
"""Set by ``serve`` for a worker it starts: its own process id."""
SHARE_ENV = "JOURNEY_PROJECTION_SHARE"
"""Set by ``serve`` for each projections child when it starts several."""
CHILD_UNSET = frozenset({"JOURNEY_METRICS_PORT", SHARE_ENV})
"""Not handed down from ``serve``'s environment: the port is ``serve``'s, the share each
child's own."""


def end_with_parent() -> None:
    """In a worker ``serve`` started (``PARENT_ENV`` set): the kernel sends it SIGTERM when
    ``serve`` dies; and if ``serve`` died before it asked, it ends now. Asked here rather
    than between fork and exec (``preexec_fn``), which is unsafe in a process with
    threads, as ``serve`` is."""
    parent = os.environ.get(PARENT_ENV)
    if parent is None:
        return
    with suppress(OSError, AttributeError):  # not Linux: serve's own stop still ends it
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):
        raise SystemExit(0)


class ChildWorker:
    """One worker as a child process, started again whenever it exits until ``stop``."""

    def __init__(
        self,
        name: str,
        backoff: Backoff | None = None,
        share: tuple[int, int] | None = None,
    ) -> None:
        """``share``: for the projections, the share of the read models this child
        follows the log for (``JOURNEY_PROJECTION_SHARE``); None: all of them."""
        self.name = name if share is None else f"{name} {share[0]}/{share[1]}"
        self.command = [sys.executable, "-m", "journey.cli", COMMANDS[name]]
        self._share = share
        self._backoff = backoff or Backoff()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def run(self, stop: threading.Event) -> None:
        delay = self._backoff.initial_s
        while not stop.is_set():
            # The child serves no /metrics port of its own: serve's /metrics reads the store.
            env = {k: v for k, v in os.environ.items() if k not in CHILD_UNSET}
            env[PARENT_ENV] = str(os.getpid())
            if self._share is not None:
                env[SHARE_ENV] = f"{self._share[0]}/{self._share[1]}"
            self.process = subprocess.Popen(self.command, env=env)
            self.starts += 1
            logger.info("worker %s runs in process %d", self.name, self.process.pid)
            while self.process.poll() is None:
                if stop.wait(POLL_S):
                    self._stop(self.process)
                    return
            logger.error(
                "worker %s (process %d) exited with %s; starting it again in %g s",
                self.name,
                self.process.pid,
                self.process.returncode,
                delay,
            )
            if stop.wait(delay):
                return
            delay = min(delay * 2, self._backoff.max_s)

    @staticmethod
    def _stop(process: subprocess.Popen[bytes]) -> None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def children_of(names: Collection[str], projection_shares: int = 1) -> list[ChildWorker]:
    """One child per named worker; ``projections`` as ``projection_shares`` children, each
    following the log for its share of the read models, when more than one."""
    children: list[ChildWorker] = []
    for name in sorted(names):
        if name == "projections" and projection_shares > 1:
            children += [
                ChildWorker(name, share=(i, projection_shares))
                for i in range(1, projection_shares + 1)
            ]
        else:
            children.append(ChildWorker(name))
    return children


@contextmanager
def child_workers(
    names: Collection[str], projection_shares: int = 1
) -> Iterator[list[ChildWorker]]:
    """The named workers, each in child processes watched by a thread (``children_of``),
    while the block runs; stopped and waited for when it ends."""
    stop = threading.Event()
    children = children_of(names, projection_shares)
    threads = [
        threading.Thread(target=child.run, args=(stop,), name=f"child-{child.name}", daemon=True)
        for child in children
    ]
    for thread in threads:
        thread.start()
    try:
        yield children
    finally:
        stop.set()
        for thread in threads:
            thread.join(STOP_TIMEOUT_S + POLL_S)

"""Peak memory (resident set high-water mark) of the processes a benchmark runs.

Linux only; elsewhere every figure is ``None`` and the tables show a dash.

- a child process still running: ``VmHWM`` in ``/proc/<pid>/status`` (read it just before
  stopping the process: it is the peak so far);
- a child process that ended: ``os.wait4`` returns its ``ru_maxrss`` (``wait_peak``);
- this process: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (``own_peak``), the peak since
  it started, so a figure taken after a phase is the running maximum of all phases so far.

All figures are KiB.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

try:
    import resource
except ImportError:  # not on Linux/Unix
    resource = None  # type: ignore[assignment]


def peak(pid: int) -> int | None:
    """``VmHWM`` of a running process, KiB; ``None`` if it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def own_peak() -> int | None:
    """This process's peak resident set since it started, KiB (``ru_maxrss`` is KiB on
    Linux)."""
    if resource is None:
        return None
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def wait_peak(process: subprocess.Popen[bytes], timeout_s: float | None = None) -> int | None:
    """Wait for ``process`` to end and return its peak resident set, KiB.

    ``os.wait4`` reaps the child itself and gives its rusage; ``Popen`` is then told the
    exit status. With a timeout the wait polls, and raises ``subprocess.TimeoutExpired``."""
    if not hasattr(os, "wait4"):
        process.wait(timeout_s)
        return None
    flags = 0 if timeout_s is None else os.WNOHANG
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        if process.returncode is not None:
            return None  # already reaped elsewhere: no rusage left to read
        pid, status, usage = os.wait4(process.pid, flags)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return int(usage.ru_maxrss)
        if deadline is not None and time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(process.args, timeout_s or 0.0)
        time.sleep(0.05)


def mib(kib: int | None) -> str:
    """A KiB figure as MiB for a table; a dash when unknown."""
    return "-" if kib is None else f"{kib / 1024:,.0f}"


def reset_own_peak() -> bool:
    """Reset this process's ``VmHWM`` to its current resident set (Linux ≥ 4.0: ``5`` to
    ``/proc/self/clear_refs``), so that ``peak(os.getpid())`` afterwards is the peak of what
    ran since. ``ru_maxrss`` is not reset. False if the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True

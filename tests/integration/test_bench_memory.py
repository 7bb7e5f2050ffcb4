"""The benchmark's memory measurement (bench/memory.py) of this process and of a child
process it spawns: a wrong peak would make every memory figure wrong silently. (The rest
of the benchmark's helpers are unit-tested in tests/unit/test_bench_helpers.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import memory


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc only")
def test_peak_memory_of_self_and_of_a_child() -> None:
    assert memory.reset_own_peak()
    before = memory.peak(os.getpid())
    assert before is not None
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    assert (memory.peak(os.getpid()) or 0) >= before + 60 * 1024
    del block
    child = subprocess.Popen(
        [sys.executable, "-c", "b = bytearray(48 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"]
    )
    peak = memory.wait_peak(child, timeout_s=60)
    assert child.returncode == 0
    assert peak is not None
    assert peak >= 48 * 1024

"""Who used the CPU during a measurement: the ingest processes, PostgreSQL, the Kafka broker,
everything else on the host (Linux ``/proc``; elsewhere nothing is reported).

On a small shared host the rates move with the load; CPU-seconds per event of each part
move much less, and show which part is the limit.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid → (command name, user + system clock ticks, start time) of every process we can
    read. The start time tells a reused pid apart (names change: kernel workers)."""
    seen = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seen[int(entry.name)] = (name, int(fields[11]) + int(fields[12]), int(fields[19]))
    return seen


def _host() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0, 0
    ticks = [int(v) for v in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


@dataclass(frozen=True)
class Snapshot:
    processes: dict[int, tuple[str, int, int]]
    host: tuple[int, int]

    @classmethod
    def take(cls) -> Snapshot:
        return cls(_processes(), _host())


@dataclass(frozen=True)
class Usage:
    """CPU-seconds used between two snapshots, by part, and how busy the host was."""

    ingest: float
    postgres: float
    kafka: float
    other: float
    host_busy: float
    """Share of all cores' time that was not idle, 0..1."""

    @classmethod
    def between(cls, before: Snapshot, after: Snapshot, ingest: Collection[int]) -> Usage:
        parts = {"ingest": 0, "postgres": 0, "kafka": 0, "other": 0}
        for pid, (name, ticks, start) in after.processes.items():
            earlier = before.processes.get(pid)
            used = ticks - (earlier[1] if earlier and earlier[2] == start else 0)
            if pid in ingest:
                parts["ingest"] += used
            elif name == "postgres":
                parts["postgres"] += used
            elif name == "java":
                parts["kafka"] += used
            else:
                parts["other"] += used
        busy = after.host[0] - before.host[0]
        total = after.host[1] - before.host[1]
        return cls(
            ingest=parts["ingest"] / TICKS,
            postgres=parts["postgres"] / TICKS,
            kafka=parts["kafka"] / TICKS,
            other=parts["other"] / TICKS,
            host_busy=busy / total if total else 0.0,
        )

"""Records in event-time order, in bounded memory.

Records are collected in runs of at most ``run_size``; a full run is sorted and written to a
temporary file; the runs are then merged. Ties keep the order records were added in, so a
journey's steps of equal time stay in the order the importer built them. Memory holds one
run plus one record per spilled run, whatever the size of the data set.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NamedTuple

import orjson

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(at: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, unlike ``timestamp()``)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Pending(NamedTuple):
    """A record ready to publish; its value as JSON text (exactly sized, unlike the bytes
    orjson returns, which keep their whole output buffer)."""

    topic: str
    key: str
    value: str
    event_id: str
    type: str
    schema_version: int


_Entry = tuple[int, int, Pending]


class TimeOrder:
    def __init__(self, run_size: int = 50_000, folder: Path | None = None) -> None:
        if run_size < 1:
            raise ValueError("run_size must be at least 1")
        self._run_size = run_size
        self._folder = folder
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._run: list[_Entry] = []
        self._files: list[Path] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def spilled_runs(self) -> int:
        return len(self._files)

    def add(self, at: datetime, record: Pending) -> None:
        self._run.append((micros(at), self._count, record))
        self._count += 1
        if len(self._run) >= self._run_size:
            self._spill()

    def _spill(self) -> None:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="journey-import-", dir=self._folder)
        self._run.sort(key=lambda entry: (entry[0], entry[1]))
        path = Path(self._tmp.name) / f"run-{len(self._files):05d}.jsonl"
        with path.open("wb") as out:
            for at, seq, record in self._run:
                out.write(orjson.dumps([at, seq, *record]))
                out.write(b"\n")
        self._files.append(path)
        self._run = []

    @staticmethod
    def _read(handle: IO[bytes]) -> Iterator[_Entry]:
        for line in handle:
            at, seq, topic, key, value, event_id, event_type, version = orjson.loads(line)
            yield at, seq, Pending(topic, key, value, event_id, event_type, version)

    def drain(self) -> Iterator[Pending]:
        """Every record added, by event time then order of adding; then forgets them."""
        self._run.sort(key=lambda entry: (entry[0], entry[1]))
        if not self._files:
            run, self._run = self._run, []
            for _, _, record in run:
                yield record
            return
        handles = [path.open("rb") for path in self._files]
        try:
            streams = [self._read(handle) for handle in handles]
            in_memory, self._run = self._run, []
            merged = heapq.merge(*streams, iter(in_memory), key=lambda e: (e[0], e[1]))
            for _, _, record in merged:
                yield record
        finally:
            for handle in handles:
                handle.close()
            self.close()

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self._files = []

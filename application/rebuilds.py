"""Rebuilds started over HTTP: each runs in a thread of the API process and reports its
progress; one at a time per read model (the CLI's ``journey rebuild`` is the same work)."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from projections.base import Projection
from projections.rebuild import Progress, rebuild, rebuildable
from projections.registry import ReadModels
from projections.runner import NotificationReader

logger = logging.getLogger(__name__)

State = Literal["running", "swapped", "failed"]


class UnknownReadModel(LookupError):
    pass


class AlreadyRebuilding(RuntimeError):
    pass


@dataclass(frozen=True)
class RebuildJob:
    job_id: str
    read_model: str
    started_at: datetime
    state: State = "running"
    progress: Progress | None = None
    error: str | None = None


@dataclass
class RebuildJobs:
    read_models: ReadModels
    reader: NotificationReader
    _jobs: dict[str, RebuildJob] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, read_model: str) -> RebuildJob:
        by_name = rebuildable(self.read_models)
        if read_model not in by_name:
            raise UnknownReadModel(f"read_model: no {read_model!r}; one of {', '.join(by_name)}")
        with self._lock:
            if any(
                j.read_model == read_model and j.state == "running" for j in self._jobs.values()
            ):
                raise AlreadyRebuilding(f"{read_model} is being rebuilt already")
            job = RebuildJob(uuid.uuid4().hex[:16], read_model, datetime.now(UTC))
            self._jobs[job.job_id] = job
        threading.Thread(
            target=self._run, args=(job.job_id, by_name[read_model]), daemon=True
        ).start()
        return job

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)  # type: ignore[arg-type]

    def _run(self, job_id: str, live: Projection) -> None:
        try:
            done = rebuild(
                live,
                self.reader,
                progress=lambda p: self._update(job_id, progress=p),
                quarantine=self.read_models.quarantine,
            )
            self._update(job_id, progress=done, state="swapped")
        except Exception as error:  # reported on the job; the live copy is untouched
            logger.exception("rebuild of %s failed", live.name)
            self._update(job_id, state="failed", error=type(error).__name__)

    def get(self, job_id: str) -> RebuildJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[RebuildJob]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.started_at)

"""Runs projections: reads the event store's notification log in batches after each
projection's position and hands them over."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from eventsourcing.persistence import Mapper, ProcessRecorder

from projections.base import Projection

logger = logging.getLogger(__name__)


class ProjectionRunner:
    def __init__(
        self,
        recorder: ProcessRecorder,
        mapper: Mapper,  # type: ignore[type-arg]
        projections: Sequence[Projection],
        batch_size: int = 1000,
    ) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._projections = list(projections)
        self._batch_size = batch_size
        self.nudge = threading.Event()

    def run_once(self) -> int:
        """One batch for each projection; returns the number of notifications applied."""
        applied = 0
        for projection in self._projections:
            position = projection.position()
            notifications = self._recorder.select_notifications(
                start=position, limit=self._batch_size, inclusive_of_start=False
            )
            batch = [(n.id, self._mapper.to_domain_event(n)) for n in notifications]
            applied += projection.process(batch)
        return applied

    def run(self, stop: threading.Event, idle_wait_s: float = 0.2) -> None:
        """Follow the log until ``stop`` is set. When caught up, wait for a nudge from the
        writer in this process, or a short while for writers in other processes."""
        while not stop.is_set():
            if self.run_once() == 0:
                self.nudge.wait(idle_wait_s)
                self.nudge.clear()

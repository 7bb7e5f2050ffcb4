"""Read-your-writes: whether the read models include given log positions.

A record at ``topic:partition:offset`` is applied once the store's tracked next offset for
its partition is past it; every event it produced then has a notification id no greater
than the store's maximum at that moment; a projection includes it once its position
reaches that id.

:class:`PositionsCheck` answers that question in short steps, each a few reads, so a caller
can wait between steps without holding a thread (the API waits in its event loop and runs
only the steps in its thread pool: ``api/consistency.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.sourcelog.base import Coordinates, TopicPartition
from application.service import JourneyApplication
from projections.base import Projection


class NotYetConsistent(TimeoutError):
    pass


class PositionsCheck:
    """Whether every read model includes ``positions``; ask :meth:`reached` again until it
    says so. It remembers what was reached already: each call reads only what is still
    missing."""

    def __init__(
        self,
        app: JourneyApplication,
        projections: Sequence[Projection],
        positions: Sequence[Coordinates],
    ) -> None:
        self.app = app
        self._not_ingested = list(positions)
        self._target: int | None = None
        self._behind = list(projections)

    def reached(self) -> bool:
        """One step: True once the store holds every position and every read model has
        passed the notifications the store held then."""
        self._not_ingested = [
            p
            for p in self._not_ingested
            if self.app.next_offset(TopicPartition(p.topic, p.partition)) <= p.offset
        ]
        if self._not_ingested:
            return False
        if self._target is None:
            self._target = self.app.process_recorder.max_notification_id() or 0
        target = self._target
        self._behind = [p for p in self._behind if p.position() < target]
        return not self._behind

    def missing(self) -> str:
        """What was still missing at the last step."""
        if self._not_ingested:
            return f"{self._not_ingested[0]} not yet ingested"
        if self._behind:
            return f"{self._behind[0].name} has not reached notification {self._target}"
        return "nothing"

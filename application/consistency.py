"""Read-your-writes: wait until the read models include given log positions.

A record at ``topic:partition:offset`` is applied once the store's tracked next offset for
its partition is past it; every event it produced then has a notification id no greater
than the store's maximum at that moment; a projection includes it once its position
reaches that id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from adapters.sourcelog.base import Coordinates, TopicPartition
from application.service import JourneyApplication
from projections.base import Projection


class NotYetConsistent(TimeoutError):
    pass


def _until(condition: Callable[[], bool], deadline: float, what: str) -> None:
    pause = 0.005
    while not condition():
        if time.monotonic() >= deadline:
            raise NotYetConsistent(f"not yet consistent: {what}")
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.1)


def wait_for_positions(
    app: JourneyApplication,
    projections: Sequence[Projection],
    positions: Sequence[Coordinates],
    timeout_s: float,
) -> None:
    deadline = time.monotonic() + timeout_s
    for position in positions:
        partition = TopicPartition(position.topic, position.partition)

        def ingested(p: TopicPartition = partition, offset: int = position.offset) -> bool:
            return app.next_offset(p) > offset

        _until(ingested, deadline, f"{partition}:{position.offset} not yet ingested")
    target = app.process_recorder.max_notification_id() or 0
    for projection in projections:
        _until(
            lambda p=projection: p.position() >= target,  # type: ignore[misc]
            deadline,
            f"{projection.name} has not reached notification {target}",
        )

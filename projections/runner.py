"""Runs projections: reads the event store's notification log in batches after the
projections' positions, decodes each notification once, and hands the batch over.

A notification this build cannot decode (an event type written by a newer version, say)
is an *unknown event*. Live, the runner is lenient: it counts it, logs it, and the
projections skip it, so one odd event never stops the read side. A rebuild is strict
(``strict=True``): it stops on the first unknown event, because a copy built without it
would silently differ from what the events say.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Mapper, Notification, ProcessRecorder

from projections.base import Notified, Projection

logger = logging.getLogger(__name__)


class UnknownEvent(Exception):
    """A notification whose event type this build cannot decode."""

    def __init__(self, notification_id: int, topic: str, error: Exception) -> None:
        super().__init__(f"notification {notification_id}: cannot decode {topic!r}: {error}")
        self.notification_id = notification_id
        self.topic = topic


class NotificationReader:
    """Reads and decodes the notification log."""

    def __init__(
        self,
        recorder: ProcessRecorder,
        mapper: Mapper,  # type: ignore[type-arg]
        on_unknown: Callable[[UnknownEvent], None] | None = None,
    ) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._on_unknown = on_unknown
        self.unknown = 0

    def head(self) -> int:
        return self._recorder.max_notification_id() or 0

    def read(self, after: int, limit: int, strict: bool = False) -> list[Notified]:
        notifications = self._recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        return [self._decode(n, strict) for n in notifications]

    def _decode(self, notification: Notification, strict: bool) -> Notified:
        event: Any
        try:
            event = self._mapper.to_domain_event(notification)
        except Exception as error:  # the mapper raises several kinds for unknown topics
            unknown = UnknownEvent(notification.id, notification.topic, error)
            if strict:
                raise unknown from error
            self.unknown += 1
            logger.warning("skipping an unknown event: %s", unknown)
            if self._on_unknown is not None:
                self._on_unknown(unknown)
            event = None
        return notification.id, event


class Follower(Protocol):
    """Anything else that follows the notification log by itself (e.g. the audit chain,
    which reads raw records)."""

    def run_once(self) -> int: ...


class ProjectionRunner:
    def __init__(
        self,
        reader: NotificationReader,
        projections: Sequence[Projection],
        batch_size: int = 1000,
        followers: Sequence[Follower] = (),
    ) -> None:
        self.reader = reader
        self._projections = list(projections)
        self._followers = list(followers)
        self._batch_size = batch_size
        self.nudge = threading.Event()

    def run_once(self) -> int:
        """One batch after the lowest position, decoded once and handed to every
        projection (each skips what it already has); returns how many were applied."""
        applied = sum(follower.run_once() for follower in self._followers)
        positions = {p.position_name: p.position() for p in self._projections}
        if not positions:
            return applied
        batch = self.reader.read(min(positions.values()), self._batch_size)
        return applied + sum(p.process(batch) for p in self._projections)

    def run(self, stop: threading.Event, idle_wait_s: float = 0.2) -> None:
        """Follow the log until ``stop`` is set. When caught up, wait for a nudge from the
        writer in this process, or a short while for writers in other processes."""
        while not stop.is_set():
            if self.run_once() == 0:
                self.nudge.wait(idle_wait_s)
                self.nudge.clear()

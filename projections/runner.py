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
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol, cast

from eventsourcing.persistence import Mapper, Notification, ProcessRecorder, find_id_convertor
from eventsourcing.utils import resolve_topic

from adapters.transcoding import FastJSONTranscoder
from projections.base import Notified, Projection

logger = logging.getLogger(__name__)


class UnknownEvent(Exception):
    """A notification whose event type this build cannot decode."""

    def __init__(self, notification_id: int, topic: str, error: Exception) -> None:
        super().__init__(f"notification {notification_id}: cannot decode {topic!r}: {error}")
        self.notification_id = notification_id
        self.topic = topic


class FastDecoder:
    """Builds a stored event's domain event as the mapper does, with fewer steps: the
    application's ``FastJSONTranscoder`` decodes the state (orjson), the event class and
    id conversion are looked up once per topic. Only for a mapper without cipher or
    compressor; anything else (an event class with versions to upcast, a state the fast
    transcoder leaves to the stdlib decoder, an unknown topic) raises, and the caller asks
    the mapper, so what decodes and what fails is exactly what the mapper says."""

    def __init__(self, transcoder: FastJSONTranscoder) -> None:
        self._transcoder = transcoder
        self._classes: dict[str, tuple[type, Callable[[Any], Any]]] = {}

    @classmethod
    def for_mapper(cls, mapper: Mapper) -> FastDecoder | None:  # type: ignore[type-arg]
        transcoder = mapper.transcoder
        if mapper.cipher or mapper.compressor or not isinstance(transcoder, FastJSONTranscoder):
            return None
        return cls(transcoder)

    def event(self, notification: Notification) -> Any:
        known = self._classes.get(notification.topic)
        if known is None:
            event_class = resolve_topic(notification.topic)
            if getattr(event_class, "class_version", 1) != 1:
                raise LookupError("an event class with versions: the mapper upcasts")
            id_type = cast(Hashable, type(notification.originator_id))
            known = (event_class, find_id_convertor(event_class, id_type))
            self._classes[notification.topic] = known
        event_class, id_convertor = known
        state = self._transcoder.fast_decode(notification.state)
        if "class_version" in state:
            raise LookupError("a versioned event: the mapper upcasts")
        state["originator_id"] = id_convertor(notification.originator_id)
        state["originator_version"] = notification.originator_version
        event: Any = object.__new__(event_class)
        object.__setattr__(event, "__dict__", state)
        return event


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
        self._fast = FastDecoder.for_mapper(mapper)
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
        if self._fast is not None:
            try:
                return notification.id, self._fast.event(notification)
            except Exception:  # noqa: S110 - the mapper decides (see FastDecoder)
                pass
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

"""Runs projections: reads the event store's notification log in batches after the
projections' positions, decodes each notification once, and hands the batch over; followers
(the audit chain) get the same batch undecoded (``projections.read_ahead``).

Each read model applies the batch on its own: one that raises on a stored event holds
that event in quarantine for itself and carries on, and the others never notice
(``projections.quarantine``); trouble with the store itself is raised, for the worker's
supervisor to retry.

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

from adapters.collector import tune_collector
from adapters.failures import is_transient
from adapters.fast_decoding import decoder_of
from projections.base import Notified, Projection
from projections.catch_up import CatchUp
from projections.quarantine import Held, Quarantine, reason_of
from projections.read_ahead import ReadAhead

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
        self._decode_event = decoder_of(mapper)
        self._on_unknown = on_unknown
        self.unknown = 0

    def head(self) -> int:
        return self._recorder.max_notification_id() or 0

    def read(self, after: int, limit: int, strict: bool = False) -> list[Notified]:
        return self.decode(self.read_raw(after, limit).notifications, strict)

    def read_raw(self, after: int, limit: int) -> ReadAhead:
        """The next ``limit`` notifications after ``after``, not decoded yet."""
        return ReadAhead(
            after,
            self._recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False),
        )

    def decode(self, notifications: Sequence[Notification], strict: bool = False) -> list[Notified]:
        return [self._decode(n, strict) for n in notifications]

    def _decode(self, notification: Notification, strict: bool) -> Notified:
        event: Any
        try:
            event = self._decode_event(notification)
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

    @property
    def position_name(self) -> str: ...

    def run_once(self, limit: int | None = None, read: ReadAhead | None = None) -> int:
        """Follow the next ``limit`` notifications (default: its own batch size), taking
        them from ``read`` when it holds what follows the follower's position."""

    def next_pending(self) -> Held | None:
        """The notification it would follow next, if any."""


def held_of(item: Notified) -> Held:
    """What a quarantine row says of a decoded notification."""
    notification_id, event = item
    kind = type(event)
    return Held(
        notification_id,
        str(getattr(event, "originator_id", "")),
        int(getattr(event, "originator_version", 0)),
        f"{kind.__module__}:{kind.__qualname__}",
    )


def apply_guarded(
    projection: Projection, batch: Sequence[Notified], quarantine: Quarantine | None
) -> int:
    """``projection.process(batch)``; if that raises anything but trouble with the store
    (``adapters.failures.is_transient``), the batch again one notification at a time, and
    each one that still fails is quarantined for this read model
    (``projections.quarantine``). Without a quarantine, whatever it raises is raised."""
    try:
        return projection.process(batch)
    except Exception as error:
        if quarantine is None or is_transient(error):
            raise
        logger.warning(
            "read model %s could not apply a batch, applying it one event at a time: %s",
            projection.position_name,
            reason_of(error),
        )
    applied = 0
    for item in batch:
        try:
            applied += projection.process([item])
        except Exception as error:
            if is_transient(error):
                raise
            quarantine.hold(projection.position_name, held_of(item), error)
    return applied


def follow_guarded(
    follower: Follower, quarantine: Quarantine | None, limit: int, read: ReadAhead | None = None
) -> int:
    """``follower.run_once(read=read)``; if that raises anything but trouble with the
    store, up to ``limit`` notifications one at a time, each one that still fails
    quarantined for the follower (as ``apply_guarded``)."""
    try:
        return follower.run_once(read=read)
    except Exception as error:
        if quarantine is None or is_transient(error):
            raise
        logger.warning(
            "%s could not follow a batch, following it one event at a time: %s",
            follower.position_name,
            reason_of(error),
        )
    followed = 0
    while followed < limit:
        try:
            step = follower.run_once(limit=1)
        except Exception as error:
            held = follower.next_pending()
            if is_transient(error) or held is None:
                raise
            quarantine.hold(follower.position_name, held, error)
            step = 1
        if step == 0:
            break
        followed += step
    return followed


class ProjectionRunner:
    def __init__(
        self,
        reader: NotificationReader,
        projections: Sequence[Projection],
        batch_size: int = 5000,  # a catch-up commits each read model once per 5,000
        followers: Sequence[Follower] = (),
        quarantine: Quarantine | None = None,
        catch_up: CatchUp | None = None,
    ) -> None:
        self.reader = reader
        self._catch_up = catch_up
        self._projections = list(projections)
        self._followers = list(followers)
        self._batch_size = batch_size
        self._quarantine = quarantine
        self.nudge = threading.Event()

    @property
    def names(self) -> list[str]:
        """The read models this runner keeps up to date: its projections, then followers."""
        return [p.position_name for p in self._projections] + [
            f.position_name for f in self._followers
        ]

    def run_once(self) -> int:
        """One batch after the lowest position, decoded once and handed to every
        projection (each skips what it already has); the followers take what follows
        their positions from it too when it holds that (``ReadAhead``), and read the log
        themselves otherwise. Returns how many were applied. A read model that cannot
        apply an event quarantines it for itself (``apply_guarded``). Far behind the head,
        a read model catches up without its query indexes (``projections.catch_up``)."""
        positions = {p.position_name: p.position() for p in self._projections}
        read = None
        if positions:
            if self._catch_up is not None:
                self._catch_up.prepare(
                    self._projections, positions, self.reader.head(), self._batch_size
                )
            read = self.reader.read_raw(min(positions.values()), self._batch_size)
        applied = sum(
            follow_guarded(follower, self._quarantine, self._batch_size, read)
            for follower in self._followers
        )
        if read is None:
            return applied
        batch = self.reader.decode(read.notifications)
        return applied + sum(apply_guarded(p, batch, self._quarantine) for p in self._projections)

    def run(self, stop: threading.Event, idle_wait_s: float = 0.2) -> None:
        """Follow the log until ``stop`` is set. When caught up, wait for a nudge from the
        writer in this process, or a short while for writers in other processes. The
        cycle collector runs less often meanwhile (``adapters.collector``)."""
        tune_collector()
        while not stop.is_set():
            if self.run_once() == 0:
                self.nudge.wait(idle_wait_s)
                self.nudge.clear()

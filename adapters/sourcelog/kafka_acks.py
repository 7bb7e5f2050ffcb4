"""Awaiting kafka-python's acknowledgements on an asyncio loop, without a thread that waits."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any


class Acknowledgements:
    """One asyncio future for the kafka-python futures of one publish: their record
    metadata in order once all succeeded, or the first failure. The futures' callbacks run
    on kafka-python's I/O thread (or at once, on the caller's, for a future already done);
    the loop is woken once per publish."""

    def __init__(self, loop: asyncio.AbstractEventLoop, futures: Sequence[Any]) -> None:
        self._loop = loop
        self.done: asyncio.Future[list[Any]] = loop.create_future()
        self._placed: list[Any] = [None] * len(futures)
        self._left = len(futures)
        self._settled = False
        self._lock = threading.Lock()
        for index, future in enumerate(futures):
            future.add_callback(self._acknowledged, index)
            future.add_errback(self._failed)

    def _acknowledged(self, index: int, metadata: Any) -> None:
        with self._lock:
            self._placed[index] = metadata
            self._left -= 1
            last = self._left == 0 and not self._settled
            self._settled |= last
        if last:
            self._loop.call_soon_threadsafe(self._settle, None)

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            first = not self._settled
            self._settled = True
        if first:
            self._loop.call_soon_threadsafe(self._settle, error)

    def _settle(self, error: BaseException | None) -> None:
        """On the loop: the answer, unless the caller stopped waiting (a timeout)."""
        if self.done.done():
            return
        if error is None:
            self.done.set_result(self._placed)
        else:
            self.done.set_exception(error)

"""Awaiting kafka-python's acknowledgements on an asyncio loop, without a thread that waits
for them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from kafka.errors import KafkaTimeoutError


async def acknowledged(futures: Sequence[Any], timeout_s: float) -> list[Any]:
    """The values of kafka-python's ``futures`` (a record's metadata, for a send), in
    their order, once every one succeeded; the first failure raised as it came;
    ``KafkaTimeoutError`` (as ``FutureRecordMetadata.get`` raises it) if they have not all
    come within ``timeout_s``."""
    if not futures:
        return []
    acks = _Acknowledgements(asyncio.get_running_loop(), futures)
    try:
        return await asyncio.wait_for(acks.done, timeout_s)
    except TimeoutError:
        raise KafkaTimeoutError(f"Timeout after waiting for {timeout_s} secs.") from None


class _Acknowledgements:
    """One asyncio future for kafka-python futures. Their callbacks run on kafka-python's
    I/O thread (or at once, on the caller's, for a future already done): they count under
    a lock, and the loop is woken once, by the last success or the first failure."""

    def __init__(self, loop: asyncio.AbstractEventLoop, futures: Sequence[Any]) -> None:
        self._loop = loop
        self.done: asyncio.Future[list[Any]] = loop.create_future()
        self._values: list[Any] = [None] * len(futures)
        self._left = len(futures)
        self._settled = False
        self._lock = threading.Lock()
        for index, future in enumerate(futures):
            future.add_callback(self._succeeded, index)
            future.add_errback(self._failed)

    def _succeeded(self, index: int, value: Any) -> None:
        with self._lock:
            self._values[index] = value
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
            self.done.set_result(self._values)
        else:
            self.done.set_exception(error)

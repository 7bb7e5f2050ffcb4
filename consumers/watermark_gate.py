"""The watermark the clock timer judges by: one the ingest has read every source partition
behind (DESIGN.md: "per-partition watermarks combined").

The event-time watermark is the latest ``occurred_at`` applied from any partition. When the
ingest has read one topic further than another (a backlog, a restart, an import published
topic by topic), that watermark is past the event times still waiting on the other
topic's unread records — among them the order or the case a parked callback, return or
survey waits for, and the replies and resolutions that stop SLA clocks. Expiring by it
dead-letters good events whose prerequisite is on the log; breaching by it breaches
deadlines whose stopping fact is on the log (a breach a late fact then settles: the same
outcome, but two needless decisions, and a catch-up of history made of them).

So the timer judges by a watermark only once the ingest has caught up behind it: the gate
reads the watermark, then every ingress partition's end offset; once the store has applied
each partition up to that end, every record published before the watermark was read has
been ingested, and what still waits past its window, or its deadline, by that watermark
truly did not arrive in time. A partition with nothing to read holds nothing back (idle
partitions do not stall the timer), and a steady stream does not either: the ends read a
moment ago are passed soon. Until the first watermark is trusted nothing expires and
nothing is breached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from adapters.sourcelog.base import LogAdmin, TopicPartition


class EndOffsets(Protocol):
    """Reads the end offset of every ingress partition (:class:`IngressEnds`)."""

    def __call__(self) -> Mapping[TopicPartition, int]: ...

    def close(self) -> None: ...


class CaughtUpWatermark:
    """``trusted(watermark)``: the latest watermark read at a moment the ingest has since
    caught up with (never later than ``watermark``; None while there is none).

    ``ends`` reads the end offset of every ingress partition; ``applied`` the next offset the
    store has not applied for one partition (``JourneyApplication.next_offset``)."""

    def __init__(
        self,
        ends: EndOffsets,
        applied: Callable[[TopicPartition], int],
    ) -> None:
        self._ends = ends
        self._applied = applied
        self._pending: tuple[datetime, dict[TopicPartition, int]] | None = None
        """A watermark read, and the ends the ingest must reach before it is trusted."""
        self._trusted: datetime | None = None

    @property
    def behind(self) -> dict[TopicPartition, int]:
        """The partitions the ingest must still read (to the offset given) before the
        pending watermark is trusted; empty when none is pending."""
        return {} if self._pending is None else dict(self._pending[1])

    def trusted(self, watermark: datetime | None) -> datetime | None:
        if self._pending is None and watermark is not None:
            # The watermark was read before the ends: every fact behind it was applied,
            # so what is on the log up to these ends holds whatever it can still be
            # waiting for.
            self._pending = (watermark, dict(self._ends()))
        if self._pending is not None:
            candidate, ends = self._pending
            behind = {tp: end for tp, end in ends.items() if self._applied(tp) < end}
            if behind:
                self._pending = (candidate, behind)
            else:
                self._pending = None
                if self._trusted is None or candidate > self._trusted:
                    self._trusted = candidate
        return self._trusted

    def close(self) -> None:
        self._ends.close()


class IngressEnds:
    """The end offset of every partition of the ingress topics, read through one log admin
    kept open between calls (opened again after a failure, closed by ``close``)."""

    def __init__(self, admin: Callable[[], LogAdmin], topics: Sequence[str]) -> None:
        self._open = admin
        self._topics = list(topics)
        self._admin: LogAdmin | None = None

    def __call__(self) -> dict[TopicPartition, int]:
        if self._admin is None:
            self._admin = self._open()
        try:
            admin = self._admin
            partitions = [
                TopicPartition(t, p) for t in self._topics for p in range(admin.partitions_for(t))
            ]
            return admin.end_offsets(partitions)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()

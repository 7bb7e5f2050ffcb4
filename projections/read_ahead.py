"""``ReadAhead``: notifications the projection runner has read from the log already,
offered to a follower so that it need not read them again (the audit chain's own read of
the log was ≈ 3 % of a catch-up)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from eventsourcing.persistence import Notification


@dataclass(frozen=True)
class ReadAhead:
    """Every notification of the log after ``after`` up to the last of ``notifications``
    (the log read with ``start=after``, exclusive), in order."""

    after: int
    notifications: Sequence[Notification]

    def following(self, position: int, limit: int) -> Sequence[Notification] | None:
        """The notifications after ``position`` that were read, at most ``limit``: a
        prefix of what follows ``position`` in the log, which a follower may take as if it
        had read them itself. None when ``position`` is before ``after`` (what lies between
        was not read) or at or past the last one read: read the log."""
        if not self.notifications or not self.after <= position < self.notifications[-1].id:
            return None
        start = bisect_right(self.notifications, position, key=attrgetter("id"))
        return self.notifications[start : start + limit]

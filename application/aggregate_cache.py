"""Aggregates an ingest worker keeps between its batches, so that it does not replay them
from the store for every batch.

An entry is an aggregate as stored, or ``None`` for an id known to have no events. Entries
are trusted only while nothing else writes to those aggregates, and that is checked, not
assumed: before each batch the cache asks the store for its highest notification id, and
every aggregate that another writer (the clock timer, another group member after a
rebalance) changed since the cache last looked is forgotten. When only this worker wrote,
which is the steady state, that check is one ``max_notification_id`` query per batch.

A batch works on the cached objects themselves. They count as stored only once the
batch's transaction has committed (``settle``); a batch that never settles (refused by
the store, an error before or during the commit) empties the cache when the next one
begins. A write from a stale entry cannot be stored either: its event versions collide
with the other writer's and the store refuses the batch (optimistic concurrency), which
the worker answers by resuming from the store's position with an empty cache.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder

_PAGE = 1000


class AggregateCache:
    def __init__(self, recorder: ApplicationRecorder, maxsize: int = 20_000) -> None:
        if maxsize < 1:
            raise ValueError("an aggregate cache holds at least one entry")
        self._recorder = recorder
        self._maxsize = maxsize
        self._entries: OrderedDict[UUID, Aggregate | None] = OrderedDict()
        self._seen: int | None = None
        """The highest notification id whose effect the entries reflect; None: not yet
        looked (or forgotten), so nothing is trusted."""
        self._ours: set[int] = set()
        """Notification ids of the events this worker stored since the cache last looked."""
        self._open = False
        self.hits = 0
        self.misses = 0
        self.evicted_for_others = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self._entries

    def begin(self) -> None:
        """Before a batch: forget what a batch that did not settle may have changed, and
        whatever another writer stored since the last look."""
        if self._open:
            self.clear()
        self._open = True
        current = self._recorder.max_notification_id() or 0
        # With nothing seen yet (new, or cleared) there are no entries to check.
        if self._seen is not None and current > self._seen:
            self._forget_others(self._seen, current)
        self._seen = current
        self._ours.clear()

    def _forget_others(self, seen: int, current: int) -> None:
        ours = self._ours
        if ours and len(ours) == current - seen and min(ours) == seen + 1:
            return  # every notification since the last look is one of ours
        start = seen + 1
        while start <= current:
            page = self._recorder.select_notifications(start, _PAGE, stop=current)
            for notification in page:
                originator_id = notification.originator_id
                if notification.id not in ours and originator_id in self._entries:
                    del self._entries[originator_id]  # type: ignore[arg-type]
                    self.evicted_for_others += 1
            if len(page) < _PAGE:
                break
            start = page[-1].id + 1

    def lookup(self, aggregate_id: UUID) -> tuple[bool, Aggregate | None]:
        """(True, the entry) when the cache knows the id, else (False, None)."""
        entries = self._entries
        if aggregate_id in entries:
            entries.move_to_end(aggregate_id)
            self.hits += 1
            return True, entries[aggregate_id]
        self.misses += 1
        return False, None

    def settle(
        self,
        aggregates: Iterable[tuple[UUID, Aggregate | None]],
        notification_ids: Sequence[int],
    ) -> None:
        """After the batch's commit: keep what it loaded, created or changed, as stored."""
        entries = self._entries
        for aggregate_id, aggregate in aggregates:
            entries[aggregate_id] = aggregate
            entries.move_to_end(aggregate_id)
        while len(entries) > self._maxsize:
            entries.popitem(last=False)
        self._ours.update(notification_ids)
        self._open = False

    def clear(self) -> None:
        """Trust nothing: after a revoked partition or a batch the store refused."""
        self._entries.clear()
        self._seen = None
        self._ours.clear()
        self._open = False

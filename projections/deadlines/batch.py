"""Applying a batch of notifications to the deadline index: the changes of its events, in
notification order, each run of like statements sent with one ``executemany``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from operator import itemgetter

from adapters.readstore import Cursor, Row
from domain.aggregate import advances_event_time
from projections.base import Notified
from projections.deadlines.rows import HANDLES, utc

_OPEN, _CLOSE, _SEEN = "open", "close", "seen"


class DeadlineChanges:
    """The statements of one batch, in the order of its events."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, Row]] = []

    def open(self, row: Row) -> None:
        self.changes.append((_OPEN, row))

    def close(self, row: Row) -> None:
        self.changes.append((_CLOSE, row))

    def seen(self, row: Row) -> None:
        self.changes.append((_SEEN, row))

    def write(self, t: Callable[[str], str], cursor: Cursor) -> None:
        statements = {
            _OPEN: f"INSERT INTO {t('open_deadlines')} VALUES (:id, :key, :rule, :due)"
            " ON CONFLICT (aggregate_id, key) DO UPDATE SET due_at = excluded.due_at",
            _CLOSE: f"DELETE FROM {t('open_deadlines')} WHERE aggregate_id = :id AND key = :key",
            _SEEN: f"INSERT INTO {t('event_time')} AS w VALUES ('watermark', :at)"
            " ON CONFLICT (name) DO UPDATE SET latest = excluded.latest"
            " WHERE w.latest < excluded.latest",
        }
        for statement, run in groupby(self.changes, key=itemgetter(0)):
            cursor.executemany(statements[statement], [row for _, row in run])


def apply_in_order(t: Callable[[str], str], cursor: Cursor, batch: Sequence[Notified]) -> None:
    """Each clock decision the index handles opens or closes its deadline; each fact moves
    the watermark (to its ``occurred_at`` when later than the one stored)."""
    changes = DeadlineChanges()
    for _, event in batch:
        if event is None:
            continue
        change = HANDLES.handler(type(event))
        if change is not None:
            change(changes, event)
        if advances_event_time(event):
            changes.seen({"at": utc(event.occurred_at)})
    changes.write(t, cursor)

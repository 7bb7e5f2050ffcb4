"""The parked source events (``domain.parking``): what waits, for what, until when.

Follows the parking lots' events: a lot names its prerequisite when it opens; an event is
listed from ``Parked`` (again: its new reason) until ``Released`` or ``Expired``. The clock
timer reads it to find the lots to expire or to try again (``consumers.parked``); ``journey
status``, ``/metrics`` and ``GET /v1/admin/parked`` show it. It holds no envelope: only the
event's id, type, customer, reason, times and source coordinates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.readstore import Cursor
from domain.aggregate import JourneyAggregate
from domain.parking import ParkingLot
from projections.base import Index, Projection
from projections.dispatch import Handles

Change = Callable[["ParkedIndex", Cursor, Any], None]

HANDLES: Handles[Change] = Handles("parked_index")
HANDLES.ignore(JourneyAggregate.Event)  # only the parking lots' events are of interest


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


ParkedPosition = tuple[datetime, str, UUID]
"""A parked event's place in the listing: expiry, event id, lot."""


@dataclass(frozen=True)
class ParkedEvent:
    lot_id: UUID
    prerequisite_id: UUID
    event_id: str
    event_type: str
    customer_id: str
    reason: str
    occurred_at: datetime
    expires_at: datetime
    source_topic: str
    source_partition: int
    source_offset: int

    @property
    def position(self) -> ParkedPosition:
        """Where it stands in ``ParkedIndex.listing``'s order."""
        return self.expires_at, self.event_id, self.lot_id

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.event_type,
            "customer_id": self.customer_id,
            "reason": self.reason,
            "occurred_at": self.occurred_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "waits_for": str(self.prerequisite_id),
            "source": f"{self.source_topic}:{self.source_partition}:{self.source_offset}",
            "source_topic": self.source_topic,
            "source_partition": self.source_partition,
            "source_offset": self.source_offset,
        }


class ParkedIndex(Projection):
    name = "parked_index"
    handles = HANDLES
    tables = ("parking_lots", "parked_events")

    def ddl(self) -> Sequence[str]:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.t('parking_lots')} ("
            " lot_id TEXT PRIMARY KEY, prerequisite_id TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.t('parked_events')} ("
            " lot_id TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL,"
            " customer_id TEXT NOT NULL, reason TEXT NOT NULL, occurred_at TEXT NOT NULL,"
            " expires_at TEXT NOT NULL, source_topic TEXT NOT NULL,"
            " source_partition INTEGER NOT NULL, source_offset BIGINT NOT NULL,"
            " PRIMARY KEY (lot_id, event_id))",
        )

    def indexes(self) -> Sequence[Index]:
        return (
            Index(
                "parked_events_expiry",
                "parked_events",
                "expires_at",
                query_only=True,
                worker_reads=True,
            ),
        )

    def apply(self, cursor: Cursor, notification_id: int, event: Any) -> None:
        handler = HANDLES.handler(type(event))
        if handler is not None:
            handler(self, cursor, event)

    # -- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        rows = self.store.query(f"SELECT COUNT(*) AS n FROM {self.t('parked_events')}")
        return int(rows[0]["n"])

    def listing(self, limit: int = 100, after: ParkedPosition | None = None) -> list[ParkedEvent]:
        """Parked events, the soonest to expire first (then by event id and lot); those
        after the position ``after`` (a listed event's ``position``) only: a keyset, so
        that events parked or let in meanwhile neither repeat nor skip one of the rest."""
        params: dict[str, object] = {"limit": limit}
        where = ""
        if after is not None:
            at, event_id, lot_id = after
            where = (
                " WHERE e.expires_at > :at OR (e.expires_at = :at AND (e.event_id > :event_id"
                " OR (e.event_id = :event_id AND e.lot_id > :lot_id)))"
            )
            params |= {"at": _utc(at), "event_id": event_id, "lot_id": str(lot_id)}
        rows = self.store.query(
            f"SELECT e.*, l.prerequisite_id FROM {self.t('parked_events')} e"
            f" JOIN {self.t('parking_lots')} l ON l.lot_id = e.lot_id{where}"
            " ORDER BY e.expires_at, e.event_id, e.lot_id LIMIT :limit",
            params,
        )
        return [
            ParkedEvent(
                lot_id=UUID(row["lot_id"]),
                prerequisite_id=UUID(row["prerequisite_id"]),
                event_id=row["event_id"],
                event_type=row["event_type"],
                customer_id=row["customer_id"],
                reason=row["reason"],
                occurred_at=datetime.fromisoformat(row["occurred_at"]),
                expires_at=datetime.fromisoformat(row["expires_at"]),
                source_topic=row["source_topic"],
                source_partition=int(row["source_partition"]),
                source_offset=int(row["source_offset"]),
            )
            for row in rows
        ]

    def lots(self, limit: int = 500) -> list[tuple[UUID, UUID]]:
        """Lots with waiting events and what each waits for, the longest waiting first."""
        return self._lots("", {}, "MIN(e.occurred_at)", limit)

    def due(self, watermark: datetime, limit: int = 500) -> list[tuple[UUID, UUID]]:
        """Lots with an event whose window ``watermark`` reached, the soonest due first."""
        where = " WHERE e.expires_at <= :at"
        return self._lots(where, {"at": _utc(watermark)}, "MIN(e.expires_at)", limit)

    def _lots(
        self, where: str, params: dict[str, Any], order: str, limit: int
    ) -> list[tuple[UUID, UUID]]:
        rows = self.store.query(
            f"SELECT e.lot_id, l.prerequisite_id FROM {self.t('parked_events')} e"
            f" JOIN {self.t('parking_lots')} l ON l.lot_id = e.lot_id{where}"
            f" GROUP BY e.lot_id, l.prerequisite_id ORDER BY {order} LIMIT :limit",
            {**params, "limit": limit},
        )
        return [(UUID(row["lot_id"]), UUID(row["prerequisite_id"])) for row in rows]


# -- what each lot event changes ---------------------------------------------------------------


@HANDLES.on(ParkingLot.Opened)
def _opened(index: ParkedIndex, cursor: Cursor, event: ParkingLot.Opened) -> None:
    cursor.execute(
        f"INSERT INTO {index.t('parking_lots')} VALUES (:lot, :prerequisite)"
        " ON CONFLICT (lot_id) DO NOTHING",
        {"lot": str(event.originator_id), "prerequisite": str(event.prerequisite_id)},
    )


@HANDLES.on(ParkingLot.Parked)
def _parked(index: ParkedIndex, cursor: Cursor, event: ParkingLot.Parked) -> None:
    row = {
        "lot": str(event.originator_id),
        "event_id": event.event_id,
        "type": event.event_type,
        "customer": event.customer_id,
        "reason": event.reason,
        "occurred": _utc(event.occurred_at),
        "expires": _utc(event.expires_at),
        "topic": event.record.topic,
        "partition": event.record.partition,
        "offset": event.record.offset,
    }
    cursor.execute(
        f"INSERT INTO {index.t('parked_events')} VALUES (:lot, :event_id, :type,"
        " :customer, :reason, :occurred, :expires, :topic, :partition, :offset)"
        " ON CONFLICT (lot_id, event_id) DO UPDATE SET reason = excluded.reason,"
        " source_topic = excluded.source_topic,"
        " source_partition = excluded.source_partition,"
        " source_offset = excluded.source_offset",
        row,
    )


@HANDLES.on(ParkingLot.Released, ParkingLot.Expired)
def _left(index: ParkedIndex, cursor: Cursor, event: Any) -> None:
    cursor.executemany(
        f"DELETE FROM {index.t('parked_events')} WHERE lot_id = :lot AND event_id = :event_id",
        [{"lot": str(event.originator_id), "event_id": e} for e in event.event_ids],
    )

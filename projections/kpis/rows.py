"""The rows of the KPI counters, built from events and owner rows: a *fact* (one thing
counted, with the event it is made of) and an *owner* (what the counters keep of an
aggregate). Pure, but for ``Work.sid``, the memoised text of an aggregate id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.readstore import Row
from projections.kpis.tables import OWNER_COLUMNS
from projections.kpis.work import Work

Dims = tuple[str, str, str]
NO_DIMS: Dims = ("", "", "")
_NUMBERS = frozenset(
    {"notification_id", "version", "contacts", "resolutions", "reopens", "attributed"}
)


def iso(at: datetime) -> str:
    """UTC ISO 8601; two such strings compare like the instants they name."""
    return at.astimezone(UTC).isoformat()


def second_of(at: datetime | str) -> int:
    """The Unix second a fact is dated by (a datetime, or the ISO text of ``iso``): an
    instant, so that any report zone can tell its day (``projections.kpis.zones``)."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return int(moment.timestamp() // 1)


# -- rows -------------------------------------------------------------------------------------


def evidence(work: Work, nid: int, event: Any) -> Row:
    """The event a fact is made of, as ``application.explain`` describes stored events."""
    occurred = getattr(event, "occurred_at", None)
    source = getattr(event, "source", None)
    return {
        "notification_id": nid,
        "aggregate_id": work.sid(event.originator_id),
        "version": event.originator_version,
        "event_type": type(event).__qualname__,
        "occurred_at": iso(occurred) if occurred is not None else None,
        "event_id": source.event_id if source is not None else None,
    }


def created_by(owner: Row) -> Row:
    """The creation event of an aggregate, from its owner row."""
    return {
        "notification_id": owner["notification_id"],
        "aggregate_id": owner["aggregate_id"],
        "version": owner["version"],
        "event_type": owner["event_type"],
        "occurred_at": owner["at"],
        "event_id": owner["event_id"],
    }


def dims(owner: Row | None) -> Dims:
    if owner is None:
        return NO_DIMS
    return owner["channel"], owner["store"], owner["agent_group"]


def fact(
    metric: str,
    subject: str,
    at: int,
    where: Dims,
    made_of: Row,
    *,
    subkey: str = "",
    value: int = 1,
    ref: str = "",
    detected_by: str = "",
) -> Row:
    channel, store, agent_group = where
    return {
        "subject_id": subject,
        "metric": metric,
        "subkey": subkey,
        "at": at,
        "channel": channel,
        "store": store,
        "agent_group": agent_group,
        "value": value,
        "ref": ref,
        "classification": "",
        "issue": "",
        "stage": "",
        "detected_by": detected_by,
        **made_of,
    }


def owner_fact(metric: str, owner: Row, at: int, made_of: Row, value: int = 1) -> Row:
    """A fact about the aggregate ``owner`` itself, on its dimensions, dated ``at``."""
    return fact(
        metric, owner["aggregate_id"], at, dims(owner), made_of, value=value, ref=owner["ref"]
    )


def new_owner(work: Work, nid: int, event: Any, kind: str, ref: str, **fields: Any) -> Row:
    row: Row = {column: 0 if column in _NUMBERS else "" for column in OWNER_COLUMNS}
    row.update(
        aggregate_id=work.sid(event.originator_id),
        kind=kind,
        ref=ref,
        customer_id=event.customer_id,
        at=iso(event.occurred_at),
        notification_id=nid,
        version=event.originator_version,
        event_type=type(event).__qualname__,
        event_id=event.source.event_id,
    )
    row.update(fields)
    return row

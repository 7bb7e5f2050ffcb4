"""The complaint ledger: one row per case (R-CMP-06, R-CMP-07).

A row holds what DESIGN.md lists — customer, channel(s), store, agent group, category and
priority, the customer's demand, the opened / first response / supervisor / solution /
resolved / confirmed times, SLA targets and breaches with their rule ids, escalation
level, options offered and chosen, refund amount, satisfaction, status, reopen count and
the policy version — and every communication with its time (contacts opened and joined,
customer messages, replies, hand-offs, promises, progress updates, closes).

The row is built from the events of the case, of the contacts that joined it, of the
survey that followed it and of the returns that settled it: the ``ledger_links`` table maps
each of those aggregates to its case. Events of no case (an order, a callback) are ignored.

A case is a **repeat complaint** (R-CMP-07) when the same customer opened a complaint on
the same topic within the 30 days before it (event time). Arrival order does not matter:
a case that arrives late marks the later ones it precedes.

Batches are applied a case at a time: the rows a batch touches are read once, changed in
memory and written back once, so a rebuild costs a few statements per batch, not per event.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import orjson

from adapters.readstore import Cursor, Row
from domain.aggregate import Fact, JourneyAggregate
from domain.case import Case
from domain.contact import Contact
from domain.ids import aggregate_id
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections.base import Index, Notified, Projection, select_in

REPEAT_WINDOW = timedelta(days=30)  # R-CMP-07
REPEAT_CLASSES = ("complaint", "urgent")
PRIORITY_RANK = {"urgent": 0, "important": 1, "general": 2}

SortKey = Literal["opened_at", "priority", "breaches", "reopen_count"]
SORT_COLUMNS: dict[str, str] = {
    "opened_at": "opened_at",
    "priority": "priority_rank",
    "breaches": "breaches",
    "reopen_count": "reopen_count",
}

_FILTERED = "channel, status, breaches, store_id, agent_group, priority"
"""The filter columns every sort index carries (``opened_at`` is in each too)."""

_SORT_INDEX: dict[str, str] = {
    "priority": "complaint_ledger_by_priority",
    "breaches": "complaint_ledger_by_breaches",
    "reopen_count": "complaint_ledger_by_reopens",
}

# Columns kept beside the row's document, for filtering and sorting.
_COLUMNS = (
    "case_id",
    "case_ref",
    "customer_id",
    "channel",
    "store_id",
    "agent_group",
    "classification",
    "topic",
    "priority",
    "priority_rank",
    "status",
    "opened_at",
    "resolved_at",
    "breaches",
    "escalation_level",
    "reopen_count",
    "repeat_complaint",
    "policy_version",
    "last_notification_id",
)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


@dataclass(frozen=True)
class LedgerFilter:
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    channel: str | None = None
    store_id: str | None = None
    agent_group: str | None = None
    status: str | None = None
    priority: str | None = None
    breached: bool | None = None
    customer_id: str | None = None


class ComplaintLedger(Projection):
    name = "complaint_ledger"
    tables = ("complaint_ledger", "ledger_links")

    def ddl(self) -> Sequence[str]:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.t('complaint_ledger')} ("
            " case_id TEXT PRIMARY KEY, case_ref TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " channel TEXT NOT NULL, store_id TEXT, agent_group TEXT,"
            " classification TEXT NOT NULL, topic TEXT NOT NULL, priority TEXT NOT NULL,"
            " priority_rank INTEGER NOT NULL, status TEXT NOT NULL, opened_at TEXT NOT NULL,"
            " resolved_at TEXT, breaches INTEGER NOT NULL, escalation_level INTEGER NOT NULL,"
            " reopen_count INTEGER NOT NULL, repeat_complaint INTEGER NOT NULL,"
            " policy_version TEXT NOT NULL, last_notification_id BIGINT NOT NULL,"
            " doc TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.t('ledger_links')} ("
            " aggregate_id TEXT PRIMARY KEY, case_id TEXT NOT NULL)",
        )

    def indexes(self) -> Sequence[Index]:
        """One index per sort order, each led by the sort column and the case id and
        carrying every filter column after them: a page is found by walking one index alone
        (``page`` asks for the case ids first), never by reading the wide rows it skips.
        Only the customer index serves the apply path (the repeat check, R-CMP-07)."""
        return (
            Index(
                "complaint_ledger_by_opened",
                "complaint_ledger",
                f"opened_at, case_id, {_FILTERED}",
                query_only=True,
            ),
            Index(
                "complaint_ledger_by_priority",
                "complaint_ledger",
                f"priority_rank, case_id, opened_at, {_FILTERED}",
                query_only=True,
            ),
            Index(
                "complaint_ledger_by_breaches",
                "complaint_ledger",
                f"breaches, case_id, opened_at, {_FILTERED}",
                query_only=True,
            ),
            Index(
                "complaint_ledger_by_reopens",
                "complaint_ledger",
                f"reopen_count, case_id, opened_at, {_FILTERED}",
                query_only=True,
            ),
            Index(
                "complaint_ledger_by_status",
                "complaint_ledger",
                f"status, opened_at, case_id, {_FILTERED}",
                query_only=True,
            ),
            Index(
                "complaint_ledger_by_channel",
                "complaint_ledger",
                f"channel, opened_at, case_id, {_FILTERED}",
                query_only=True,
            ),
            Index("complaint_ledger_customer", "complaint_ledger", "customer_id, topic, opened_at"),
        )

    # -- applying ---------------------------------------------------------------------------

    def apply_batch(self, cursor: Cursor, batch: Sequence[Notified]) -> None:
        work = _Batch(self, cursor)
        events = [
            (nid, event, str(event.originator_id)) for nid, event in batch if event is not None
        ]
        work.load(events)
        for notification_id, event, originator in events:
            work.apply(notification_id, event, originator)
        work.flush()

    # -- reading ------------------------------------------------------------------------------

    def row(self, case_id: str) -> Row | None:
        rows = self.store.query(
            f"SELECT * FROM {self.t('complaint_ledger')} WHERE case_id = :id", {"id": case_id}
        )
        return _expand(rows[0]) if rows else None

    def page(
        self,
        limit: int,
        after: tuple[Any, str] | None = None,
        where: LedgerFilter | None = None,
        sort: SortKey = "opened_at",
        descending: bool = False,
    ) -> list[Row]:
        """Rows matching ``where``, ordered by ``sort`` then case id, ``limit`` at a time
        after the cursor ``(sort value, case_id)`` of the previous page's last row."""
        clauses, params = _where(where or LedgerFilter())
        column = SORT_COLUMNS[sort]
        op = "<" if descending else ">"
        if after is not None:
            clauses.append(
                f"({column} {op} :after_v OR ({column} = :after_v AND case_id {op} :after_id))"
            )
            params.update(after_v=after[0], after_id=after[1])
        order = "DESC" if descending else "ASC"
        table = self.t("complaint_ledger")
        ordering = f" ORDER BY {column} {order}, case_id {order}"
        # The case ids first, from an index that holds the sort and filter columns; then
        # the (wide) rows of just those.
        ids = (
            f"SELECT case_id FROM {table}{self._walk(sort)}"
            f"{' WHERE ' + ' AND '.join(clauses) if clauses else ''}{ordering} LIMIT :limit"
        )
        sql = f"SELECT * FROM {table} WHERE case_id IN ({ids}){ordering}"
        params["limit"] = limit
        return [_expand(row) for row in self.store.query(sql, params)]

    def _walk(self, sort: SortKey) -> str:
        """SQLite: pages in another order than opening time walk that order's index. The
        planner would rather take the rows of a date range and sort them (a temporary
        B-tree of thousands of rows, 40 ms); the index walk stops after ``limit`` matches,
        and at worst reads the index alone (R-CMP-06 columns, not the row documents)."""
        if sort == "opened_at" or self.store.dialect != "sqlite":
            return ""
        return f" INDEXED BY {self.t(_SORT_INDEX[sort])}"

    @staticmethod
    def cursor_of(row: Row, sort: SortKey) -> tuple[Any, str]:
        return row[SORT_COLUMNS[sort]], row["case_id"]


def _where(where: LedgerFilter) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if where.opened_from is not None:
        clauses.append("opened_at >= :opened_from")
        params["opened_from"] = _utc(where.opened_from)
    if where.opened_to is not None:
        clauses.append("opened_at < :opened_to")
        params["opened_to"] = _utc(where.opened_to)
    for column in ("channel", "store_id", "agent_group", "status", "priority", "customer_id"):
        value = getattr(where, column)
        if value is not None:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    if where.breached is not None:
        clauses.append("breaches > 0" if where.breached else "breaches = 0")
    return clauses, params


def _expand(row: Row) -> Row:
    doc = orjson.loads(row.pop("doc"))
    row["repeat_complaint"] = bool(row["repeat_complaint"])
    row.pop("priority_rank", None)
    row.update(doc)
    return row


class _Batch:
    """The rows one batch touches, loaded once and written back once."""

    def __init__(self, ledger: ComplaintLedger, cursor: Cursor) -> None:
        self.ledger = ledger
        self.cursor = cursor
        self.rows: dict[str, dict[str, Any]] = {}
        self.changed: set[str] = set()
        self.absent: set[str] = set()
        self.links: dict[str, str | None] = {}
        self.new_links: dict[str, str] = {}
        self.opened: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """This batch's new complaints by (customer, topic), for the repeat check."""

    # -- lookups ------------------------------------------------------------------------------

    def load(self, events: Sequence[tuple[int, Any, str]]) -> None:
        """The links of every aggregate the batch names and the rows of every case they
        lead to, with a few ``IN (...)`` queries instead of one query per aggregate and per
        case. (A link never changes once written, so the ones this batch adds later only
        add to what is loaded here.)"""
        wanted = {originator for _, event, originator in events if type(event) is not Case.Opened}
        aggregates = sorted(wanted.difference(self.links))
        for aggregate in aggregates:
            self.links[aggregate] = None
        for found in select_in(
            self.cursor, self.ledger.t("ledger_links"), "aggregate_id", aggregates
        ):
            self.links[str(found["aggregate_id"])] = str(found["case_id"])
        cases = {case_id for case_id in self.links.values() if case_id is not None}
        cases.update(
            str(aggregate_id("case", event.case_ref))
            for _, event, _ in events
            if isinstance(event, _LINKING) and event.case_ref is not None
        )
        missing = sorted(cases.difference(self.rows, self.absent))
        self.absent.update(missing)
        for found in select_in(self.cursor, self.ledger.t("complaint_ledger"), "case_id", missing):
            row = dict(found)
            row.update(orjson.loads(row.pop("doc")))
            self.rows[row["case_id"]] = row
            self.absent.discard(row["case_id"])

    def case_of(self, aggregate: str) -> str | None:
        if aggregate not in self.links:
            self.cursor.execute(
                f"SELECT case_id FROM {self.ledger.t('ledger_links')} WHERE aggregate_id = :id",
                {"id": aggregate},
            )
            found = self.cursor.fetchall()
            self.links[aggregate] = str(found[0]["case_id"]) if found else None
        return self.links[aggregate]

    def link(self, aggregate: str, case_id: str) -> None:
        self.links[aggregate] = case_id
        self.new_links[aggregate] = case_id

    def row(self, case_id: str) -> dict[str, Any] | None:
        if case_id in self.rows:
            return self.rows[case_id]
        if case_id in self.absent:
            return None
        self.cursor.execute(
            f"SELECT * FROM {self.ledger.t('complaint_ledger')} WHERE case_id = :id",
            {"id": case_id},
        )
        found = self.cursor.fetchall()
        if not found:
            self.absent.add(case_id)
            return None
        row = dict(found[0])
        row.update(orjson.loads(row.pop("doc")))
        self.rows[case_id] = row
        return row

    # -- events -------------------------------------------------------------------------------

    def apply(self, nid: int, event: Any, originator: str) -> None:
        if isinstance(event, Case.Opened):
            self.open_case(nid, event)
            return
        if isinstance(event, _LINKING):
            if event.case_ref is None:
                return  # a return that settles no case
            case_id = str(aggregate_id("case", event.case_ref))
            self.link(originator, case_id)
        else:
            case_id = self.case_of(originator) or ""
        row = self.row(case_id) if case_id else None
        if row is None:
            return
        if _apply(row, event):
            self.changed.add(case_id)
            row["notifications"].append(nid)
            row["last_notification_id"] = nid
            if originator == case_id:
                row["version"] = event.originator_version

    def open_case(self, nid: int, event: Case.Opened) -> None:
        case_id = str(event.originator_id)
        opened_at = _utc(event.occurred_at)
        row: dict[str, Any] = {
            "case_id": case_id,
            "case_ref": event.case_ref,
            "customer_id": event.customer_id,
            "channel": event.channel,
            "store_id": event.store_id,
            "agent_group": event.agent_group,
            "classification": event.classification,
            "topic": event.topic,
            "priority": event.priority,
            "priority_rank": PRIORITY_RANK.get(event.priority, 9),
            "status": "open",
            "opened_at": opened_at,
            "resolved_at": None,
            "breaches": 0,
            "escalation_level": 1,
            "reopen_count": 0,
            "repeat_complaint": 0,
            "policy_version": event.policy_version,
            "last_notification_id": nid,
            # the document
            "version": event.originator_version,
            "opened_by_event_id": event.source.event_id,
            "channels": [event.channel],
            "demand": event.demand,
            "after_sales_kind": event.after_sales_kind,
            "major": event.major,
            "product_batch": event.product_batch,
            "contacts": 1,
            "owner": None,
            "due_at": None,
            "acceptance_criteria": None,
            "first_response_at": None,
            "supervisor_at": None,
            "supervisor_id": None,
            "solution_at": None,
            "confirmed_at": None,
            "closed_at": None,
            "outcome": None,
            "options_offered": [],
            "option_chosen": None,
            "solution": None,
            "recall_id": None,
            "refund_amount": "0",
            "satisfaction": None,
            "sla": {},
            "breach_list": [],
            "communications": [
                {
                    "at": opened_at,
                    "kind": "contact_opened",
                    "channel": event.channel,
                    "contact_id": event.contact_id,
                    "event_id": event.source.event_id,
                }
            ],
            "notifications": [nid],
            "repeat_of": None,
        }
        self.rows[case_id] = row
        self.changed.add(case_id)
        self.absent.discard(case_id)
        self.link(case_id, case_id)
        if event.classification in REPEAT_CLASSES:
            self.mark_repeats(row, event.occurred_at)
            self.opened.setdefault((event.customer_id, event.topic), []).append(row)

    def mark_repeats(self, row: dict[str, Any], opened: datetime) -> None:
        """R-CMP-07: the same customer's complaints on the same topic within 30 days."""
        self.cursor.execute(
            f"SELECT case_id, opened_at FROM {self.ledger.t('complaint_ledger')}"
            " WHERE customer_id = :customer AND topic = :topic"
            " AND opened_at >= :since AND opened_at <= :until AND case_id <> :id"
            f" AND classification IN ({', '.join(repr(c) for c in REPEAT_CLASSES)})",
            {
                "customer": row["customer_id"],
                "topic": row["topic"],
                "since": _utc(opened - REPEAT_WINDOW),
                "until": _utc(opened + REPEAT_WINDOW),
                "id": row["case_id"],
            },
        )
        stored = {str(r["case_id"]): str(r["opened_at"]) for r in self.cursor.fetchall()}
        for other in self.opened.get((row["customer_id"], row["topic"]), ()):
            stored[other["case_id"]] = other["opened_at"]  # not yet written
        mine = row["opened_at"]
        for other_id, other_at in stored.items():
            other_opened = datetime.fromisoformat(other_at)
            if abs(other_opened - opened) > REPEAT_WINDOW:
                continue
            earlier = (other_at, other_id) < (mine, row["case_id"])
            if earlier:
                row["repeat_complaint"] = 1
                row["repeat_of"] = row["repeat_of"] or other_id
            else:
                later = self.row(other_id)
                if later is not None and not later["repeat_complaint"]:
                    later["repeat_complaint"] = 1
                    later["repeat_of"] = row["case_id"]
                    self.changed.add(other_id)

    def flush(self) -> None:
        ledger = self.ledger.t("complaint_ledger")
        if self.changed:
            names = ", ".join((*_COLUMNS, "doc"))
            values = ", ".join(f":{c}" for c in (*_COLUMNS, "doc"))
            updates = ", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS[1:], "doc"))
            self.cursor.executemany(
                f"INSERT INTO {ledger} ({names}) VALUES ({values})"
                f" ON CONFLICT (case_id) DO UPDATE SET {updates}",
                [_split(self.rows[case_id]) for case_id in self.changed],
            )
        if self.new_links:
            self.cursor.executemany(
                f"INSERT INTO {self.ledger.t('ledger_links')} (aggregate_id, case_id)"
                " VALUES (:a, :c) ON CONFLICT (aggregate_id) DO NOTHING",
                [{"a": a, "c": c} for a, c in self.new_links.items()],
            )


_LINKING = (Contact.Opened, Survey.Sent, ReturnRequest.Requested)
"""Creations that name the case their aggregate belongs to (``case_ref``)."""


def _split(row: dict[str, Any]) -> dict[str, Any]:
    values = {c: row[c] for c in _COLUMNS}
    values["doc"] = orjson.dumps({k: v for k, v in row.items() if k not in _COLUMNS}).decode()
    return values


def _communication(row: dict[str, Any], event: Fact[Any], kind: str, **detail: Any) -> None:
    item = {"at": _utc(event.occurred_at), "kind": kind, "event_id": event.source.event_id}
    _communicated(row, {**item, **detail})


def _communicated(row: dict[str, Any], item: dict[str, Any]) -> None:
    """In event-time order, however late a fact arrived (parked, from another topic)."""
    bisect.insort(row["communications"], item, key=lambda c: (c["at"], c["event_id"]))


def _apply(row: dict[str, Any], event: Any) -> bool:
    """Change the row for one event; False when the event is of no interest to it."""
    if isinstance(event, JourneyAggregate.DeadlineStarted):
        row["sla"][event.key] = {
            "rule": event.rule,
            "started_at": _utc(event.started_at),
            "due_at": _utc(event.due_at),
            "target_s": (event.due_at - event.started_at).total_seconds(),
            "outcome": "open",
        }
        return True
    if isinstance(event, JourneyAggregate.DeadlineMet):
        _close_clock(row, event.key, "met", _seconds(event.actual))
        return True
    if isinstance(event, JourneyAggregate.DeadlineBreached):
        _close_clock(row, event.key, "breached", _seconds(event.actual))
        row["breaches"] += 1
        row["breach_list"].append(
            {
                "rule": event.rule,
                "key": event.key,
                "due_at": _utc(event.due_at),
                "target_s": event.target.total_seconds(),
                "actual_s": _seconds(event.actual),
                "detected_by": event.detected_by,
            }
        )
        return True
    if isinstance(event, JourneyAggregate.DeadlineSettled):
        _close_clock(row, event.key, "met" if event.within_target else "late", event.actual)
        return True
    if isinstance(event, JourneyAggregate.DeadlineCancelled):
        _close_clock(row, event.key, "cancelled", None)
        return True
    if isinstance(event, Fact):
        return _apply_fact(row, event)
    return isinstance(event, Contact.Opened | Survey.Sent | ReturnRequest.Requested) and (
        _apply_creation(row, event)
    )


def _close_clock(row: dict[str, Any], key: str, outcome: str, actual: Any) -> None:
    clock = row["sla"].setdefault(key, {"rule": key.split(":")[0]})
    clock["outcome"] = outcome
    clock["actual_s"] = actual.total_seconds() if isinstance(actual, timedelta) else actual


def _apply_creation(row: dict[str, Any], event: Any) -> bool:
    at = _utc(event.occurred_at)
    if isinstance(event, Contact.Opened):
        if event.channel not in row["channels"]:
            row["channels"].append(event.channel)
        if any(c.get("contact_id") == event.contact_id for c in row["communications"]):
            return True  # the contact that opened the case, shown with the case
        _communicated(
            row,
            {
                "at": at,
                "kind": "contact_opened",
                "channel": event.channel,
                "contact_id": event.contact_id,
                "event_id": event.source.event_id,
            },
        )
        return True
    if isinstance(event, Survey.Sent):
        _communicated(row, {"at": at, "kind": "survey_sent", "event_id": event.source.event_id})
        return True
    return True  # a return linked to the case: its refunds follow


def _apply_fact(row: dict[str, Any], event: Fact[Any]) -> bool:
    at = _utc(event.occurred_at)
    if isinstance(event, Case.ContactJoined):
        row["contacts"] += 1
    elif isinstance(event, Case.Responded):
        if row["first_response_at"] is None or at < row["first_response_at"]:
            row["first_response_at"] = at
    elif isinstance(event, Case.PrioritySet):
        row["priority"] = event.priority
        row["priority_rank"] = PRIORITY_RANK.get(event.priority, 9)
    elif isinstance(event, Case.OwnerAssigned):
        row["owner"] = event.owner
        row["due_at"] = _utc(event.due_at)
        row["acceptance_criteria"] = event.acceptance_criteria
    elif isinstance(event, Case.Escalated):
        row["escalation_level"] = max(row["escalation_level"], event.level)
        if event.level >= 2 and row["supervisor_at"] is None:
            row["supervisor_at"] = at
            row["supervisor_id"] = event.supervisor_id
    elif isinstance(event, Case.OptionsOffered):
        row["options_offered"] = list(event.options)
        row["solution_at"] = row["solution_at"] or at
        _communication(row, event, "options_offered", options=list(event.options))
    elif isinstance(event, Case.OptionChosen):
        row["option_chosen"] = event.option
    elif isinstance(event, Case.ProgressUpdateSent):
        _communication(row, event, "progress_update")
    elif isinstance(event, Case.Resolved):
        row["status"] = "resolved"
        row["resolved_at"] = at
        row["solution"] = {"option": event.option, "summary": event.summary}
        _communication(row, event, "resolved")
    elif isinstance(event, Case.ResolutionConfirmed):
        row["status"] = "closed"
        row["confirmed_at"] = at
        row["closed_at"] = at
        row["outcome"] = f"confirmed ({event.via})"
        _communication(row, event, "resolution_confirmed", via=event.via)
    elif isinstance(event, Case.ClosedWithoutReply):
        row["status"] = "closed"
        row["closed_at"] = at
        row["outcome"] = "closed without reply"
    elif isinstance(event, Case.Reopened):
        row["status"] = "reopened"
        row["reopen_count"] += 1
        row["resolved_at"] = None
        _communication(row, event, "reopened", reason=event.reason)
    elif isinstance(event, Case.RecallLinked):
        row["recall_id"] = event.recall_id
    elif isinstance(event, Contact.MessageReceived):
        _communication(row, event, "customer_message")
    elif isinstance(event, Contact.Replied):
        _communication(row, event, f"{event.responder}_reply", agent_id=event.agent_id)
    elif isinstance(event, Contact.HandedOff):
        _communication(row, event, "handed_off", agent_id=event.agent_id)
    elif isinstance(event, Contact.ReplyPromised):
        _communication(row, event, "reply_promised", agent_id=event.agent_id)
    elif isinstance(event, Contact.Closed):
        _communication(row, event, "contact_closed", resolved=event.resolved)
    elif isinstance(event, Contact.Abandoned):
        _communication(row, event, "contact_abandoned")
    elif isinstance(event, Survey.Answered):
        row["satisfaction"] = {
            "overall": event.overall,
            "attitude": event.attitude,
            "efficiency": event.efficiency,
            "solution": event.solution,
            "nps": event.nps,
            "dissatisfied": event.dissatisfied,
            "answered_at": at,
        }
    elif isinstance(event, Survey.FollowedUp):
        _communication(row, event, "survey_follow_up")
    elif isinstance(event, Survey.ThankYouTriggered):
        _communication(row, event, "thank_you")
    elif isinstance(event, ReturnRequest.Refunded):
        row["refund_amount"] = str(Decimal(row["refund_amount"]) + event.amount)
    else:
        return False
    return True

"""Applying a batch of notifications to the complaint ledger, a case at a time: the rows the
batch touches are read once, changed in memory (``projections.ledger.rows``) and written
back once, so a rebuild costs a few statements per batch, not per event.

Which case an event belongs to: a case's own events to its row; a contact, survey or return
to the case its creation names (``case_ref``), remembered in ``ledger_links`` for its later
events. Events of no case are skipped.

A case is a **repeat complaint** (R-CMP-07) when the same customer opened a complaint on
the same topic within the policy's window before it (event time). Arrival order does not
matter: a case that arrives late marks the later ones it precedes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from adapters.readstore import Cursor
from domain.case import Case
from domain.contact import Contact
from domain.ids import aggregate_id
from domain.returns import ReturnRequest
from domain.survey import Survey
from projections.base import Notified, select_in
from projections.ledger.rows import HANDLES, REPEAT_CLASSES, REPEAT_WINDOW, RowChange
from projections.ledger.tables import COLUMNS, facets, loaded, split
from projections.sla_rows import utc
from projections.source_attributes import merge as merge_attributes

LINKING = frozenset({Contact.Opened, Survey.Sent, ReturnRequest.Requested})
"""Creations that name the case their aggregate belongs to (``case_ref``)."""

Routed = tuple[int, Any, str, RowChange]
"""A notification id, its event, the event's aggregate id, and the event's row change."""


def apply_by_case(t: Callable[[str], str], cursor: Cursor, batch: Sequence[Notified]) -> None:
    """Apply the events the ledger handles (``rows.HANDLES``); skip the others."""
    work = LedgerBatch(t, cursor)
    events: list[Routed] = [
        (nid, event, str(event.originator_id), change)
        for nid, event in batch
        if event is not None and (change := HANDLES.handler(type(event))) is not None
    ]
    work.load(events)
    for routed in events:
        work.apply(*routed)
    work.flush()


class LedgerBatch:
    """The rows one batch touches, loaded once and written back once."""

    def __init__(self, t: Callable[[str], str], cursor: Cursor) -> None:
        self.ledger = t("complaint_ledger")
        self.links_table = t("ledger_links")
        self.cursor = cursor
        self.rows: dict[str, dict[str, Any]] = {}
        self.changed: set[str] = set()
        self.absent: set[str] = set()
        self.links: dict[str, str | None] = {}
        self.new_links: dict[str, str] = {}
        self.opened: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """This batch's new complaints by (customer, topic), for the repeat check."""
        self.facets_table = t("ledger_facets")
        self.stored_facets: dict[str, set[tuple[str, str]]] = {}
        """The facets of each row as loaded (none for a new row): only changed ones are
        written back."""

    # -- lookups ------------------------------------------------------------------------------

    def load(self, events: Sequence[Routed]) -> None:
        """The links of every aggregate the batch names and the rows of every case they
        lead to, with a few ``IN (...)`` queries instead of one query per aggregate and per
        case. (A link never changes once written, so the ones this batch adds later only
        add to what is loaded here.)"""
        wanted = {
            originator for _, event, originator, _ in events if type(event) is not Case.Opened
        }
        aggregates = sorted(wanted.difference(self.links))
        for aggregate in aggregates:
            self.links[aggregate] = None
        for found in select_in(self.cursor, self.links_table, "aggregate_id", aggregates):
            self.links[str(found["aggregate_id"])] = str(found["case_id"])
        cases = {case_id for case_id in self.links.values() if case_id is not None}
        cases.update(
            str(aggregate_id("case", event.case_ref))
            for _, event, _, _ in events
            if type(event) in LINKING and event.case_ref is not None
        )
        missing = sorted(cases.difference(self.rows, self.absent))
        self.absent.update(missing)
        for found in select_in(self.cursor, self.ledger, "case_id", missing):
            row = loaded(found)
            self.rows[row["case_id"]] = row
            self.stored_facets[row["case_id"]] = facets(row)
            self.absent.discard(row["case_id"])

    def case_of(self, aggregate: str) -> str | None:
        if aggregate not in self.links:
            self.cursor.execute(
                f"SELECT case_id FROM {self.links_table} WHERE aggregate_id = :id",
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
            f"SELECT * FROM {self.ledger} WHERE case_id = :id",
            {"id": case_id},
        )
        found = self.cursor.fetchall()
        if not found:
            self.absent.add(case_id)
            return None
        row = self.rows[case_id] = loaded(found[0])
        self.stored_facets[case_id] = facets(row)
        return row

    # -- events -------------------------------------------------------------------------------

    def apply(self, nid: int, event: Any, originator: str, change: RowChange) -> None:
        opens = type(event) is Case.Opened
        row: dict[str, Any] | None
        if opens:
            case_id = originator
            row = self.rows[case_id] = {}
            self.absent.discard(case_id)
            self.link(case_id, case_id)
        else:
            if type(event) in LINKING:
                if event.case_ref is None:
                    return  # a return that settles no case
                case_id = str(aggregate_id("case", event.case_ref))
                self.link(originator, case_id)
            else:
                case_id = self.case_of(originator) or ""
            row = self.row(case_id) if case_id else None
            if row is None:
                return
        change(row, event)
        merge_attributes(row, event)
        self.changed.add(case_id)
        row["notifications"].append(nid)
        row["last_notification_id"] = nid
        if originator == case_id:
            row["version"] = event.originator_version
        if opens and event.classification in REPEAT_CLASSES:
            self.mark_repeats(row, event.occurred_at)
            self.opened.setdefault((event.customer_id, event.topic), []).append(row)

    def mark_repeats(self, row: dict[str, Any], opened: datetime) -> None:
        """R-CMP-07: the same customer's complaints on the same topic within the window.
        A case repeats the latest complaint before it (ties in time: by case id) at most
        the window before it, whatever order the cases arrive in and however they are
        batched: the new case takes the latest of those before it, and each later one it
        is nearer to than what that one repeated so far now repeats it."""
        self.cursor.execute(
            f"SELECT case_id, opened_at FROM {self.ledger}"
            " WHERE customer_id = :customer AND topic = :topic"
            " AND opened_at >= :since AND opened_at <= :until AND case_id <> :id"
            f" AND classification IN ({', '.join(repr(c) for c in REPEAT_CLASSES)})",
            {
                "customer": row["customer_id"],
                "topic": row["topic"],
                "since": utc(opened - REPEAT_WINDOW),
                "until": utc(opened + REPEAT_WINDOW),
                "id": row["case_id"],
            },
        )
        stored = {str(r["case_id"]): str(r["opened_at"]) for r in self.cursor.fetchall()}
        for other in self.opened.get((row["customer_id"], row["topic"]), ()):
            stored[other["case_id"]] = other["opened_at"]  # not yet written
        mine = (row["opened_at"], row["case_id"])
        earlier: list[tuple[str, str]] = []
        for other_id, other_at in stored.items():
            if abs(datetime.fromisoformat(other_at) - opened) > REPEAT_WINDOW:
                continue
            if (other_at, other_id) < mine:
                earlier.append((other_at, other_id))
            elif (later := self.row(other_id)) is not None and self.nearer(later, mine, stored):
                later["repeat_complaint"] = 1
                later["repeat_of"] = row["case_id"]
                self.changed.add(other_id)
        if earlier:
            row["repeat_complaint"] = 1
            row["repeat_of"] = max(earlier)[1]

    def nearer(self, later: dict[str, Any], mine: tuple[str, str], known: dict[str, str]) -> bool:
        """Whether the case ``mine`` (opened at, case id), before ``later``, is later than
        the one ``later`` repeats so far (if any)."""
        current = later["repeat_of"]
        if current is None:
            return True
        at = known.get(current)
        if at is None:
            found = self.row(current)
            at = found["opened_at"] if found is not None else ""
        return (at, current) < mine

    def flush(self) -> None:
        if self.changed:
            names = ", ".join((*COLUMNS, "doc"))
            values = ", ".join(f":{c}" for c in (*COLUMNS, "doc"))
            updates = ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[1:], "doc"))
            self.cursor.executemany(
                f"INSERT INTO {self.ledger} ({names}) VALUES ({values})"
                f" ON CONFLICT (case_id) DO UPDATE SET {updates}",
                [split(self.rows[case_id]) for case_id in self.changed],
            )
        self.flush_facets()
        if self.new_links:
            self.cursor.executemany(
                f"INSERT INTO {self.links_table} (aggregate_id, case_id)"
                " VALUES (:a, :c) ON CONFLICT (aggregate_id) DO NOTHING",
                [{"a": a, "c": c} for a, c in self.new_links.items()],
            )

    def flush_facets(self) -> None:
        """Of each changed row whose facets changed, the pairs it no longer has deleted and
        the new ones inserted (a breach adds one pair to a case that has a dozen: the
        others stay as they are)."""
        gone: list[dict[str, str]] = []
        added: list[dict[str, str]] = []
        for case_id in self.changed:
            before = self.stored_facets.get(case_id, set())
            now = facets(self.rows[case_id])
            if now == before:
                continue
            gone += [{"c": case_id, "f": f, "v": v} for f, v in before - now]
            added += [{"c": case_id, "f": f, "v": v} for f, v in sorted(now - before)]
            self.stored_facets[case_id] = now
        if gone:
            self.cursor.executemany(
                f"DELETE FROM {self.facets_table} WHERE case_id = :c AND facet = :f AND value = :v",
                gone,
            )
        if added:
            self.cursor.executemany(
                f"INSERT INTO {self.facets_table} (case_id, facet, value) VALUES (:c, :f, :v)",
                added,
            )

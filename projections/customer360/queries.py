"""What the customer 360 answers (R-CUS-06): the whole view of one customer, its segments
(R-CUS-05, ``projections.customer360.segments``), its contact timeline across channels a
page at a time, and the notifications the view was built from."""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any

import orjson

from adapters.readstore import Cursor
from projections.base import Projection
from projections.customer360.segments import iso, segments_of

TIMELINE_LIMIT = 500
"""Contact timeline entries a view carries (the newest); older ones page by ``timeline``."""


def _check_aware(as_of: datetime | None) -> None:
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must be an aware datetime (event time is compared in UTC)")


class Customer360Queries(Projection):
    """The reading half of ``Customer360``."""

    def watermark(self) -> datetime | None:
        """The latest event time of any fact seen: the default ``as_of``."""
        rows = self.store.query(
            f"SELECT latest FROM {self.t('c360_event_time')} WHERE name = 'watermark'"
        )
        return datetime.fromisoformat(rows[0]["latest"]) if rows else None

    def view(
        self,
        customer_id: str,
        as_of: datetime | None = None,
        timeline_limit: int = TIMELINE_LIMIT,
    ) -> dict[str, Any] | None:
        """The customer 360 (R-CUS-06) as JSON-ready values, or None for an unknown customer.

        ``as_of`` (aware; default: the event-time watermark, the latest ``occurred_at`` of
        any fact of a journey, which administrative facts such as an erasure request never
        move) is the instant the segments (R-CUS-05) and the time-relative flags (an order
        ``late``, a callback ``overdue``, the consents in force) are judged at; the answer
        says which (``as_of``, and ``as_of_basis``: ``watermark`` or ``requested``). Cases
        are ``open``, ``awaiting_confirmation`` (resolved, not yet confirmed or closed:
        R-CMP-04) or ``past`` (closed). The lists show every fact recorded. The timeline
        holds the newest ``timeline_limit`` contact facts, oldest first."""
        _check_aware(as_of)
        with self.store.reading() as cursor:
            cursor.execute(
                f"SELECT * FROM {self.t('c360_customers')} WHERE customer_id = :c",
                {"c": customer_id},
            )
            found = cursor.fetchall()
            if not found:
                return None
            basis = "requested" if as_of is not None else "watermark"
            if as_of is None:
                cursor.execute(
                    f"SELECT latest FROM {self.t('c360_event_time')} WHERE name = 'watermark'"
                )
                as_of = datetime.fromisoformat(cursor.fetchall()[0]["latest"])
            docs = self._docs(cursor, customer_id)
        at = iso(as_of)
        timeline = _timeline(docs.get("contact", []), timeline_limit + 1, None)
        customer = found[0]
        cases = [_public(doc) for doc in docs.get("case", [])]
        return {
            "customer_id": customer_id,
            "as_of": at,
            "as_of_basis": basis,
            "first_seen_at": customer["first_seen_at"],
            "profile": _profile(docs.get("customer", [])),
            "consents": _consents(docs.get("customer", []), at),
            "segments": segments_of(docs.get("order", []), customer["first_seen_at"], as_of),
            "orders": [_order(doc, at) for doc in docs.get("order", [])],
            "returns": [_public(doc) for doc in docs.get("return", [])],
            "cases": {
                "open": [case for case in cases if case["status"] == "open"],
                "awaiting_confirmation": [c for c in cases if c["status"] == "resolved"],
                "past": [case for case in cases if case["status"] == "closed"],
            },
            "callbacks": [_callback(doc, at) for doc in docs.get("callback", [])],
            "satisfaction": [_public(doc) for doc in docs.get("survey", [])],
            "timeline": timeline[:timeline_limit][::-1],
            "timeline_truncated": len(timeline) > timeline_limit,
        }

    def segments(self, customer_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
        """R-CUS-05 segments of one customer at ``as_of`` (default: the latest event time
        seen), or None for an unknown customer."""
        _check_aware(as_of)
        with self.store.reading() as cursor:
            cursor.execute(
                f"SELECT first_seen_at FROM {self.t('c360_customers')} WHERE customer_id = :c",
                {"c": customer_id},
            )
            found = cursor.fetchall()
            if not found:
                return None
            if as_of is None:
                cursor.execute(
                    f"SELECT latest FROM {self.t('c360_event_time')} WHERE name = 'watermark'"
                )
                as_of = datetime.fromisoformat(cursor.fetchall()[0]["latest"])
            cursor.execute(
                f"SELECT doc FROM {self.t('c360_items')} WHERE customer_id = :c AND kind = 'order'",
                {"c": customer_id},
            )
            orders = [orjson.loads(row["doc"]) for row in cursor.fetchall()]
        return segments_of(orders, found[0]["first_seen_at"], as_of)

    def timeline(
        self, customer_id: str, limit: int = TIMELINE_LIMIT, before: tuple[str, int] | None = None
    ) -> list[dict[str, Any]]:
        """Contact facts of the customer across channels, newest first, ``limit`` at a time
        before the cursor ``(at, nid)`` of the previous page's last entry."""
        with self.store.reading() as cursor:
            return _timeline(
                self._docs(cursor, customer_id, "contact").get("contact", []), limit, before
            )

    def events_behind(self, customer_id: str) -> list[int]:
        """The notification ids the customer's view was built from, in order (for an
        "explain" route)."""
        with self.store.reading() as cursor:
            docs = self._docs(cursor, customer_id)
        return sorted(nid for kind in docs.values() for doc in kind for nid in doc["nids"])

    def _docs(
        self, cursor: Cursor, customer_id: str, kind: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """The customer's item documents by kind, each kind in order of creation."""
        only = "" if kind is None else " AND kind = :kind"
        cursor.execute(
            f"SELECT kind, doc FROM {self.t('c360_items')} WHERE customer_id = :c{only}"
            " ORDER BY at, aggregate_id",
            {"c": customer_id, "kind": kind},
        )
        docs: dict[str, list[dict[str, Any]]] = {}
        for row in cursor.fetchall():
            docs.setdefault(row["kind"], []).append(orjson.loads(row["doc"]))
        return docs


# -- shaping the view ------------------------------------------------------------------------------

_INTERNAL = frozenset({"nids", "changed_at", "consents"})


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key not in _INTERNAL}


def _profile(customer: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one part of the view with personal values (masked by role later, R-CUS-04)."""
    return _public(customer[0]) if customer else None


def _consents(customer: list[dict[str, Any]], at: str) -> dict[str, Any]:
    """R-CUS-02 statements in event-time order (ties in recording order) and the purposes
    in force at ``at``: the latest statement per purpose up to then, as the aggregate
    folds them."""
    statements = sorted(customer[0]["consents"], key=lambda s: s[0]) if customer else []
    granted: dict[str, bool] = {}
    for when, purpose, given in statements:
        if when <= at:
            granted[purpose] = given
    return {
        "current": sorted(purpose for purpose, given in granted.items() if given),
        "history": [
            {"at": when, "purpose": purpose, "granted": given}
            for when, purpose, given in statements
        ],
    }


def _order(doc: dict[str, Any], at: str) -> dict[str, Any]:
    """``late``: delivered after the (latest) promised date, or not delivered nor
    cancelled while the promised date has passed at ``at``."""
    promised, delivered = doc["promised_delivery_at"], doc["delivered_at"]
    if delivered is not None:
        late = delivered > promised
    else:
        late = doc["cancelled_at"] is None and at > promised
    return {**_public(doc), "late": late}


def _timeline(
    contacts: list[dict[str, Any]], limit: int, before: tuple[str, int] | None
) -> list[dict[str, Any]]:
    """The contacts' facts merged across channels, newest first by (event time,
    notification id), ``limit`` of them before the cursor ``before``."""
    entries = [
        (at, nid, name, detail, contact)
        for contact in contacts
        for at, nid, name, detail in contact["events"]
        if before is None or (at, nid) < before
    ]
    newest = heapq.nlargest(limit, entries, key=lambda e: (e[0], e[1]))
    return [
        {
            "at": at,
            "nid": nid,
            "event": name,
            "channel": contact["channel"],
            "contact_id": contact["contact_id"],
            "case_ref": contact["case_ref"],
            **detail,
        }
        for at, nid, name, detail, contact in newest
    ]


def _callback(doc: dict[str, Any], at: str) -> dict[str, Any]:
    """``overdue``: still scheduled after its due time at ``at`` (R-SAT-04)."""
    return {**_public(doc), "overdue": doc["status"] == "scheduled" and at > doc["due_at"]}

"""The customer 360 read model's test journeys: source events fed through a real
``JourneyApplication`` (every one accepted), the multi-channel journey of R-CUS-06 and the
view it must give, and the read model's rows as one comparable snapshot
(tests/unit/test_customer360.py and its PostgreSQL twin in
tests/integration/test_customer360_postgres.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from adapters.readstore import ReadStore, Row
from application.service import JourneyApplication
from domain.contact import Contact
from projections.base import Notified
from projections.customer360 import Customer360
from tests.unit.feeding import Feed, source

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TZ8 = timezone(timedelta(hours=8))
US = timedelta(microseconds=1)
H, D, M, S = timedelta(hours=1), timedelta(days=1), timedelta(minutes=1), timedelta(seconds=1)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def notifications(app: JourneyApplication) -> list[Notified]:
    found = app.process_recorder.select_notifications(start=None, limit=100_000)
    return [(n.id, app.mapper.to_domain_event(n)) for n in found]


def new_projection(store: ReadStore) -> Customer360:
    projection = Customer360(store)
    projection.create_tables()
    return projection


def snapshot(projection: Customer360) -> tuple[dict[str, list[Row]], int]:
    """Every row of the projection's tables (whatever their suffix) and its position."""
    keys = {
        "c360_items": "aggregate_id",
        "c360_customers": "customer_id",
        "c360_event_time": "name",
    }
    assert set(keys) == set(Customer360.tables)
    rows = {
        table: projection.store.query(f"SELECT * FROM {projection.t(table)} ORDER BY {order}")
        for table, order in keys.items()
    }
    return rows, projection.position()


class Journey:
    """Source events fed one at a time on one partition; every one must be accepted."""

    def __init__(self, app: JourneyApplication) -> None:
        self.feed = Feed(app)
        self.count = 0

    def __call__(
        self,
        event_type: str,
        at: datetime,
        customer: str = "c-360",
        channel: str = "app",
        **data: Any,
    ) -> None:
        self.count += 1
        event = source(event_type, data, at, f"e-{self.count}", customer, channel)
        assert self.feed(event) == []


def placed(
    journey: Journey, order_id: str, at: datetime, amount: str, customer: str, **more: Any
) -> None:
    journey(
        "order.placed",
        at,
        customer,
        order_id=order_id,
        items=[{"sku": "KT-1", "quantity": 1, "unit_price": amount}],
        amount_paid=amount,
        currency="CNY",
        promised_delivery_at=(at + 3 * D).isoformat(),
        **more,
    )


BIRTHDAY_CALL = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)


def multi_channel_journey(app: JourneyApplication) -> None:
    """One customer across app, phone, web, mini program and store: registration and
    consents, two contacts on one case and a third on its own, an order delivered late and
    partly refunded, a cancelled order, a survey, two callbacks; and another customer."""
    j = Journey(app)
    j(
        "customer.registered",
        T0.astimezone(TZ8),
        member_id="m-1",
        personal={"name": "Li Wei", "phone": "+86 138 0000 0000"},
        consents=["service", "marketing"],
        birthday="03-14",
        preferences=["kitchen"],
    )
    j(
        "contact.opened",
        T0 + H,
        contact_id="k1",
        classification="complaint",
        topic="order",
        store_id="s-7",
        agent_group="g-1",
    )
    j("contact.message", T0 + H + 10 * S, contact_id="k1", message_id="m-1")
    j("contact.replied", T0 + H + 20 * S, contact_id="k1", responder="agent", agent_id="ag-1")
    j(
        "contact.opened",
        T0 + 2 * H,
        channel="phone",
        contact_id="k2",
        case_id="k1",
        classification="complaint",
        topic="order",
    )
    j("contact.opened", T0 + 2 * D, "c-other", "web", contact_id="k9", **INQUIRY)
    j("contact.closed", T0 + 2 * H + 5 * M, channel="phone", contact_id="k2", resolved=True)
    placed(j, "o-1", T0 + 3 * H, "600.00", "c-360", store_id="s-7")
    j("order.shipped", T0 + D, order_id="o-1")
    j("order.delivered", T0 + 4 * D, order_id="o-1")
    j(
        "return.requested",
        T0 + 5 * D,
        order_id="o-1",
        return_id="rt-1",
        reason="quality",
        opened=True,
        where="online",
        amount_requested="200.00",
        items=["KT-1"],
    )
    j(
        "callback.scheduled",
        T0 + 5 * D + 30 * M,
        channel="phone",
        callback_id="cb-1",
        reason="after_delivery",
        order_id="o-1",
    )
    j("return.approved", T0 + 5 * D + H, return_id="rt-1")
    j("refund.refunded", T0 + 5 * D + 2 * H, return_id="rt-1", amount="150.00")
    j(
        "case.owner_assigned",
        T0 + 6 * D,
        case_id="k1",
        owner="ag-1",
        due_at=(T0 + 8 * D).isoformat(),
        acceptance_criteria="refund paid",
    )
    j("case.options_offered", T0 + 6 * D + 10 * M, case_id="k1", options=["refund", "replace"])
    j("case.resolved", T0 + 6 * D + 20 * M, case_id="k1", option="refund")
    j("survey.sent", T0 + 6 * D + H, survey_id="sv-1", case_id="k1")
    j(
        "survey.answered",
        T0 + 6 * D + 2 * H,
        survey_id="sv-1",
        attitude=4,
        efficiency=4,
        solution=5,
        overall=5,
        nps=9,
        comment="quick refund",
    )
    j("case.resolution_confirmed", T0 + 6 * D + 3 * H, case_id="k1", via="sms")
    j(
        "callback.scheduled",
        T0 + 6 * D + 4 * H,
        channel="phone",
        callback_id="cb-2",
        reason="birthday",
        due_at=BIRTHDAY_CALL.isoformat(),
    )
    j("customer.consent_withdrawn", T0 + 7 * D, purpose="marketing")
    j("customer.profile_updated", T0 + 7 * D + H, personal={"phone": "+86 139 1111 2222"})
    placed(j, "o-2", T0 + 8 * D, "99.00", "c-360", channel="mini_program")
    j("order.cancelled", T0 + 8 * D + H, order_id="o-2", reason="changed mind")
    j("contact.opened", T0 + 9 * D, channel="store", contact_id="k3", **INQUIRY)
    j("contact.replied", T0 + 9 * D + 30 * S, "c-360", "store", contact_id="k3", responder="agent")
    j("callback.completed", T0 + 11 * D, channel="phone", callback_id="cb-1", outcome="reached")


INQUIRY = {"classification": "inquiry", "topic": "product"}


def nid_of(log: Sequence[Notified], aggregate_id: UUID, kind: type) -> int:
    (nid,) = [n for n, e in log if e.originator_id == aggregate_id and type(e) is kind]
    return nid


TimelineRow = tuple[datetime, str, type, str, str, str, dict[str, Any]]
TIMELINE: list[TimelineRow] = [
    (T0 + H, "k1", Contact.Opened, "contact.opened", "app", "k1", {}),
    (
        T0 + H + 10 * S,
        "k1",
        Contact.MessageReceived,
        "contact.message",
        "app",
        "k1",
        {"message_id": "m-1"},
    ),
    (
        T0 + H + 20 * S,
        "k1",
        Contact.Replied,
        "contact.replied",
        "app",
        "k1",
        {"responder": "agent", "agent_id": "ag-1"},
    ),
    (T0 + 2 * H, "k2", Contact.Opened, "contact.opened", "phone", "k1", {}),
    (
        T0 + 2 * H + 5 * M,
        "k2",
        Contact.Closed,
        "contact.closed",
        "phone",
        "k1",
        {"resolved": True},
    ),
    (T0 + 9 * D, "k3", Contact.Opened, "contact.opened", "store", "k3", {}),
    (
        T0 + 9 * D + 30 * S,
        "k3",
        Contact.Replied,
        "contact.replied",
        "store",
        "k3",
        {"responder": "agent", "agent_id": None},
    ),
]
"""The contact facts of the journey's customer: (time, contact, event class, event,
channel, case, details)."""


def expected_view(log: Sequence[Notified]) -> dict[str, Any]:
    """What R-CUS-06 asks the 360 to show of the multi-channel journey, at its latest event
    time (T0 + 11 days), worked out from the journey itself."""
    no_case = {"resolved_at": None, "closed_at": None, "resolution_option": None}
    return {
        "customer_id": "c-360",
        "as_of": iso(T0 + 11 * D),
        "as_of_basis": "watermark",
        "first_seen_at": iso(T0),
        "profile": {
            "registered_at": iso(T0),
            "channel": "app",
            "member_id": "m-1",
            "personal": {"name": "Li Wei", "phone": "+86 139 1111 2222"},
            "birthday": "03-14",
            "preferences": ["kitchen"],
            "erasure_requested_at": None,
        },
        "consents": {
            "current": ["service"],
            "history": [
                {"at": iso(T0), "purpose": "service", "granted": True},
                {"at": iso(T0), "purpose": "marketing", "granted": True},
                {"at": iso(T0 + 7 * D), "purpose": "marketing", "granted": False},
            ],
        },
        "segments": {
            "rule": "R-CUS-05",
            "as_of": iso(T0 + 11 * D),
            "rfm": "potential",  # one purchase: recent, not frequent
            "lifecycle": "new",  # first purchase 10 days 21 hours ago
            "recency_days": 10,
            "frequency": 1,  # o-2 was cancelled
            "monetary": "450.00",  # 600.00 paid, 150.00 refunded
            "first_purchase_at": iso(T0 + 3 * H),
            "last_purchase_at": iso(T0 + 3 * H),
        },
        "orders": [
            {
                "order_id": "o-1",
                "placed_at": iso(T0 + 3 * H),
                "channel": "app",
                "store_id": "s-7",
                "amount": "600.00",
                "currency": "CNY",
                "status": "delivered",
                "promised_delivery_at": iso(T0 + 3 * H + 3 * D),
                "first_promised_delivery_at": iso(T0 + 3 * H + 3 * D),
                "delays": 0,
                "shipped_at": iso(T0 + D),
                "delivered_at": iso(T0 + 4 * D),
                "cancelled_at": None,
                "refunds": [
                    {"at": iso(T0 + 5 * D + 2 * H), "amount": "150.00", "return_id": "rt-1"}
                ],
                "refunded": "150.00",
                "late": True,  # delivered 21 hours after the promised date
            },
            {
                "order_id": "o-2",
                "placed_at": iso(T0 + 8 * D),
                "channel": "mini_program",
                "store_id": None,
                "amount": "99.00",
                "currency": "CNY",
                "status": "cancelled",
                "promised_delivery_at": iso(T0 + 11 * D),
                "first_promised_delivery_at": iso(T0 + 11 * D),
                "delays": 0,
                "shipped_at": None,
                "delivered_at": None,
                "cancelled_at": iso(T0 + 8 * D + H),
                "refunds": [],
                "refunded": "0",
                "late": False,
            },
        ],
        "returns": [
            {
                "return_id": "rt-1",
                "order_id": "o-1",
                "requested_at": iso(T0 + 5 * D),
                "reason": "quality",
                "where": "online",
                "amount_requested": "200.00",
                "status": "refunded",
                "decided_at": iso(T0 + 5 * D + H),
                "inspection": None,
                "refunds": [{"at": iso(T0 + 5 * D + 2 * H), "amount": "150.00"}],
                "refunded": "150.00",
                "exchanged_for": None,
                "completed_at": iso(T0 + 5 * D + 2 * H),
            }
        ],
        "cases": {
            "open": [
                {
                    "case_ref": "k3",
                    "opened_at": iso(T0 + 9 * D),
                    "channel": "store",
                    "channels": ["store"],
                    "classification": "inquiry",
                    "topic": "product",
                    "priority": "general",
                    "status": "open",
                    "escalation_level": 1,
                    "reopen_count": 0,
                    **no_case,
                    "store_id": None,
                    "agent_group": None,
                }
            ],
            "awaiting_confirmation": [],
            "past": [
                {
                    "case_ref": "k1",
                    "opened_at": iso(T0 + H),
                    "channel": "app",
                    "channels": ["app", "phone"],
                    "classification": "complaint",
                    "topic": "order",
                    "priority": "important",
                    "status": "closed",
                    "escalation_level": 1,
                    "reopen_count": 0,
                    "resolved_at": iso(T0 + 6 * D + 20 * M),
                    "closed_at": iso(T0 + 6 * D + 3 * H),
                    "resolution_option": "refund",
                    "store_id": "s-7",
                    "agent_group": "g-1",
                }
            ],
        },
        "callbacks": [
            {
                "callback_id": "cb-1",
                "reason": "after_delivery",
                "order_id": "o-1",
                "scheduled_at": iso(T0 + 5 * D + 30 * M),
                "due_at": iso(T0 + 11 * D),  # 7 days after the delivery (R-SAT-04)
                "status": "completed",
                "outcome": "reached",
                "ended_at": iso(T0 + 11 * D),
                "overdue": False,
            },
            {
                "callback_id": "cb-2",
                "reason": "birthday",
                "order_id": None,
                "scheduled_at": iso(T0 + 6 * D + 4 * H),
                "due_at": iso(BIRTHDAY_CALL),
                "status": "scheduled",
                "outcome": None,
                "ended_at": None,
                "overdue": False,
            },
        ],
        "satisfaction": [
            {
                "survey_id": "sv-1",
                "case_ref": "k1",
                "sent_at": iso(T0 + 6 * D + H),
                "answered_at": iso(T0 + 6 * D + 2 * H),
                "scores": {"attitude": 4, "efficiency": 4, "solution": 5, "overall": 5},
                "nps": 9,
                "dissatisfied": False,
                "thanked": True,  # R-SAT-03
                "followed_up_at": None,
            }
        ],
        "timeline": [
            {
                "at": iso(at),
                "nid": nid_of(log, Contact.create_id(contact), kind),
                "event": event,
                "channel": channel,
                "contact_id": contact,
                "case_ref": case_ref,
                **detail,
            }
            for at, contact, kind, event, channel, case_ref, detail in TIMELINE
        ],
        "timeline_truncated": False,
    }


def opened(view: dict[str, Any] | None, app: JourneyApplication) -> dict[str, Any]:
    """The view with its personal values opened. The view keeps them as stored: sealed per
    customer (DESIGN.md "Privacy"); the API opens or masks them by role."""
    assert view is not None
    personal = view["profile"]["personal"]
    assert all(value.startswith("pii:1:") for value in personal.values())
    return {
        **view,
        "profile": {**view["profile"], "personal": app.personal.reveal("c-360", personal)},
    }

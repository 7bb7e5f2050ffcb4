"""The KPI read model's test journeys: source events fed through a real
``JourneyApplication``, a random journey's vocabulary and player, and the read model's
rows as one comparable snapshot (tests/unit/test_kpis.py and its PostgreSQL twin in
tests/integration/test_kpis_postgres.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from adapters.readstore import ReadStore, Row
from application.service import JourneyApplication
from contracts.envelope import SourceEvent, validate
from contracts.schemas.registry import EVENT_TYPES
from domain.ids import aggregate_id
from projections.base import Notified
from projections.kpis import KpiCounters
from tests.unit.feeding import NOW, Feed

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DAY0 = T0.date()
S, M, H, D = (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))


def notifications(app: JourneyApplication) -> list[Notified]:
    found = app.process_recorder.select_notifications(start=None, limit=100_000)
    return [(n.id, app.mapper.to_domain_event(n)) for n in found]


def new_kpis(store: ReadStore) -> KpiCounters:
    projection = KpiCounters(store)
    projection.create_tables()
    return projection


Labels = Callable[[str, int], dict[str, str] | None]
"""The source attributes of a journey's ``n``-th event, of a type (None: it carries none)."""
NAMES_OF_FAMILY = {
    "contacts": ("submitted_via", "state"),
    "engagement": ("submitted_via",),
    "orders": ("order_status",),
}
"""The source attributes a test journey labels each family's events with (returns: none)."""


def in_turn(values: Sequence[str | None]) -> Labels:
    """Labels each event with its family's attributes (``NAMES_OF_FAMILY``), the values in
    turn, the ``i``-th name one turn on (None: not that one): a case's or an order's
    events may disagree, and the latest in event time is kept."""

    def labels(event_type: str, n: int) -> dict[str, str] | None:
        names = NAMES_OF_FAMILY.get(EVENT_TYPES[event_type].family, ())
        given = {name: values[(n + i) % len(values)] for i, name in enumerate(names)}
        return {name: value for name, value in given.items() if value} or None

    return labels


def source(
    event_type: str,
    data: dict[str, Any],
    at: datetime,
    event_id: str,
    customer: str,
    channel: str,
    attributes: dict[str, str] | None = None,
) -> SourceEvent:
    """A validated source event (``contact.opened`` in its latest version)."""
    return validate(
        {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": at.isoformat(),
            "channel": channel,
            "customer_id": customer,
            "source": "test",
            "schema_version": 3 if event_type == "contact.opened" else 1,
            "data": data,
            **({"attributes": attributes} if attributes else {}),
        },
        now=NOW,
        max_future=timedelta(minutes=5),
    )


class Journey:
    """Source events fed one at a time; in the rule tests every one must be accepted."""

    def __init__(
        self, app: JourneyApplication, strict: bool = True, labels: Labels | None = None
    ) -> None:
        self.app = app
        self.feed = Feed(app)
        self.count = 0
        self.strict = strict
        self.labels = labels

    def __call__(
        self, event_type: str, at: datetime, customer: str = "c1", channel: str = "app", **data: Any
    ) -> bool:
        self.count += 1
        attributes = self.labels(event_type, self.count) if self.labels else None
        pending = self.feed.batch(
            source(event_type, data, at, f"e-{self.count}", customer, channel, attributes)
        )
        if self.strict:
            assert (pending.refusals, pending.parked) == ([], [])
        # Refused, or parked waiting for something the journey never sends (or sends later:
        # then applied, as the log shows).
        return not pending.refusals and not pending.parked

    def contact(
        self,
        contact_id: str,
        at: datetime,
        customer: str = "c1",
        channel: str = "app",
        *,
        case: str | None = None,
        classification: str = "inquiry",
        topic: str = "product",
        store: str | None = "s1",
        group: str | None = "g1",
        **more: Any,
    ) -> bool:
        """A contact opens; a chat (app, mini_program, web) opens with the customer's
        first message, so R-RESP-01 runs from the opening (``first_message_id=None``: a
        chat opened before the customer writes)."""
        if channel in ("app", "mini_program", "web"):
            more.setdefault("first_message_id", "m-0")
        more = {key: value for key, value in more.items() if value is not None}
        data: dict[str, Any] = {
            "contact_id": contact_id,
            "classification": classification,
            "topic": topic,
            **more,
        }
        if case is not None:
            data["case_id"] = case
        if store is not None:
            data["store_id"] = store
        if group is not None:
            data["agent_group"] = group
        return self("contact.opened", at, customer, channel, **data)

    def reply(
        self, contact_id: str, at: datetime, customer: str = "c1", responder: str = "agent"
    ) -> bool:
        return self("contact.replied", at, customer, contact_id=contact_id, responder=responder)

    def resolve(self, case: str, at: datetime, customer: str = "c1") -> bool:
        """Owner, options, resolution: the last at ``at``."""
        return (
            self(
                "case.owner_assigned",
                at - 2 * S,
                customer,
                case_id=case,
                owner="ag-1",
                due_at=(at + 30 * D).isoformat(),
                acceptance_criteria="done",
            )
            and self("case.options_offered", at - S, customer, case_id=case, options=["fix"])
            and self("case.resolved", at, customer, case_id=case, option="fix")
        )

    def order(
        self, order_id: str, at: datetime, customer: str = "c1", store: str | None = "s1"
    ) -> bool:
        extra = {"store_id": store} if store else {}
        return self(
            "order.placed",
            at,
            customer,
            "web",
            order_id=order_id,
            items=[{"sku": "KT-1", "quantity": 1, "unit_price": "100.00"}],
            amount_paid="100.00",
            currency="CNY",
            promised_delivery_at=(at + 3 * D).isoformat(),
            **extra,
        )

    def deliver(self, order_id: str, at: datetime, customer: str = "c1") -> bool:
        return self("order.shipped", at - S, customer, "web", order_id=order_id) and self(
            "order.delivered", at, customer, "web", order_id=order_id
        )

    def returned(self, return_id: str, order_id: str, at: datetime, customer: str = "c1") -> bool:
        """A return requested, then approved at ``at``."""
        return self(
            "return.requested",
            at - S,
            customer,
            "web",
            return_id=return_id,
            order_id=order_id,
            reason="quality",
            opened=True,
            where="online",
            amount_requested="50.00",
        ) and self("return.approved", at, customer, "web", return_id=return_id)

    def survey(
        self,
        survey_id: str,
        case: str,
        at: datetime,
        overall: int,
        nps: int | None = None,
        customer: str = "c1",
    ) -> bool:
        answer: dict[str, Any] = {"attitude": 4, "efficiency": 4, "solution": 4}
        if nps is not None:
            answer["nps"] = nps
        return self("survey.sent", at - S, customer, survey_id=survey_id, case_id=case) and self(
            "survey.answered", at, customer, survey_id=survey_id, overall=overall, **answer
        )


CHANNELS = ("app", "web", "phone", "store", "email", "mini_program", "social", "marketplace")
CLASSIFICATIONS = ("inquiry", "complaint", "service", "urgent")
TOPICS = ("product", "order", "after_sales", "logistics", "membership", "other")
KINDS = ("quality", "damaged", "usage")
ACTIONS = (
    "contact", "join", "reply", "bot", "handoff", "resolve", "reopen", "order", "deliver",
    "return", "survey", "timer", "back",
)  # fmt: skip
GAPS = (S, 20 * S, 31 * S, 10 * M, H, D, 7 * D, 7 * D + S)
SCRIPT = (
    "contact", "reply", "resolve", "order", "deliver", "return", "survey", "reopen", "resolve",
    "contact", "bot", "handoff", "join", "resolve", "back", "timer", "order", "contact",
    "reply", "survey",
)  # fmt: skip
"""A customer's next step when a step follows the script: an order in which most steps
are accepted (FCR then a reopening, a survey after a resolution, a return of a delivered
order, a pre-sale contact followed by an order...)."""
Step = tuple[str, bool, str, timedelta, int]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(("c1", "c2")),
        st.booleans(),
        st.sampled_from(ACTIONS),
        st.sampled_from(GAPS),
        st.integers(0, 11),
    ),
    min_size=10,
    max_size=40,
)
"""Which customer moves next — by its script's next step or by any action — after how
long, with which variant (channel, topic, store, score...). Steps the domain refuses (a
reply with no contact yet, a return of an undelivered order...) leave nothing behind."""


def play(
    app: JourneyApplication, steps: Sequence[Step], after: Any = None, labels: Labels | None = None
) -> None:
    """Feed a random journey, after a first contact so that the log is never empty;
    ``after()`` is called after each step (a live follower); ``labels``: the source
    attributes of each event."""
    journey = Journey(app, strict=False, labels=labels)
    at = T0
    seen: dict[str, dict[str, list[str]]] = {}
    first: Step = ("c1", False, "contact", S, 0)
    scripted: Counter[str] = Counter()
    for number, (customer, next_in_script, any_action, gap, choice) in enumerate([first, *steps]):
        action = any_action
        if next_in_script:
            action = SCRIPT[scripted[customer] % len(SCRIPT)]
            scripted[customer] += 1
        at += gap
        mine = seen.setdefault(customer, {"contacts": [], "cases": [], "orders": []})
        ref = f"{customer}-{number}"
        contact = mine["contacts"][-1] if mine["contacts"] else "none"
        # Mostly the latest case, so that resolutions, reopenings and surveys meet.
        cases = mine["cases"] or ["none"]
        case = cases[-1] if choice < 8 else cases[choice % len(cases)]
        order = mine["orders"][-1] if mine["orders"] else "none"
        topic = TOPICS[choice % len(TOPICS)]
        opening: dict[str, Any] = {
            "channel": CHANNELS[choice % len(CHANNELS)],
            "classification": CLASSIFICATIONS[choice % len(CLASSIFICATIONS)],
            "topic": topic,
            "store": ("s1", "s2", None)[choice % 3],
            "group": ("g1", "g2", None)[(choice // 3) % 3],
        }
        if topic == "after_sales":
            opening["after_sales_kind"] = KINDS[choice % len(KINDS)]
        if action in ("contact", "back"):
            when = at if action == "contact" else at - 2 * D
            if journey.contact(ref, when, customer, **opening):
                mine["contacts"].append(ref)
                mine["cases"].append(ref)
        elif action == "join":
            if journey.contact(ref, at, customer, **{**opening, "case": case}):
                mine["contacts"].append(ref)
        elif action in ("reply", "bot"):
            journey.reply(contact, at, customer, "agent" if action == "reply" else "bot")
        elif action == "handoff":
            if journey("contact.handoff_requested", at, customer, contact_id=contact):
                handed = at + (5 + choice) * S
                journey("contact.handed_off", handed, customer, contact_id=contact, agent_id="a")
        elif action == "resolve":
            journey.resolve(case, at, customer)
        elif action == "reopen":
            journey("case.reopened", at, customer, case_id=case, reason="again")
        elif action == "order":
            if journey.order(ref, at, customer, store=opening["store"]):
                mine["orders"].append(ref)
        elif action == "deliver":
            journey.deliver(order, at, customer)
        elif action == "return":
            journey.returned(f"r-{ref}", order, at, customer)
        elif action == "survey":
            nps = None if choice == 11 else choice
            journey.survey(f"sv-{ref}", case, at, 1 + choice % 5, nps, customer)
        elif action == "timer":
            for kind, refs in (("contact", mine["contacts"]), ("case", mine["cases"])):
                if refs:
                    app.advance_clock(aggregate_id(kind, refs[-1]), at)
        if after is not None:
            after()


ORDER_BY = {
    "kpi_facts": "subject_id, metric, subkey",
    "kpi_owners": "aggregate_id",
    "kpi_attributes": "owner_id, attribute",
    "kpi_counters_channel": "hour, channel, metric",
    "kpi_counters_store": "hour, store, metric",
    "kpi_counters_group": "hour, agent_group, metric",
}


def snapshot(kpi: KpiCounters) -> tuple[dict[str, list[Row]], int]:
    assert set(ORDER_BY) == set(KpiCounters.tables)
    rows = {
        table: kpi.store.query(f"SELECT * FROM {kpi.t(table)} ORDER BY {order}")
        for table, order in ORDER_BY.items()
    }
    return rows, kpi.position()


FIXED = [
    (("c1", "c2")[n % 5 % 2], n % 3 > 0, ACTIONS[n * 7 % len(ACTIONS)], GAPS[n % len(GAPS)], n % 12)
    for n in range(60)
]
"""A fixed journey that touches every action."""

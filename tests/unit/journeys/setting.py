"""The setting of the random journeys: time, customers, gaps (every SLA target of the
policy and one second more), the vocabulary of events, and how the applications are made
and compared."""

from __future__ import annotations

import functools
import re
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from adapters.sourcelog.base import TopicPartition
from application.service import JourneyApplication
from domain.aggregate import JourneyAggregate
from domain.errors import DomainError, NotFound
from domain.parking import ParkingLot
from domain.policy import BASELINE

NOW = datetime(2030, 1, 1, tzinfo=UTC)
"""Validation's "now": every generated event time is before it (journeys start in 2026)."""
MAX_FUTURE = timedelta(minutes=5)
PARTITION = TopicPartition("journey.stateful", 0)
CUSTOMERS = ("c1", "c2", "c3")
FIRST_EVENT_AT = {
    "c1": datetime(2026, 3, 2, 0, 30, tzinfo=UTC),
    "c2": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    "c3": datetime(2026, 3, 3, 14, 0, tzinfo=UTC),
}
ZONES = (UTC, timezone(timedelta(hours=8)))
"""Event times alternate between UTC and the chain's local offset."""
PRIORITY_NOOP = "test_bug_redelivered_noop_priority_change_is_refused"
OUT_OF_STOCK_NOOP = "test_bug_redelivered_noop_stock_out_records_a_new_stock_out"
"""The regression tests (tests/unit/test_journeys_regressions.py) of the two redelivery bugs:
the no-ops the machine re-delivers by preference."""
NOT_FOUND = "NotFound"
"""Expected refusal: ``NotFound`` rather than a rule id."""
PARKED = "parked"
"""Expected: parked (``MissingPrerequisite``), waiting for an aggregate not known yet (or
for its delivery, its resolution)."""
DELIVERY = ("order.delivered", "order.cancelled")
"""What lets in the events that wait for an order's delivery."""
SECOND = timedelta(seconds=1)
CENT = Decimal("0.01")
FINAL_HORIZON = timedelta(days=30)
"""Property 4: both applications are advanced to the latest event time plus this."""

POLICY = BASELINE
LATENESS = POLICY.allowed_lateness
TARGETS = sorted(
    {
        POLICY.im_first_reply,
        POLICY.bot_handoff,
        POLICY.phone_answer,
        POLICY.store_greeting,
        POLICY.promised_reply_max,
        *POLICY.response_by_priority.values(),
        POLICY.after_sales_quality,
        POLICY.after_sales_general,
        POLICY.progress_update,
        POLICY.progress_update_urgent,
        POLICY.no_reply_close_after,
        POLICY.supervisor_takeover,
        POLICY.major_solution,
        POLICY.order_sync,
        POLICY.out_of_stock_notice,
        POLICY.no_reason_return_window,
        POLICY.quality_repair_window,
        POLICY.return_review,
        POLICY.refund_completion,
        POLICY.store_inspection,
        POLICY.merchant_response,
        POLICY.survey_after_resolution,
        POLICY.low_score_contact,
        POLICY.callback_after_delivery,
    }
)
"""Every SLA target and window of the policy: gaps land exactly on them and just past."""
BOUNDARY_GAPS = sorted(
    {t + extra for t in TARGETS for extra in (timedelta(0), SECOND, LATENESS, LATENESS + SECOND)}
)


def _seconds(n: int) -> timedelta:
    return timedelta(seconds=n)


GAPS = st.one_of(
    st.sampled_from(BOUNDARY_GAPS),
    st.integers(1, 120).map(_seconds),
    st.integers(121, 6 * 3600).map(_seconds),
    st.integers(6 * 3600, 9 * 86400).map(_seconds),
)
"""Time from a customer's previous event to the next: always at least one second."""
SHORT_GAPS = st.integers(1, 3600).map(_seconds)
DUE_IN = st.one_of(st.sampled_from(TARGETS), st.integers(1, 20 * 86400).map(_seconds))
"""How far ahead a due time or a promised date is set (below the final horizon)."""
WATERMARK_BACK = st.one_of(
    st.sampled_from([timedelta(0), SECOND, LATENESS, LATENESS + SECOND, timedelta(hours=1)]),
    st.integers(0, 3 * 86400).map(_seconds),
)
"""How far behind the latest event time seen the timer's watermark is."""
PHONE_SECOND_OF_DAY = st.one_of(
    st.sampled_from(
        [
            s
            for edge in (POLICY.phone_hours.opens, POLICY.phone_hours.closes)
            for s in (edge.hour * 3600 + edge.minute * 60 - 1, edge.hour * 3600 + edge.minute * 60)
        ]
    ),
    st.integers(0, 86_399),
)
"""Local time of day of a phone call (R-RESP-03): at and around opening and closing."""
PICK = st.integers(0, 1_000)
MAX_CONTACTS, MAX_ORDERS, MAX_RETURNS, MAX_SURVEYS, MAX_CALLBACKS = 6, 4, 4, 3, 3
"""A small id alphabet: events keep colliding on the same few aggregates."""
CHANNELS = ("app", "mini_program", "web", "phone", "store", "email", "social", "marketplace")
OPTION_POOL = ("replace", "refund", "repair", "voucher")
OPTIONS = st.lists(st.sampled_from(OPTION_POOL), min_size=1, max_size=3, unique=True)
SKUS = ("KT-2209", "MUG-11", "CUP-3")


def money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def cents(amount: Decimal) -> int:
    return int(amount * 100)


@functools.cache
def sop_rule_ids() -> frozenset[str]:
    """The rule ids of the shared SOP_RULES.md (beside the repository, see README)."""
    path = Path(__file__).resolve().parents[4] / "shared" / "SOP_RULES.md"
    ids = frozenset(re.findall(r"\bR-[A-Z]+-\d{2}\b", path.read_text(encoding="utf-8")))
    assert ids, f"no rule ids found in {path}"
    return ids


MEMORY_FS = Path("/dev/shm")  # noqa: S108 - only a parent for mkdtemp's private folders
SCRATCH = MEMORY_FS if MEMORY_FS.is_dir() else None
"""Where the SQLite files go: memory-backed when the system has it (no fsync per batch)."""


def scratch_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="journeys-", dir=SCRATCH))


def make_app(path: Path) -> JourneyApplication:
    return JourneyApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )


def notifications(app: JourneyApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


def stored_aggregate_ids(app: JourneyApplication, lots: bool = False) -> set[UUID]:
    """The journey's stored aggregates (with ``lots``: the parking lots instead)."""
    return {
        UUID(str(n.originator_id))
        for n in app.process_recorder.select_notifications(start=None, limit=1_000_000)
        if n.topic.startswith(f"{ParkingLot.__module__}:") == lots
    }


def waiting_in(app: JourneyApplication) -> set[str]:
    """The event ids parked in any lot, not let in yet."""
    waiting: set[str] = set()
    for lot_id in stored_aggregate_ids(app, lots=True):
        lot: ParkingLot = app.repository.get(lot_id)
        waiting.update(lot.waiting)
    return waiting


def public_state(aggregate: JourneyAggregate) -> dict[str, Any]:
    """Everything an aggregate holds except eventsourcing's own bookkeeping (``_id``,
    ``_version``, wall-clock ``_created_on`` / ``_modified_on``, pending events)."""
    return {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}


def snapshot(aggregate: JourneyAggregate) -> dict[str, Any]:
    """Property 2: what must be equal between the live and the replayed aggregate."""
    state = getattr(aggregate, "state", None)
    return {
        "type": type(aggregate).__name__,
        "version": aggregate.version,
        "state": state() if callable(state) else None,
        "vars": public_state(aggregate),
        "outcomes": aggregate.outcomes(),
    }


def facts_only(aggregate: JourneyAggregate, app: JourneyApplication) -> dict[str, Any]:
    """The state without anything the SLA timer decides (property 4 compares those apart),
    personal values opened with the app's customer keys (each app seals with its own keys
    and nonces, so sealed values differ while the facts are the same)."""
    state = public_state(aggregate)
    state.pop("clocks")
    customer_id = getattr(aggregate, "customer_id", "")

    def opened(value: Any) -> Any:
        if isinstance(value, dict):
            revealed = app.personal.reveal(customer_id, value)
            return {key: opened(item) for key, item in revealed.items()}
        if isinstance(value, list):
            return [opened(item) for item in value]
        return value

    return {key: opened(value) for key, value in state.items()}


def check_refusal(error: DomainError) -> None:
    """A refusal is ``NotFound`` or names a rule of SOP_RULES.md."""
    assert isinstance(error, NotFound) or error.rule in sop_rule_ids(), (
        f"refusal without a known rule id: {type(error).__name__}: {error}"
    )

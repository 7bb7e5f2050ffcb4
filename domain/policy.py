"""One versioned policy holds every target and window (R-CH-02).

Every channel gets the same answer because every rule reads its numbers from here, never
from per-channel code. A case or an order records the version in force when it starts its
clocks; a what-if replays stored facts under another version without touching them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta, timezone
from types import MappingProxyType

from domain.note_vocabulary import CHINESE, ENGLISH, Vocabulary


class UnknownPolicy(LookupError):
    pass


@dataclass(frozen=True)
class WorkingHours:
    """Phone working hours in the chain's local time (R-RESP-03)."""

    utc_offset: timedelta
    opens: time
    closes: time
    days: frozenset[int]  # 0 = Monday

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(timezone(self.utc_offset))
        return local.weekday() in self.days and self.opens <= local.time() < self.closes


def _frozen(mapping: Mapping[str, timedelta]) -> Mapping[str, timedelta]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Policy:
    version: str
    effective_from: datetime

    # Event time
    allowed_lateness: timedelta
    """How long the clock timer, on the event-time watermark, waits after a deadline's due
    time for a late fact before it breaches a deadline nothing stopped: the watermark
    breaches it once it is *past* due time + allowed lateness. Each version states its own
    (no default), ``timedelta(0)`` included: breach as soon as the watermark passes the due
    time. Meanwhile the deadline is *overdue* (``domain.clocks.is_overdue``), and the
    complaint ledger shows it so. The wall-clock timer (``JOURNEY_CLOCK=wall_clock``)
    breaches at the deadline whatever this says. Not a target: the final outcome of a
    deadline depends on the facts alone (a late stopping fact settles a breach), so this
    only decides how soon a silent deadline is recorded as breached, and how often a late
    fact has to settle one."""

    # First response (R-RESP)
    im_first_reply: timedelta = timedelta(seconds=30)  # R-RESP-01
    bot_handoff: timedelta = timedelta(seconds=10)  # R-RESP-02
    phone_answer: timedelta = timedelta(seconds=15)  # R-RESP-03
    phone_hours: WorkingHours = WorkingHours(
        utc_offset=timedelta(hours=8),
        opens=time(9, 0),
        closes=time(21, 0),
        days=frozenset(range(7)),
    )
    store_greeting: timedelta = timedelta(seconds=30)  # R-RESP-04
    promised_reply_max: timedelta = timedelta(minutes=5)  # R-RESP-05

    # Priority (R-PRI)
    response_by_priority: Mapping[str, timedelta] = field(
        default_factory=lambda: _frozen(
            {
                "urgent": timedelta(minutes=30),
                "important": timedelta(hours=2),
                "general": timedelta(hours=24),
            }
        )
    )  # R-PRI-02
    after_sales_quality: timedelta = timedelta(minutes=15)  # R-PRI-03
    after_sales_general: timedelta = timedelta(hours=1)  # R-PRI-03

    # Complaints (R-CMP)
    options_min: int = 1  # R-CMP-01
    options_max: int = 3  # R-CMP-01
    progress_update: timedelta = timedelta(hours=24)  # R-CMP-03
    progress_update_urgent: timedelta = timedelta(hours=4)  # R-CMP-03
    no_reply_close_after: timedelta = timedelta(hours=72)  # R-CMP-04
    supervisor_takeover: timedelta = timedelta(hours=1)  # R-CMP-05
    major_solution: timedelta = timedelta(hours=24)  # R-CMP-05
    repeat_complaint_window: timedelta = timedelta(days=30)  # R-CMP-07

    # Orders (R-ORD)
    order_sync: timedelta = timedelta(minutes=5)  # R-ORD-01
    out_of_stock_notice: timedelta = timedelta(hours=1)  # R-ORD-02
    store_transfer_days: int = 3  # R-ORD-02

    # Returns and refunds (R-REF)
    no_reason_return_window: timedelta = timedelta(days=7)  # R-REF-01
    quality_repair_window: timedelta = timedelta(days=30)  # R-REF-01
    return_review: timedelta = timedelta(hours=24)  # R-REF-02
    refund_completion: timedelta = timedelta(days=3)  # R-REF-02
    store_inspection: timedelta = timedelta(minutes=10)  # R-REF-03
    merchant_response: timedelta = timedelta(hours=48)  # R-REF-05

    # Satisfaction and callbacks (R-SAT)
    survey_after_resolution: timedelta = timedelta(hours=24)  # R-SAT-01
    low_score_threshold: int = 3  # R-SAT-02
    low_score_contact: timedelta = timedelta(hours=1)  # R-SAT-02
    callback_after_delivery: timedelta = timedelta(days=7)  # R-SAT-04

    # KPI targets (R-KPI): shares from 0 to 1, the bound included
    response_rate_min: float = 0.98  # R-KPI-01: at least
    fcr_rate_min: float = 0.85  # R-KPI-02: at least
    return_rate_max: float = 0.05  # R-KPI-03: at most

    # Customers (R-CUS)
    note_vocabularies: tuple[Vocabulary, ...] = (ENGLISH, CHINESE)
    """R-CUS-03: the words notes are judged with, a table per language
    (``domain.note_vocabulary``); ``domain.notes`` reads a note with them."""

    # Event time (``allowed_lateness`` is above: every version states it)
    prerequisite_window: timedelta = timedelta(hours=24)
    """How long (event time) a source event waits, parked, for the order, case, return,
    callback, contact, survey or customer it refers to before it is dead-lettered
    (``domain.parking``): independent producers deliver a journey's facts out of order."""

    def __post_init__(self) -> None:
        if self.allowed_lateness < timedelta(0):
            raise ValueError(
                f"policy {self.version}: allowed_lateness must be 0 or more,"
                f" not {self.allowed_lateness}"
            )

    def response_target(self, priority: str) -> timedelta:
        return self.response_by_priority[priority]


BASELINE = Policy(
    version="2026.1",
    effective_from=datetime(2026, 1, 1, tzinfo=UTC),
    # Five minutes, as the timer always waited before it was a stated value: the stored
    # histories of 2026.1 were decided with it, so replays and what-ifs stay the same.
    allowed_lateness=timedelta(minutes=5),
)

POLICIES: Mapping[str, Policy] = MappingProxyType(
    {
        BASELINE.version: BASELINE,
        # A tighter variant, published for what-if analysis before it takes effect.
        "2027.1-draft": replace(
            BASELINE,
            version="2027.1-draft",
            effective_from=datetime(2100, 1, 1, tzinfo=UTC),
            allowed_lateness=timedelta(minutes=5),
            im_first_reply=timedelta(seconds=20),
            progress_update=timedelta(hours=12),
            return_review=timedelta(hours=12),
        ),
    }
)


def policy_named(version: str) -> Policy:
    """The policy of ``version``: what an aggregate recorded, or a what-if (R-CH-02)."""
    try:
        return POLICIES[version]
    except KeyError:
        raise UnknownPolicy(f"no policy version {version!r}; known: {sorted(POLICIES)}") from None


def policy_in_force(at: datetime) -> Policy:
    """The policy with the latest ``effective_from`` not after ``at`` (the baseline for
    anything earlier): one answer for the same question at the same time (R-CH-02)."""
    candidates = [p for p in POLICIES.values() if p.effective_from <= at]
    return max(candidates, key=lambda p: p.effective_from, default=BASELINE)

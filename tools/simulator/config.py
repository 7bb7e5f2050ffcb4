"""What a simulation is asked for (``SimConfig``) and the rates its journeys follow.

The rates are taken from the real data sets in ``../shared/data`` where they say something
about a retail service journey, otherwise from the SOP targets (``SOP_RULES.md``) with a
realistic miss rate; docs/data.md ("Simulator") lists each with its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
"""The chain's local time: the policy's phone hours (R-RESP-03) are in UTC+8."""

DEFAULT_START = date(2026, 3, 2)
"""A Monday inside policy 2026.1 and in the past, so no ``occurred_at`` is refused as
lying in the future when a simulation of a few months is published today."""


@dataclass(frozen=True)
class SimConfig:
    customers: int
    days: int
    seed: int
    bad_rate: float = 0.0
    """Share of extra, deliberately bad records: one per good record with this chance."""
    start: date = DEFAULT_START
    source: str = "journey-simulator"
    """The envelope's ``source`` (the publishing system)."""

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError(f"customers must be at least 1, not {self.customers}")
        if self.days < 1:
            raise ValueError(f"days must be at least 1, not {self.days}")
        if not 0.0 <= self.bad_rate <= 1.0:
            raise ValueError(f"bad rate must be between 0 and 1, not {self.bad_rate}")

    @property
    def start_at(self) -> datetime:
        """Midnight of the first day, local time."""
        return datetime.combine(self.start, time(0, 0), CHINA)

    @property
    def end_at(self) -> datetime:
        """Midnight after the last day: every event is before it."""
        return self.start_at + timedelta(days=self.days)


@dataclass(frozen=True)
class Rates:
    """Chances and volumes of the simulated journeys (docs/data.md, "Simulator")."""

    # Customers
    registered: float = 0.85
    service_consent: float = 0.92
    marketing_consent: float = 0.40
    research_consent: float = 0.15
    profile_update: float = 0.10
    marketing_withdrawn: float = 0.03
    note: float = 0.03
    erasure: float = 0.005
    # Volumes per customer and day
    orders_per_day: float = 1 / 30
    inquiries_per_day: float = 1 / 45
    # Orders (Olist: 8.0 % of delivered orders after the estimate; 1.2 % cancelled or
    # unavailable in the full data set)
    late_delivery: float = 0.08
    delay_announced: float = 0.03
    customer_cancel: float = 0.006
    out_of_stock: float = 0.012
    out_of_stock_cancel: float = 0.5
    modified: float = 0.04
    special_request: float = 0.03
    # Returns (Olist classified reviews: 3.7 % labelled "devolucao"; R-KPI-03 target 5 %)
    return_on_time: float = 0.035
    return_late: float = 0.08
    return_rejected: float = 0.12
    exchange: float = 0.2
    merchant_reject: float = 0.1
    # Callbacks (R-SAT-04)
    after_delivery_callback: float = 0.3
    callback_missed: float = 0.05
    birthday_callback: float = 0.5
    # Contacts and cases
    complaint_after_late: float = 0.30
    complaint_after_delivery: float = 0.02
    complaint_after_cancel: float = 0.15
    im_reply_in_time: float = 0.93
    phone_answer_in_time: float = 0.90
    bot_first: float = 0.4
    escalation: float = 0.10
    major: float = 0.01
    reopen: float = 0.05
    second_contact: float = 0.25
    no_reply_close: float = 0.2
    abandoned: float = 0.03
    # Surveys (R-SAT-01): sent after most resolutions, answered by about half
    survey_sent: float = 0.92
    survey_answered: float = 0.55
    low_score_followed_up: float = 0.85


RATES = Rates()

"""What each SLA clock needs from the channels, for the catalogue (docs/events.md, "What the
SLA clocks need"): the event that starts it, the one that stops it (met if in time), its
target from the policy in force, and what else decides it. A producer reads this to know
which event it must send, and when, for a rule to be measured at all.

The targets are read from the policy (``domain.policy``), never restated; the events are
checked against the registry and the rules against the domain's clock code by
tests/unit/test_catalog.py, so a renamed event or a dropped rule fails there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.funnel import STAGE_OF_TOPIC
from domain.policy import Policy


def span(delta: timedelta) -> str:
    """``30 s``, ``5 min``, ``24 h``, ``48 h``, ``3 d``: the largest unit that divides it,
    days from three on (the rules say 24 h and 48 h)."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds and seconds % size == 0 and (unit != "d" or seconds >= 3 * 86_400):
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _hours(policy: Policy) -> str:
    hours = policy.phone_hours
    offset = int(hours.utc_offset.total_seconds() // 3600)
    days = "every day" if len(hours.days) == 7 else f"days {sorted(hours.days)} (0 = Monday)"
    return f"{hours.opens:%H:%M} to {hours.closes:%H:%M} UTC{offset:+d}, {days}"


@dataclass(frozen=True)
class ClockNeed:
    rule: str
    starts: str
    """The event (and condition) that starts the clock; `type` names in backquotes."""
    stops: str
    """The event that stops it: in time, met; late, breached."""
    target: Callable[[Policy], str]
    notes: str = ""
    events: tuple[str, ...] = ()
    """Every event type named above (checked against the registry)."""


CLOCK_NEEDS: tuple[ClockNeed, ...] = (
    ClockNeed(
        "R-RESP-01",
        "the customer's first message on an instant-messaging contact (app, mini_program,"
        " web): `contact.opened` with `first_message_id`, else the first `contact.message`",
        "`contact.replied` by an agent (a bot's answer cancels it; R-RESP-02 takes over)",
        lambda p: span(p.im_first_reply),
        events=("contact.opened", "contact.message", "contact.replied"),
    ),
    ClockNeed(
        "R-RESP-02",
        "`contact.handoff_requested` (the customer asks for a person)",
        "`contact.handed_off`",
        lambda p: span(p.bot_handoff),
        events=("contact.handoff_requested", "contact.handed_off"),
    ),
    ClockNeed(
        "R-RESP-03",
        "`contact.opened` on the phone (the ring), inside the working hours",
        "`contact.replied` by an agent (a voice menu does not count)",
        lambda p: f"{span(p.phone_answer)}; working hours {_hours(p)}",
        "Outside the working hours the call goes to the voice menu or voicemail: no clock"
        " starts, so it is never a breach.",
        events=("contact.opened", "contact.replied"),
    ),
    ClockNeed(
        "R-RESP-04",
        "`contact.opened` in a store (the store device records the visitor)",
        "`contact.replied` by an agent (a kiosk's greeting does not count)",
        lambda p: span(p.store_greeting),
        events=("contact.opened", "contact.replied"),
    ),
    ClockNeed(
        "R-RESP-05",
        "`contact.reply_promised`",
        "`contact.replied`",
        lambda p: f"the promised time, at most {span(p.promised_reply_max)}",
        events=("contact.reply_promised", "contact.replied"),
    ),
    ClockNeed(
        "R-PRI-02",
        "`contact.opened` that opens a case (again at `case.priority_set` before any answer)",
        "the first `contact.replied` by a person on any contact of the case",
        lambda p: ", ".join(f"{k} {span(v)}" for k, v in p.response_by_priority.items()),
        events=("contact.opened", "case.priority_set", "contact.replied"),
    ),
    ClockNeed(
        "R-PRI-03",
        "`contact.opened` with topic `after_sales`",
        "the first `contact.replied` by a person",
        lambda p: (
            f"quality or damaged {span(p.after_sales_quality)}, else {span(p.after_sales_general)}"
        ),
        events=("contact.opened", "contact.replied"),
    ),
    ClockNeed(
        "R-CMP-02",
        "`case.owner_assigned` on an open case (a reassignment replaces the clock; one on a"
        " resolved case starts none)",
        "`case.resolved`",
        lambda p: "the assignment's own `due_at`",
        events=("case.owner_assigned", "case.resolved"),
    ),
    ClockNeed(
        "R-CMP-03",
        "`contact.opened` of a complaint, urgent or major case; again at each"
        " `case.progress_update_sent` and `case.reopened`",
        "`case.progress_update_sent` (or `case.resolved`)",
        lambda p: f"{span(p.progress_update)}, urgent {span(p.progress_update_urgent)}",
        events=("contact.opened", "case.progress_update_sent", "case.reopened", "case.resolved"),
    ),
    ClockNeed(
        "R-CMP-05 (supervisor)",
        "`contact.opened` with `major`",
        "`case.escalated` to level 2 or more",
        lambda p: span(p.supervisor_takeover),
        events=("contact.opened", "case.escalated"),
    ),
    ClockNeed(
        "R-CMP-05 (solution)",
        "`contact.opened` with `major`",
        "`case.options_offered`: the *solution* is the options put to the customer (or"
        " `case.resolved`, whichever comes first)",
        lambda p: span(p.major_solution),
        "A major complaint with a `product_batch` is resolved only after"
        " `case.recall_linked`: `case.resolved` before it is refused (R-CMP-05).",
        events=("contact.opened", "case.options_offered", "case.resolved", "case.recall_linked"),
    ),
    ClockNeed(
        "R-SAT-01",
        "`case.resolved`",
        "`survey.sent` for the case",
        lambda p: span(p.survey_after_resolution),
        events=("case.resolved", "survey.sent"),
    ),
    ClockNeed(
        "R-SAT-02",
        "`survey.answered` with a score at or under the threshold, or dissatisfied",
        "`survey.followed_up`",
        lambda p: f"{span(p.low_score_contact)} (threshold {p.low_score_threshold})",
        events=("survey.answered", "survey.followed_up"),
    ),
    ClockNeed(
        "R-SAT-04",
        "`callback.scheduled` (after a delivery: from the delivery)",
        "`callback.completed` (`callback.missed` cancels it)",
        lambda p: f"after a delivery {span(p.callback_after_delivery)}, else its `due_at`",
        events=("callback.scheduled", "callback.completed", "callback.missed"),
    ),
    ClockNeed(
        "R-ORD-01",
        "`order.modified`",
        "`order.synced` of that modification",
        lambda p: span(p.order_sync),
        events=("order.modified", "order.synced"),
    ),
    ClockNeed(
        "R-ORD-02",
        "`order.out_of_stock`",
        "`order.customer_notified` for that item",
        lambda p: span(p.out_of_stock_notice),
        events=("order.out_of_stock", "order.customer_notified"),
    ),
    ClockNeed(
        "R-ORD-04",
        "`order.placed` (its promised delivery); again at each `order.delay_announced`",
        "`order.delivered`",
        lambda p: "the promised delivery time",
        events=("order.placed", "order.delay_announced", "order.delivered"),
    ),
    ClockNeed(
        "R-REF-02",
        "`return.requested` online (review); `return.approved` (completion)",
        "`return.approved` or `return.rejected` (review); `refund.refunded` or"
        " `return.exchanged` (completion)",
        lambda p: f"review {span(p.return_review)}, completion {span(p.refund_completion)}",
        events=(
            "return.requested",
            "return.approved",
            "return.rejected",
            "refund.refunded",
            "return.exchanged",
        ),
    ),
    ClockNeed(
        "R-REF-03",
        "`return.requested` in a store with a receipt",
        "`return.approved` or `return.rejected`",
        lambda p: span(p.store_inspection),
        events=("return.requested", "return.approved", "return.rejected"),
    ),
    ClockNeed(
        "R-REF-05",
        "`return.requested` for a marketplace merchant's item",
        "`merchant.responded`",
        lambda p: span(p.merchant_response),
        events=("return.requested", "merchant.responded"),
    ),
)


def render_clock_needs(policy: Policy) -> list[str]:
    """The catalogue's section, with the targets of ``policy``."""
    lines = [
        "## What the SLA clocks need",
        "",
        f"Targets of policy `{policy.version}`. A clock is judged on event time"
        f" (`occurred_at`); one nothing stops is breached once the event-time watermark is"
        f" past its due time + the policy's allowed lateness ({span(policy.allowed_lateness)};"
        ' docs/rules.md, "The clock timer"). Send the stopping event, even late: a late'
        " one settles the outcome by its own time.",
        "",
        "| rule | starts at | stops at (met if in time) | target | also |",
        "|---|---|---|---|---|",
    ]
    for need in CLOCK_NEEDS:
        lines.append(
            f"| {need.rule} | {need.starts} | {need.stops} | {need.target(policy)} | {need.notes} |"
        )
    lines += [
        "",
        "## How a contact's journey stage is decided (R-KPI-08)",
        "",
        "A contact counts in the funnel at the stage its channel states in `contact.opened`"
        " (`funnel_stage`), else by its case's `topic` (the case it opened or joined):",
        "",
        "| topic | stage |",
        "|---|---|",
        *(f"| `{topic}` | {stage} |" for topic, stage in STAGE_OF_TOPIC.items()),
        "",
        "A pre-sale contact converts when its customer places an order within the conversion"
        " window after it.",
    ]
    return [*lines, ""]

"""The KPIs declared once (R-KPI-01..08): for each, its numerator, its denominator, what
it leaves out and why, and its target from the policy (``domain.policy``) with the
direction it must be met in. The API's OpenAPI text, each answer's ``targets``, the
explain route's list of metric names and docs/kpis.md (``markdown``; a test compares)
all read this module.

The metric names ``/v1/kpis/explain`` knows are the counts (``COUNTS``) and the families
of labelled counts (``FAMILIES``: a prefix and a label).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from domain.funnel import STAGES
from domain.policy import BASELINE, Policy
from projections.kpis import metrics as m

Direction = Literal["at_least", "at_most"]


@dataclass(frozen=True)
class Kpi:
    name: str
    """Its field in a row of ``/v1/kpis``."""
    rule: str
    title: str
    numerator: str
    denominator: str
    excludes: str
    """What is left out, and why."""
    target: str | None = None
    """The ``Policy`` attribute holding the target, if the rules set one."""
    direction: Direction | None = None

    def target_of(self, policy: Policy) -> float | None:
        return float(getattr(policy, self.target)) if self.target else None


KPIS: tuple[Kpi, ...] = (
    Kpi(
        "response_rate",
        "R-KPI-01",
        "Response rate",
        "`responses_in_target`: first responses whose clock's outcome in force is met",
        "`responses`: first responses decided (met, breached, or settled by a late fact), "
        "dated by the day their clock started",
        "Contacts with no first-response clock: email, social, marketplace, phone outside "
        "working hours (R-RESP-03: voice menu, not a breach), a chat the customer never "
        "wrote in (R-RESP-01 counts from the first message); a clock called off (a bot's "
        "answer, then R-RESP-02's hand-off is the response). The case-level targets "
        "R-PRI-02/03 (hours, by priority or after-sales kind) are not a conversation's "
        "first answer: they are counted as breaches only.",
        "response_rate_min",
        "at_least",
    ),
    Kpi(
        "fcr_rate",
        "R-KPI-02",
        "First-contact resolution",
        "`fcr`: cases whose first resolution came while they had one contact, never "
        "reopened and joined by no further contact since",
        "`resolved`: cases resolved for the first time, on the day of that resolution",
        "Cases not resolved yet. A reopening or a further contact takes the case out of "
        "the numerator (it stays in the denominator): it was not resolved at first contact.",
        "fcr_rate_min",
        "at_least",
    ),
    Kpi(
        "return_rate",
        "R-KPI-03",
        "Return rate",
        "`returned_orders`: orders with an approved return, on the day of the first approval",
        "`deliveries`: orders delivered, on the delivery day",
        "Return requests not approved (rejected or pending), and a second approval of the "
        "same order: an order counts once. Numerator and denominator are both of the "
        "period, so an order delivered before it and returned in it counts in the numerator.",
        "return_rate_max",
        "at_most",
    ),
    Kpi(
        "nps",
        "R-KPI-04",
        "Net promoter score",
        "`nps_promoters` (9-10) minus `nps_detractors` (0-6), times 100",
        "`nps_answers`: survey answers with an NPS score, on the day answered",
        "Answers without an NPS score.",
    ),
    Kpi(
        "csat",
        "R-KPI-04",
        "Customer satisfaction",
        "the sum of the overall scores (1-5) of `csat`",
        "`csat`: survey answers of the period, on the day answered",
        "Surveys sent and not answered.",
    ),
    Kpi(
        "mean_handling_s",
        "R-KPI-05",
        "Mean handling time (s)",
        "the sum of the times from a case's opening to its latest resolution (`handling`)",
        "`handled`: cases resolved, on the day of their latest resolution",
        "Cases not resolved. A resolution after a reopening replaces the earlier one.",
    ),
    Kpi(
        "complaint_rate",
        "R-KPI-06",
        "Complaint rate",
        "`complaint_cases`: cases classified complaint, on the day opened",
        "`contacts`: contacts, on the day opened",
        "Contacts whose case is not known yet (counted once it is).",
    ),
    Kpi(
        "conversion_rate",
        "R-KPI-08",
        "Consultation conversion",
        "`converted`: pre-sale contacts followed by an order of the same customer at most "
        "7 days later, dated by the contact's day",
        "`stage:pre_sale`: pre-sale contacts",
        "In-sale and after-sale contacts.",
    ),
    Kpi(
        "after_sales_resolution_rate",
        "R-KPI-08",
        "After-sales resolution rate",
        "`after_sales_resolved`: after-sales cases resolved, dated by the case's opening",
        "`after_sales_cases`: after-sales cases opened (a cohort)",
        "Cases on other topics.",
    ),
)
BY_NAME: Mapping[str, Kpi] = {kpi.name: kpi for kpi in KPIS}

COUNTS: Mapping[str, str] = {
    m.CONTACTS: "contacts, on the day opened (once their case is known)",
    m.CASES: "cases opened",
    m.COMPLAINT_CASES: "cases classified complaint, opened",
    m.REPEAT_COMPLAINTS: "complaint cases of a customer with another on the same topic within "
    "30 days before (R-CMP-07)",
    m.REOPENED: "cases reopened (first reopening)",
    m.RESOLVED: "cases resolved for the first time",
    m.FCR: "cases resolved in their first contact, never reopened",
    m.HANDLING: "cases resolved, valued by their handling time (microseconds)",
    m.AFTER_SALES_CASES: "after-sales cases opened",
    m.AFTER_SALES_RESOLVED: "after-sales cases resolved, on their opening day",
    m.RESPONSES: "first responses decided, on the day their clock started",
    m.RESPONSES_IN_TARGET: "first responses met",
    m.ORDERS: "orders placed",
    m.CONVERTED: "pre-sale contacts converted to an order within 7 days",
    m.DELIVERIES: "orders delivered",
    m.RETURNED_ORDERS: "orders with an approved return",
    m.CSAT: "survey answers, valued by their overall score",
    m.NPS_ANSWERS: "survey answers with an NPS score",
    m.NPS_PROMOTERS: "NPS 9-10",
    m.NPS_DETRACTORS: "NPS 0-6",
}
FAMILIES: Mapping[str, str] = {
    m.TYPE: "contacts of a classification, e.g. `type:complaint`",
    m.ISSUE: "contacts of an issue (topic, or topic/after-sales kind), e.g. `issue:order`",
    m.STAGE: f"contacts of a journey stage: {', '.join(f'`stage:{s}`' for s in STAGES)}",
    m.BREACHES: "breaches of a rule, on the day the clock started, e.g. `breaches:R-RESP-01`",
    m.DETECTED: "breaches of a rule by how they were detected, `fact` (a fact of the journey "
    "came late or ended the clock unmet) or `watermark` (event time passed the due time "
    "plus the allowed lateness with nothing stopping the clock), e.g. "
    "`detected:R-RESP-01/watermark`",
}


def known(metric: str) -> bool:
    if metric in COUNTS:
        return True
    prefix, colon, label = metric.partition(":")
    if not (colon and label and prefix + colon in FAMILIES):
        return False
    if prefix + colon == m.STAGE:
        return label in STAGES
    if prefix + colon == m.DETECTED:
        return label.rpartition("/")[2] in m.DETECTIONS and "/" in label
    return True


def metric_names() -> list[str]:
    """The names ``explain`` knows: each count, and each family as ``prefix<label>``."""
    return [*COUNTS, *(f"{prefix}<label>" for prefix in FAMILIES)]


def targets(figures: Mapping[str, Any], policy: Policy) -> dict[str, dict[str, Any]]:
    """Each KPI with a target: its value in ``figures``, the target, and whether it is met
    (``None`` when there is nothing to divide by)."""
    found = {}
    for kpi in KPIS:
        target = kpi.target_of(policy)
        if target is None or kpi.direction is None:
            continue
        value = figures.get(kpi.name)
        met = None
        if value is not None:
            met = value >= target if kpi.direction == "at_least" else value <= target
        found[kpi.name] = {
            "rule": kpi.rule,
            "value": value,
            "target": target,
            "direction": kpi.direction,
            "met": met,
        }
    return found


def _target_text(kpi: Kpi, policy: Policy) -> str:
    target = kpi.target_of(policy)
    if target is None:
        return "—"
    sign = "≥" if kpi.direction == "at_least" else "≤"
    return f"{sign} {target:.0%} (`Policy.{kpi.target}`)"


def openapi_text(policy: Policy = BASELINE) -> str:
    """The definitions as a Markdown list, for the OpenAPI description of ``/v1/kpis``."""
    return "\n".join(
        f"- **{kpi.name}** ({kpi.rule}, target {_target_text(kpi, policy)}): "
        f"{kpi.numerator} / {kpi.denominator}. Excluded: {kpi.excludes}"
        for kpi in KPIS
    )


def markdown(policy: Policy = BASELINE) -> str:
    """docs/kpis.md."""
    lines = [
        "# KPI definitions",
        "",
        "Generated from `projections/kpis/definitions.py` (`KPIS`, `COUNTS`, `FAMILIES`);",
        "`tests/unit/test_kpi_definitions.py` fails while this page differs. Regenerate:",
        "`PYTHONPATH=. python -c 'from projections.kpis.definitions import markdown;"
        ' print(markdown(), end="")\' > docs/kpis.md`.',
        "",
        f"Targets are those of policy {policy.version} (`domain/policy.py`); an answer of",
        "`/v1/kpis` judges each row against the policy in force at the end of its period",
        "and names it (`policy_version`).",
        "",
        "## Time",
        "",
        "Every fact is dated by an instant of event time (see each count for which). Days,",
        "ISO weeks (`2026-W10`) and months (`2026-03`) are those of the report time zone",
        "(`JOURNEY_REPORT_TZ`, default `Asia/Shanghai`) or of the request's `tz` (an IANA",
        "name); `start`, `end` and `day` are dates in that zone, and every time in an",
        "answer carries that zone's offset. Leave `start` or `end` out for all time.",
        "",
        "The facts keep their instant (`kpi_facts.at`) and the counters their UTC hour, so",
        "a figure in any zone is a sum of stored rows and changing the zone needs no",
        "rebuild. Zones at whole-hour offsets read the hourly counters; others (such as",
        "Asia/Kolkata, +05:30) sum the facts. A store filled before this layout (days,",
        "not instants) must be dropped and refilled: `journey rebuild kpi_counters`.",
        "",
        "## Source attributes",
        "",
        "`attribute=name:value` (repeatable: every one) counts only the facts whose",
        "subject — the case, contact, order, survey or clock's aggregate a fact is about —",
        'holds that source attribute (docs/events.md, "Source attributes"; the latest value',
        "of each name in event time, kept in `kpi_attributes`); `group_by=attribute.<name>`",
        "gives one row per value (in the row's `attributes`; `null`: the subject has none),",
        "e.g. the CFPB's response rate per `submitted_via`:",
        "`/v1/kpis?group_by=attribute.submitted_via`. Both sum the facts, so they are exact",
        "in any zone; the groups of one name add up to the ungrouped figures.",
        "",
        "Every KPI route takes the same `attribute` filter, with the same meaning and the",
        "same 422 problem naming `attribute` for a name not declared or a value not given",
        "as `name:value`, and its answer names it (`attributes`):",
        "",
        "- `/v1/kpis/explain`: the events behind a count, exactly those `/v1/kpis` counts",
        "  under the same filter (`count` is the figure);",
        "- `/v1/kpis/funnel` (R-KPI-08): the stages, conversion and after-sales resolution",
        "  of the matching facts;",
        "- `/v1/anomalies` (R-KPI-06): each store's or agent group's complaint rate over the",
        "  matching contacts and cases, against its peers' over the same (the complaint",
        "  rate of the CFPB's postal complaints by store: `attribute=submitted_via:Postal mail`);",
        "- `/v1/qa-sample` (R-KPI-07): 10 % of the matching contacts of each agent group.",
        "",
        "## KPIs",
        "",
    ]
    for kpi in KPIS:
        lines += [
            f"### `{kpi.name}`: {kpi.title} ({kpi.rule})",
            "",
            f"- numerator: {kpi.numerator}",
            f"- denominator: {kpi.denominator}",
            f"- excluded: {kpi.excludes}",
            f"- target: {_target_text(kpi, policy)}",
            "",
        ]
    lines += ["## Counts (`/v1/kpis/explain?metric=`)", "", "| metric | counts |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in COUNTS.items()]
    lines += ["", "Families (a prefix and a label):", "", "| prefix | counts |", "|---|---|"]
    lines += [f"| `{prefix}` | {text} |" for prefix, text in FAMILIES.items()]
    return "\n".join(lines) + "\n"

"""What the KPI counters count, and the figures derived from the counts (R-KPI-01..08).

Every count is a number of *facts* (``kpi_facts``): one row per thing counted,
naming the event it is made of. A metric is a name; a metric with a prefix (``type:``,
``issue:``, ``stage:``, ``breaches:``) is a family, one metric per label.

Choices made here (the rules leave them open):

- **Response rate (R-KPI-01)** counts *responses*: the first-response clocks of a
  conversation, R-RESP-01 (instant messaging, 30 s), R-RESP-03 (phone in working hours,
  15 s), R-RESP-04 (store greeting, 30 s) and R-RESP-02 (a person takes over within 10 s
  after the customer asked a bot for one; it replaces R-RESP-01, which a bot's first
  answer calls off). A response is counted when its clock is decided (met, breached, or
  settled by a late fact) and is *in target* when the outcome in force is met; a clock
  called off later un-counts it. The case-level targets R-PRI-02/03 (hours, by priority or
  after-sales kind) are not conversations' first answers: they are counted as breaches
  only. Contacts on channels without a first-response clock (email, social, marketplace,
  phone outside working hours) are not in the rate, nor is a chat the customer never wrote
  in (R-RESP-01 counts from the customer's first message). Responses are dated by the day
  their clock started (the customer's first message, the request for a person, the ring,
  the visit: docs/rules.md), so they sit beside the contacts they answer.
- **Breaches by rule**: one per deadline whose outcome in force is a breach, dated like
  responses (the day the clock started); a breach later settled within target, or called
  off, is un-counted.
- **First-contact resolution (R-KPI-02)**: a case whose first resolution came while it had
  one contact. A later reopening, or a further contact joining the case, un-counts it (the
  fact is deleted from the day of the resolution). ``fcr_rate`` = fcr / resolved cases
  (first resolutions).
- **Return rate (R-KPI-03)**: orders with an approved return (the first approval, on its
  day) / orders delivered (on the delivery day), over the same period.
- **CSAT and NPS (R-KPI-04)**: CSAT is the mean overall score (1-5) of the survey answers
  of the period; NPS = 100 * (promoters 9-10 - detractors 0-6) / answers with an NPS.
- **Handling time (R-KPI-05)**: case opened → its latest resolution; a resolution after a
  reopening replaces the case's earlier one (the fact moves to the new day). Microseconds.
- **Complaints (R-KPI-06, R-CMP-07)**: cases classified ``complaint``. A repeat complaint
  is a complaint case of a customer who opened another complaint case on the same topic
  within the policy's window (``Policy.repeat_complaint_window``) before it.
- **Funnel (R-KPI-08)**: a contact's stage comes from its case's topic — product,
  membership, other: pre-sale; order, logistics: in-sale; after_sales: after-sale. A
  pre-sale contact is *converted* when the same customer placed an order at or after the
  contact and at most 7 days later (event time, both ends inclusive); it is dated by the
  contact's day so that the conversion rate of a period stays within 0..1. After-sales
  resolution rate = after-sales cases resolved / after-sales cases opened, both dated by
  the case's opening day (a cohort).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from domain.funnel import PRE_SALE, STAGES
from domain.policy import BASELINE

CONTACTS = "contacts"
TYPE = "type:"  # + classification (R-PRI-01)
ISSUE = "issue:"  # + topic, or topic/after_sales_kind
STAGE = "stage:"  # + pre_sale | in_sale | after_sale (R-KPI-08)
CASES = "cases"
COMPLAINT_CASES = "complaint_cases"
REPEAT_COMPLAINTS = "repeat_complaints"
REOPENED = "reopened"
RESOLVED = "resolved"
FCR = "fcr"
HANDLING = "handling"
AFTER_SALES_CASES = "after_sales_cases"
AFTER_SALES_RESOLVED = "after_sales_resolved"
RESPONSES = "responses"
RESPONSES_IN_TARGET = "responses_in_target"
BREACHES = "breaches:"  # + rule id
DETECTED = "detected:"  # + rule id/fact | rule id/watermark: a breach by how it was detected
ORDERS = "orders"
CONVERTED = "converted"
DELIVERIES = "deliveries"
RETURNED_ORDERS = "returned_orders"
CSAT = "csat"  # value: the overall score
NPS_ANSWERS = "nps_answers"
NPS_PROMOTERS = "nps_promoters"
NPS_DETRACTORS = "nps_detractors"

LABELS = ((TYPE, "classification"), (ISSUE, "issue"), (STAGE, "stage"))
"""A contact's fact also counts toward ``type:<classification>``, ``issue:<issue>`` and
``stage:<stage>`` (its columns of those names): one row, four counts."""
DETECTIONS = ("fact", "watermark")
"""How a breach was detected: by a fact of the journey (the stopping fact came late, or a
fact ended the clock unmet) or by the event-time watermark passing its due time plus the
allowed lateness (nothing stopped it). A breach's fact also counts toward
``detected:<rule>/<how>`` (its ``detected_by`` column)."""


def labels_of(row: Mapping[str, Any]) -> list[str]:
    """The label metrics a fact counts toward besides its own (``LABELS``, ``DETECTED``)."""
    found = [prefix + row[column] for prefix, column in LABELS if row[column]]
    if row["detected_by"]:
        found.append(f"{DETECTED}{row['metric'][len(BREACHES) :]}/{row['detected_by']}")
    return found


RESPONSE_RULES = frozenset({"R-RESP-01", "R-RESP-02", "R-RESP-03", "R-RESP-04"})
"""The first-response clocks behind the response rate (R-KPI-01)."""
COMPLAINT = "complaint"
"""The classification whose cases make the complaint rate (R-KPI-06) and repeats (R-CMP-07)."""
AFTER_SALES = "after_sales"
CONVERSION_WINDOW = timedelta(days=7)  # R-KPI-08
REPEAT_WINDOW = BASELINE.repeat_complaint_window
"""R-CMP-07: the policy's window for repeat complaints (one window whatever policy version
each case recorded)."""
PROMOTER_MIN = 9  # R-KPI-04
DETRACTOR_MAX = 6  # R-KPI-04
TOP_ISSUES = 5  # R-KPI-05
MICROS = 1_000_000


def issue_of(topic: str, after_sales_kind: str | None) -> str:
    """R-KPI-05: an issue is the topic, refined by the after-sales kind when there is one."""
    return topic if after_sales_kind is None else f"{topic}/{after_sales_kind}"


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _families(counts: Mapping[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
    """prefix → label → count, for the metric families (one pass over the counts)."""
    found: dict[str, dict[str, int]] = {ISSUE: {}, BREACHES: {}, TYPE: {}, DETECTED: {}}
    for metric, (n, _) in counts.items():
        if n and ":" in metric:
            prefix, label = metric.split(":", 1)
            family = found.get(prefix + ":")
            if family is not None:
                family[label] = n
    return {prefix: dict(sorted(family.items())) for prefix, family in found.items()}


def figures(counts: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    """The counts of one group of one period (metric → (count, sum of values)) and the
    rates derived from them (R-KPI-01..05, R-KPI-08). A rate with nothing to divide by is
    ``None``."""

    def n(metric: str) -> int:
        return counts.get(metric, (0, 0))[0]

    def total(metric: str) -> int:
        return counts.get(metric, (0, 0))[1]

    families = _families(counts)
    breaches = families[BREACHES]
    promoters, detractors, answers = n(NPS_PROMOTERS), n(NPS_DETRACTORS), n(NPS_ANSWERS)
    return {
        "contacts": n(CONTACTS),
        "responses": n(RESPONSES),
        "responses_in_target": n(RESPONSES_IN_TARGET),
        "response_rate": rate(n(RESPONSES_IN_TARGET), n(RESPONSES)),
        "cases": n(CASES),
        "complaint_cases": n(COMPLAINT_CASES),
        "complaint_rate": rate(n(COMPLAINT_CASES), n(CONTACTS)),
        "repeat_complaints": n(REPEAT_COMPLAINTS),
        "reopened": n(REOPENED),
        "resolved": n(RESOLVED),
        "fcr": n(FCR),
        "fcr_rate": rate(n(FCR), n(RESOLVED)),
        "orders": n(ORDERS),
        "deliveries": n(DELIVERIES),
        "returned_orders": n(RETURNED_ORDERS),
        "return_rate": rate(n(RETURNED_ORDERS), n(DELIVERIES)),
        "csat_answers": n(CSAT),
        "csat": total(CSAT) / n(CSAT) if n(CSAT) else None,
        "nps_answers": answers,
        "nps_promoters": promoters,
        "nps_detractors": detractors,
        "nps": 100 * (promoters - detractors) / answers if answers else None,
        "handled": n(HANDLING),
        "handling_s_total": total(HANDLING) / MICROS,
        "mean_handling_s": total(HANDLING) / n(HANDLING) / MICROS if n(HANDLING) else None,
        "breaches": breaches,
        "breaches_total": sum(breaches.values()),
        "breaches_by_detection": by_detection(families[DETECTED]),
        "volume_by_classification": families[TYPE],
        "stages": {stage: n(STAGE + stage) for stage in STAGES},
        "top5_issues": top_issues(families[ISSUE]),
        "converted": n(CONVERTED),
        "conversion_rate": rate(n(CONVERTED), n(STAGE + PRE_SALE)),
        "after_sales_cases": n(AFTER_SALES_CASES),
        "after_sales_resolved": n(AFTER_SALES_RESOLVED),
        "after_sales_resolution_rate": rate(n(AFTER_SALES_RESOLVED), n(AFTER_SALES_CASES)),
    }


def by_detection(detected: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """rule → how detected (``DETECTIONS``) → breaches, from ``detected:<rule>/<how>``."""
    found: dict[str, dict[str, int]] = {}
    for label, count in detected.items():
        rule, how = label.rsplit("/", 1)
        found.setdefault(rule, dict.fromkeys(DETECTIONS, 0))[how] = count
    return found


def top_issues(issues: Mapping[str, int], limit: int = TOP_ISSUES) -> list[dict[str, Any]]:
    """R-KPI-05: the most frequent issues (by contacts), ties by name."""
    ranked = sorted(issues.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"issue": issue, "contacts": count} for issue, count in ranked]


def funnel(counts: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    """R-KPI-08: contacts by stage, consultation conversion, after-sales resolution."""
    found = figures(counts)
    return {
        "stages": found["stages"],
        "contacts": found["contacts"],
        "pre_sale_contacts": found["stages"][PRE_SALE],
        "converted": found["converted"],
        "conversion_rate": found["conversion_rate"],
        "after_sales_cases": found["after_sales_cases"],
        "after_sales_resolved": found["after_sales_resolved"],
        "after_sales_resolution_rate": found["after_sales_resolution_rate"],
    }


def sample_size(population: int, share: float) -> int:
    """R-KPI-07: at least ``share`` of the population (rounded up)."""
    return math.ceil(population * share - 1e-9)

"""Response schemas of the analysts' KPI routes (``api.routes.kpis``): typed, so the
OpenAPI document says what each figure is. The definitions of the KPIs are
``projections.kpis.definitions``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ScopedOut(BaseModel):
    """What every KPI answer says it was asked in (``api.kpi_scope``)."""

    tz: str
    """The zone of its days and times."""
    attributes: dict[str, str] | None = None
    """The source attributes filtered on (``attribute``), only when given: every fact
    counted, listed or sampled is of a subject holding them."""


class TargetOut(BaseModel):
    rule: str
    value: float | None
    """The KPI's value in this row; ``None`` when there is nothing to divide by."""
    target: float
    """From the policy in force at the end of the period (``policy_version``)."""
    direction: Literal["at_least", "at_most"]
    met: bool | None
    """Whether ``value`` is on the right side of ``target`` (the bound included)."""


class IssueOut(BaseModel):
    issue: str
    contacts: int


class KpiRowOut(BaseModel):
    """One group of one period. The group's keys appear only when grouped by them."""

    day: str | None = None
    """A date in the zone (``2026-03-08``)."""
    week: str | None = None
    """An ISO week in the zone (``2026-W10``)."""
    month: str | None = None
    """A month in the zone (``2026-03``)."""
    channel: str | None = None
    store: str | None = None
    agent_group: str | None = None
    attributes: dict[str, str | None] | None = None
    """The group's value of each source attribute grouped by (``null``: none)."""
    contacts: int
    responses: int
    responses_in_target: int
    response_rate: float | None
    cases: int
    complaint_cases: int
    complaint_rate: float | None
    repeat_complaints: int
    reopened: int
    resolved: int
    fcr: int
    fcr_rate: float | None
    orders: int
    deliveries: int
    returned_orders: int
    return_rate: float | None
    csat_answers: int
    csat: float | None
    nps_answers: int
    nps_promoters: int
    nps_detractors: int
    nps: float | None
    handled: int
    handling_s_total: float
    mean_handling_s: float | None
    breaches: dict[str, int]
    """Rule → breaches (outcome in force), dated by the day the clock started."""
    breaches_total: int
    breaches_by_detection: dict[str, dict[Literal["fact", "watermark"], int]]
    """Rule → how each breach was detected → breaches: by a ``fact`` of the journey, or
    by the event-time ``watermark``."""
    volume_by_classification: dict[str, int]
    stages: dict[str, int]
    top5_issues: list[IssueOut]
    converted: int
    conversion_rate: float | None
    after_sales_cases: int
    after_sales_resolved: int
    after_sales_resolution_rate: float | None
    targets: dict[str, TargetOut]
    """Each KPI with a target (R-KPI-01..03), judged."""


class KpisOut(ScopedOut):
    start: str | None
    """The first day of the period, in ``tz`` (``None``: since the first fact)."""
    end: str | None
    """The last day, inclusive (``None``: until the last fact)."""
    group_by: list[str]
    policy_version: str
    """The policy whose targets judge the rows: the one in force at the period's end."""
    rows: list[KpiRowOut]


class FactOut(BaseModel):
    notification_id: int
    aggregate_id: str
    version: int
    type: str
    occurred_at: str | None
    """The event's time, with the offset of ``tz``."""
    event_id: str | None
    subject_id: str
    ref: str
    subkey: str
    value: int
    metric: str
    day: str
    dated_at: str
    """The instant the fact is dated by (the start of a clock, the contact's opening...),
    with the offset of ``tz``."""
    detected_by: Literal["fact", "watermark"] | None
    channel: str | None
    store: str | None
    agent_group: str | None


class KpiExplainOut(ScopedOut):
    metric: str
    day: str
    channel: str | None = None
    store: str | None = None
    agent_group: str | None = None
    count: int
    events: list[FactOut]
    next_cursor: str | None
    """The ``cursor`` of the next page (a notification id), None on the last page."""


class FunnelOut(ScopedOut):
    start: str
    end: str
    stages: dict[str, int]
    contacts: int
    pre_sale_contacts: int
    converted: int
    conversion_rate: float | None
    after_sales_cases: int
    after_sales_resolved: int
    after_sales_resolution_rate: float | None


class RateOut(BaseModel):
    day: str
    complaint_rate: float
    peer_mean: float
    complaint_cases: int
    contacts: int
    peers: int


class AnomalyOut(BaseModel):
    rule: str
    dimension: str
    value: str
    days: list[str]
    flagged_days: list[str]
    rates: list[RateOut]


class AnomaliesOut(ScopedOut):
    start: str
    end: str
    anomalies: list[AnomalyOut]


class SampledOut(BaseModel):
    rule: str
    agent_group: str | None
    contact: str
    contact_id: str
    day: str
    channel: str | None
    store: str | None
    notification_id: int
    event_id: str | None
    occurred_at: str | None
    rank: str
    population: int


class QaSampleOut(ScopedOut):
    start: str
    end: str
    seed: int
    sample: list[SampledOut]

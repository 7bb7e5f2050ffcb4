"""The console's pages as the browser loads them: each page's data calls through the API
(the same paths and parameters ``api/console/static/js/pages/*.js`` asks for), timed per
call and per page (its calls one after another: an upper bound of the browser's, which
runs some of them at once). The goal (issue 16): every page's data calls p95 < 200 ms on
the read side benchmark's 1M-event store. ``bench.http_queries`` runs it on the same
server and store as its own queries."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random
from typing import Any

import httpx

from bench.http_load import percentile
from bench.http_publish import say
from bench.ingest import BenchError

GOAL_MS = 200.0
WARMUP = 3
DRAFT = "2027.1-draft"

Calls = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    calls: Callable[[Random], Calls]
    """The page's data calls, arguments drawn from ``Random``."""


@dataclass(frozen=True)
class PageTiming:
    name: str
    loads: int
    page_p50: float
    page_p95: float
    slowest_call: str
    slowest_call_p95: float

    @property
    def met(self) -> bool:
        return self.slowest_call_p95 < GOAL_MS


@dataclass(frozen=True)
class Sample:
    """What the pages pick from: the store's days, cases and customers."""

    first_day: str
    last_day: str
    anomaly_from: str
    cases: list[str]
    customers: list[str]


def pages(sample: Sample) -> list[Page]:
    period = {"start": sample.first_day, "end": sample.last_day}

    def overview(_: Random) -> Calls:
        return [
            ("/v1/kpis", {}),
            ("/v1/kpis", {"group_by": "day"}),
            ("/v1/kpis", {"group_by": "channel"}),
            ("/v1/kpis", {"group_by": "store"}),
            ("/v1/kpis", {"group_by": "agent_group"}),
            ("/v1/kpis/funnel", period),
            ("/v1/anomalies", {"start": sample.anomaly_from, "end": sample.last_day}),
            ("/v1/kpis/explain", {"metric": "responses_in_target", "day": sample.last_day}),
        ]

    def case(rng: Random) -> Calls:
        ref = rng.choice(sample.cases)
        return [
            (f"/v1/cases/{ref}", {}),
            (f"/v1/cases/{ref}/history", {"limit": 1000}),
            ("/v1/policies", {}),
            (f"/v1/cases/{ref}/verify", {}),
            ("/v1/what-if", {"policy_version": DRAFT, "case_ref": ref}),
        ]

    return [
        Page("overview", "analyst", overview),
        Page("ledger", "analyst", lambda _: [("/v1/complaints", {"limit": 50})]),
        Page(
            "ledger, filtered",
            "analyst",
            lambda _: [("/v1/complaints", {"limit": 50, "breached": "true", "sort": "-breaches"})],
        ),
        Page("case", "auditor", case),
        Page(
            "customer 360",
            "analyst",
            lambda rng: [(f"/v1/customers/{rng.choice(sample.customers)}", {})],
        ),
        Page(
            "orders",
            "analyst",
            lambda _: [("/v1/orders", {"limit": 50}), ("/v1/returns", {"limit": 50})],
        ),
        Page("dead letters", "admin", lambda _: [("/v1/admin/deadletters", {"limit": 50})]),
        Page(
            "keys and access log",
            "admin",
            lambda _: [("/v1/admin/keys", {}), ("/v1/admin/access-log", {})],
        ),
    ]


def _get(http: httpx.Client, key: str, path: str, params: dict[str, Any]) -> Any:
    answer = http.get(path, params=params, headers={"authorization": f"Bearer {key}"})
    if answer.status_code != 200:
        raise BenchError(f"GET {path} {params}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def sample_of(
    http: httpx.Client, keys: dict[str, str], cases: list[str], customers: list[str]
) -> Sample:
    days = [r["day"] for r in _get(http, keys["analyst"], "/v1/kpis", {"group_by": "day"})["rows"]]
    if not days or not cases or not customers:
        raise BenchError("the store has no days, cases or customers to show")
    # /v1/anomalies takes at most 366 days, as the overview asks for.
    since = (date.fromisoformat(days[-1]) - timedelta(days=365)).isoformat()
    return Sample(days[0], days[-1], max(days[0], since), cases, customers)


def measure(
    url: str, keys: dict[str, str], cases: list[str], customers: list[str], loads: int, seed: int
) -> list[PageTiming]:
    """Each page loaded ``loads`` times (after ``WARMUP`` untimed), one client."""
    rng = Random(seed)  # noqa: S311 - reproducible arguments, not secrets
    out = []
    with httpx.Client(base_url=url, timeout=60.0) as http:
        for page in pages(sample_of(http, keys, cases, customers)):
            key = keys[page.role]
            totals: list[float] = []
            per_call: dict[str, list[float]] = {}
            for n in range(WARMUP + loads):
                began = time.perf_counter_ns()
                for path, params in page.calls(rng):
                    call_began = time.perf_counter_ns()
                    _get(http, key, path, params)
                    if n >= WARMUP:
                        elapsed = (time.perf_counter_ns() - call_began) / 1e6
                        per_call.setdefault(_name(path, params), []).append(elapsed)
                if n >= WARMUP:
                    totals.append((time.perf_counter_ns() - began) / 1e6)
            p95s = {name: percentile(sorted(ms), 0.95) for name, ms in per_call.items()}
            slowest = max(p95s, key=lambda name: p95s[name])
            totals.sort()
            out.append(
                PageTiming(
                    page.name,
                    loads,
                    percentile(totals, 0.5),
                    percentile(totals, 0.95),
                    slowest,
                    p95s[slowest],
                )
            )
            t = out[-1]
            say(
                f"  console {t.name}: page p95 {t.page_p95:.1f} ms,"
                f" slowest call {t.slowest_call} p95 {t.slowest_call_p95:.1f} ms"
            )
    return out


def _name(path: str, params: dict[str, Any]) -> str:
    """A call's route (its case or customer id left out, so a route's calls are timed
    together) and its grouping."""
    parts = path.split("/")
    if len(parts) > 3 and parts[2] in ("cases", "customers"):
        parts[3] = "{id}"
    grouped = f"?group_by={params['group_by']}" if "group_by" in params else ""
    return "/".join(parts) + grouped


def table(timings: Sequence[PageTiming]) -> list[str]:
    width = max(len(t.name) for t in timings)
    lines = [
        f"console pages: goal every data call p95 < {GOAL_MS:.0f} ms (one client, the page's"
        " calls one after another)",
        f"{'page':<{width}}  {'loads':>5}  {'page p50':>9} {'page p95':>9}"
        f"  {'slowest call p95':>17}  verdict",
    ]
    for t in timings:
        lines.append(
            f"{t.name:<{width}}  {t.loads:>5}  {t.page_p50:>9.1f} {t.page_p95:>9.1f}"
            f"  {t.slowest_call_p95:>17.1f}  {'met' if t.met else 'MISSED'} ({t.slowest_call})"
        )
    return lines

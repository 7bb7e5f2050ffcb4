"""Reports an analyst can trust (issue 15), through a real server, embedded and on Kafka +
PostgreSQL: weekly and monthly KPIs in two time zones equal the sums an analyst computes
from the ledger's rows (each row's ``opened_at``, in the zone asked, gives its ISO week
and month); every ledger time carries the zone's offset; an unknown query parameter is a
422 problem naming it.

The cases open on either side of the local midnights that start a week or a month in one
zone and not in the other (Asia/Shanghai is +08:00; America/New_York -05:00 or -04:00)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.journey_service import Auth
from tests.factories import contact_opened, unique

pytestmark = pytest.mark.e2e

OPENED = (
    "2026-02-14T10:00:00+08:00",
    "2026-03-01T00:30:00+08:00",  # March in Shanghai, 28 February in New York
    "2026-03-08T23:30:00+08:00",  # Sunday: W10 in both
    "2026-03-09T00:30:00+08:00",  # Monday W11 in Shanghai, Sunday W10 in New York
    "2026-03-16T12:00:00+08:00",
    "2026-03-31T23:00:00+08:00",
    "2026-04-01T07:00:00+08:00",  # April in Shanghai, 31 March in New York
    "2026-04-01T13:00:00+08:00",
    "2026-04-12T20:00:00-04:00",  # Sunday W15 in New York, Monday W16 in Shanghai
    "2026-05-31T22:00:00-04:00",  # May in New York, June in Shanghai
)
ZONES = ("Asia/Shanghai", "America/New_York")


@pytest.fixture(scope="module")
def opened(base_url: str, auth: Auth) -> str:
    """The cases published, one customer (one partition); the position of the last."""
    customer = unique("cust-")
    events = [
        contact_opened(
            customer_id=customer,
            contact_id=f"{customer}-{n}",
            occurred_at=at,
            classification="complaint" if n % 3 else "inquiry",
        )
        for n, at in enumerate(OPENED)
    ]
    answer = httpx.post(f"{base_url}/v1/events", json=events, headers=auth("channel"), timeout=30)
    assert answer.status_code == 202, answer.text
    position: str = answer.json()["accepted"][-1]["position"]
    return position


def ledger_rows(base_url: str, auth: Auth, position: str, tz: str) -> list[dict[str, Any]]:
    """Every ledger row, page after page (``next_cursor``), in zone ``tz``."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3, "tz": tz, "consistent_with": position}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(
            f"{base_url}/v1/complaints", params=params, headers=auth("analyst"), timeout=60
        )
        assert page.status_code == 200, page.text
        rows += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return rows


def period_of(opened_at: str, grain: str) -> str:
    at = datetime.fromisoformat(opened_at)
    if grain == "month":
        return f"{at.year}-{at.month:02d}"
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("grain", ["week", "month"])
def test_weekly_and_monthly_kpis_are_sums_of_the_ledgers_rows(
    base_url: str, auth: Auth, opened: str, tz: str, grain: str
) -> None:
    rows = ledger_rows(base_url, auth, opened, tz)
    assert len(rows) == len(OPENED)
    zone = ZoneInfo(tz)
    for row in rows:  # every time in the zone asked
        at = datetime.fromisoformat(row["opened_at"])
        assert at.utcoffset() == at.astimezone(zone).utcoffset(), row["opened_at"]
    cases = Counter(period_of(row["opened_at"], grain) for row in rows)
    complaints = Counter(
        period_of(row["opened_at"], grain) for row in rows if row["classification"] == "complaint"
    )

    answer = httpx.get(
        f"{base_url}/v1/kpis",
        params={"group_by": grain, "tz": tz, "consistent_with": opened},
        headers=auth("analyst"),
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["tz"] == tz
    kpi_rows = [row for row in body["rows"] if row["cases"]]
    assert {row[grain]: row["cases"] for row in kpi_rows} == dict(cases)
    assert {row[grain]: row["complaint_cases"] for row in kpi_rows if row["complaint_cases"]} == (
        dict(complaints)
    )
    assert {row[grain]: row["contacts"] for row in kpi_rows} == dict(cases)  # one contact each


def test_the_zones_disagree_where_the_midnights_do(base_url: str, auth: Auth, opened: str) -> None:
    """The fixture's times are chosen so: otherwise the test above proves little."""
    shanghai, new_york = (
        Counter(
            period_of(row["opened_at"], "month") for row in ledger_rows(base_url, auth, opened, tz)
        )
        for tz in ZONES
    )
    assert shanghai != new_york
    assert sum(shanghai.values()) == sum(new_york.values()) == len(OPENED)


@pytest.mark.parametrize(
    "path", ["/v1/kpis", "/v1/complaints", "/v1/orders", "/v1/cases/none/history"]
)
def test_an_unknown_parameter_is_a_422_problem_naming_it(
    base_url: str, auth: Auth, path: str
) -> None:
    answer = httpx.get(
        f"{base_url}{path}",
        params={"classification_typo": "complaint"},
        headers=auth("auditor"),
        timeout=30,
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 422
    assert problem["problems"] == [
        {"field": "query.classification_typo", "reason": "unknown parameter"}
    ]

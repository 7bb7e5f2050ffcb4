"""The scripted multi-channel journey (tests/e2e/journey_script.py) through a real uvicorn
on loopback, embedded and scaled: each event POSTed as a channel would, then the exact
ledger row (R-CMP-06) and KPI counts as an analyst reads them, the case's history, state
and verification and the customer 360 view (in clear) as an auditor reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.journey_script import GROUP, STORE, Journey, script
from tests.e2e.journey_service import Auth

pytestmark = pytest.mark.e2e
REPORT_ZONE = ZoneInfo("Asia/Shanghai")
"""The report zone by default (``JOURNEY_REPORT_TZ``)."""


def utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


def shown(text: str) -> str:
    """A time as every answer shows it: with the report zone's offset (issue 15)."""
    return datetime.fromisoformat(text).astimezone(REPORT_ZONE).isoformat()


def publish(base_url: str, auth: Auth, journey: Journey) -> str:
    """POST each event and wait until the read models include it before the next: the
    events go to several topics, and a return needs its order's delivery applied first."""
    position = ""
    for event in journey.events:
        answer = httpx.post(
            f"{base_url}/v1/events", json=event, headers=auth("channel"), timeout=30
        )
        assert answer.status_code == 202, answer.text
        position = answer.json()["accepted"][0]["position"]
        waited = httpx.get(
            f"{base_url}/v1/complaints",
            params={"limit": 1, "consistent_with": position},
            headers=auth("analyst"),
            timeout=60,
        )
        assert waited.status_code == 200, waited.text
    return position


@pytest.fixture(scope="module")
def published(base_url: str, auth: Auth) -> tuple[str, Journey, str]:
    journey = script()
    return base_url, journey, publish(base_url, auth, journey)


def by_type(journey: Journey, type_: str) -> list[dict[str, Any]]:
    return [e for e in journey.events if e["type"] == type_]


def test_the_ledger_row_is_exactly_what_the_journey_says(
    published: tuple[str, Journey, str], auth: Auth
) -> None:
    base_url, j, _ = published
    answer = httpx.get(f"{base_url}/v1/complaints/{j.case}", headers=auth("analyst"), timeout=30)
    assert answer.status_code == 200, answer.text
    row = answer.json()
    opened, phone = by_type(j, "contact.opened")
    message = by_type(j, "contact.message")[0]
    app_reply, phone_reply = by_type(j, "contact.replied")
    offered = by_type(j, "case.options_offered")[0]
    resolved = by_type(j, "case.resolved")[0]
    confirmed = by_type(j, "case.resolution_confirmed")[0]
    answered = by_type(j, "survey.answered")[0]
    follow_up = by_type(j, "survey.followed_up")[0]
    expected = {
        "case_ref": j.case,
        "customer_id": j.customer,
        "channel": "app",
        "channels": ["app", "phone"],
        "store_id": STORE,
        "agent_group": GROUP,
        "classification": "complaint",
        "topic": "after_sales",
        "priority": "important",
        "status": "closed",
        "demand": "a refund for a cracked kettle",
        "opened_at": shown(opened["occurred_at"]),
        "first_response_at": shown(app_reply["occurred_at"]),
        "supervisor_at": shown(by_type(j, "case.escalated")[0]["occurred_at"]),
        "supervisor_id": "sup-3",
        "solution_at": shown(offered["occurred_at"]),
        "resolved_at": shown(resolved["occurred_at"]),
        "confirmed_at": shown(confirmed["occurred_at"]),
        "closed_at": shown(confirmed["occurred_at"]),
        "owner": "ag-17",
        "acceptance_criteria": "refund received",
        "escalation_level": 2,
        "options_offered": ["replace", "refund"],
        "option_chosen": "refund",
        "solution": {"option": "refund", "summary": "refunded in full"},
        "outcome": "confirmed (sms)",
        "refund_amount": "299.00",
        "contacts": 2,
        "reopen_count": 0,
        "repeat_complaint": False,
        "policy_version": "2026.1",
        "breaches": 1,
    }
    assert {k: row[k] for k in expected} == expected
    assert row["satisfaction"]["overall"] == 2
    assert row["satisfaction"]["nps"] == 3
    # One breach: the supervisor followed the low score up after 2 h, not 1 h (R-SAT-02).
    [breach] = row["breach_list"]
    assert (breach["rule"], breach["target_s"], breach["actual_s"], breach["detected_by"]) == (
        "R-SAT-02",
        3600.0,
        7200.0,
        "fact",
    )
    assert datetime.fromisoformat(follow_up["occurred_at"]) > datetime.fromisoformat(
        breach["due_at"]
    )
    outcomes = {key: (c["rule"], c["outcome"]) for key, c in row["sla"].items()}
    assert sorted(set(outcomes.values())) == [
        ("R-CMP-02", "met"),
        ("R-CMP-03", "met"),
        ("R-PRI-02", "met"),
        ("R-PRI-03", "met"),
        ("R-REF-02", "met"),
        ("R-RESP-01", "met"),
        ("R-RESP-03", "met"),
        ("R-SAT-01", "met"),
        ("R-SAT-02", "breached"),
    ]
    communications = [(c["kind"], c["event_id"]) for c in row["communications"]]
    assert communications == [
        ("contact_opened", opened["event_id"]),
        ("customer_message", message["event_id"]),
        ("agent_reply", app_reply["event_id"]),
        ("contact_opened", phone["event_id"]),
        ("agent_reply", phone_reply["event_id"]),
        ("options_offered", offered["event_id"]),
        ("resolved", resolved["event_id"]),
        ("resolution_confirmed", confirmed["event_id"]),
        ("survey_sent", by_type(j, "survey.sent")[0]["event_id"]),
        ("survey_follow_up", follow_up["event_id"]),
    ]
    # Explain: the row's events, read back from the event store.
    explained = httpx.get(
        f"{base_url}/v1/complaints/{j.case}/explain", headers=auth("analyst"), timeout=30
    ).json()
    assert explained["count"] == len(explained["events"]) > 0
    sources = {e["event_id"] for e in explained["events"]} - {None}
    assert {answered["event_id"], follow_up["event_id"], opened["event_id"]} <= sources
    assert by_type(j, "order.placed")[0]["event_id"] not in sources
    # Filters find it; the CSV export carries it.
    found = httpx.get(
        f"{base_url}/v1/complaints",
        params={"store": STORE, "breached": "true", "status": "closed", "limit": 500},
        headers=auth("analyst"),
        timeout=30,
    ).json()
    assert j.case in [r["case_ref"] for r in found["items"]]
    csv = httpx.get(
        f"{base_url}/v1/complaints", params={"format": "csv"}, headers=auth("analyst"), timeout=30
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert any(line.startswith(j.case + ",") for line in csv.text.splitlines())


def test_an_auditor_replays_verifies_and_rebuilds_the_case(
    published: tuple[str, Journey, str], auth: Auth
) -> None:
    base_url, j, _ = published
    history = httpx.get(
        f"{base_url}/v1/cases/{j.case}/history", headers=auth("auditor"), timeout=30
    )
    assert history.status_code == 200, history.text
    events = history.json()["events"]
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    facts = [e for e in events if e["kind"] == "fact"]
    case_sources = [
        e["event_id"]
        for e in j.events
        if e["type"].startswith("case.")
        or e["type"] == "contact.opened"
        or (e["type"] == "contact.replied" and e is by_type(j, "contact.replied")[0])
        or e["type"] == "survey.sent"
    ]
    assert [f["source"]["event_id"] for f in facts] == case_sources
    assert all(f["source"]["topic"] and f["source"]["offset"] >= 0 for f in facts)

    verified = httpx.get(
        f"{base_url}/v1/cases/{j.case}/verify", headers=auth("auditor"), timeout=30
    ).json()
    assert verified["ok"] is True
    assert verified["events_checked"] == len(events)

    first = httpx.get(
        f"{base_url}/v1/cases/{j.case}", params={"as_of": "1"}, headers=auth("auditor"), timeout=30
    ).json()
    now = httpx.get(f"{base_url}/v1/cases/{j.case}", headers=auth("auditor"), timeout=30).json()
    assert first["status"] == "open"
    assert now["status"] == "closed"
    missing = httpx.get(
        f"{base_url}/v1/cases/nope-{j.case}/history", headers=auth("auditor"), timeout=30
    )
    assert missing.status_code == 404


def test_the_customer_360_shows_the_whole_journey(
    published: tuple[str, Journey, str], auth: Auth
) -> None:
    base_url, j, _ = published
    answer = httpx.get(f"{base_url}/v1/customers/{j.customer}", headers=auth("auditor"), timeout=30)
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["profile"]["member_id"] == "m-1"
    assert view["consents"]["current"] == ["marketing", "service"]
    [order] = view["orders"]
    assert (order["order_id"], order["status"], order["amount"], order["refunded"]) == (
        j.order,
        "delivered",
        "299.00",
        "299.00",
    )
    assert order["late"] is False
    [returned] = view["returns"]
    assert (returned["return_id"], returned["status"], returned["refunded"]) == (
        j.return_id,
        "refunded",
        "299.00",
    )
    assert view["cases"]["open"] == []
    [case] = view["cases"]["past"]
    assert (case["case_ref"], case["status"], case["channels"]) == (
        j.case,
        "closed",
        ["app", "phone"],
    )
    [callback] = view["callbacks"]
    assert (callback["status"], callback["outcome"]) == ("completed", "reached")
    [survey] = view["satisfaction"]
    assert (survey["scores"]["overall"], survey["nps"]) == (2, 3)
    # R-CUS-05 at the last event time: one order 8 days ago, fully refunded.
    segments = view["segments"]
    assert (segments["lifecycle"], segments["frequency"], segments["monetary"]) == (
        "new",
        1,
        "0.00",
    )
    channels = {entry["channel"] for entry in view["timeline"]}
    assert channels == {"app", "phone"}
    missing = httpx.get(
        f"{base_url}/v1/customers/nobody-{j.customer}", headers=auth("auditor"), timeout=30
    )
    assert missing.status_code == 404


def test_the_kpi_counts_are_the_journeys_and_each_is_explained(
    published: tuple[str, Journey, str], auth: Auth
) -> None:
    base_url, j, _ = published
    period = {"start": "2026-11-01", "end": "2026-11-30"}
    answer = httpx.get(f"{base_url}/v1/kpis", params=period, headers=auth("analyst"), timeout=30)
    assert answer.status_code == 200, answer.text
    [kpis] = answer.json()["rows"]  # this service holds this journey only
    expected = {
        "contacts": 2,  # two channels, one case (R-KPI-05 volume)
        "responses_in_target": 2,  # R-KPI-01
        "response_rate": 1.0,
        "complaint_cases": 1,
        "fcr": 0,  # R-KPI-02: two contacts, so not resolved in the first
        "deliveries": 1,
        "returned_orders": 1,  # R-KPI-03
        "csat": 2.0,  # R-KPI-04
        "nps": -100.0,
        "mean_handling_s": 8 * 3600.0,
        "breaches": {"R-SAT-02": 1},
        "stages": {"pre_sale": 0, "in_sale": 0, "after_sale": 2},  # R-KPI-08
        "top5_issues": [{"issue": "after_sales/damaged", "contacts": 2}],
    }
    assert {k: kpis[k] for k in expected} == expected
    by_store = httpx.get(
        f"{base_url}/v1/kpis",
        params={**period, "group_by": "store"},
        headers=auth("analyst"),
        timeout=30,
    ).json()["rows"]
    assert [(r["store"], r["contacts"]) for r in by_store] == [(STORE, 2)]
    day = utc(by_type(j, "contact.opened")[0]["occurred_at"])[:10]
    explained = httpx.get(
        f"{base_url}/v1/kpis/explain",
        params={"metric": "contacts", "day": day, "tz": "UTC"},
        headers=auth("analyst"),
        timeout=30,
    ).json()
    assert explained["count"] == 2
    assert {e["event_id"] for e in explained["events"]} == {
        e["event_id"] for e in by_type(j, "contact.opened")
    }

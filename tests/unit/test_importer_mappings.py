"""Rows of each data set → the source events docs/data.md describes, on hand-written rows:
the renamed CFPB date columns, the source's own verdict kept beside ours, Brazilian local
time with its daylight saving time, the Olist complaint rule, a ServiceNow incident's
reopening and closing; and the domain accepts each journey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from application.service import JourneyApplication
from contracts.envelope import validate
from contracts.schemas import EVENT_TYPES
from tests.unit.feeding import NOW, Feed
from tools.importers import cfpb, olist, servicenow
from tools.importers.olist import Lines, OrderFacts
from tools.importers.steps import Step
from tools.importers.summary import ImportSummary
from tools.importers.times import local_timestamp


def accepted(steps: list[Step]) -> bool:
    app = JourneyApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    events = [
        validate(
            {
                "event_id": s.event_id,
                "type": s.type,
                "occurred_at": s.at.isoformat(),
                "channel": s.channel,
                "customer_id": s.customer_id,
                "source": "test",
                "schema_version": EVENT_TYPES[s.type].latest,
                "data": s.data,
            },
            now=NOW,
            max_future=timedelta(minutes=5),
        )
        for s in steps
    ]
    return Feed(app)(*events) == []


def boa_row(**changes: str) -> dict[str, str]:
    row = {
        "Complaint ID": "4848023",
        "Submitted via": "Referral",
        "Date submitted": "2021-10-24",
        "Date received": "2021-10-27",
        "State": "NY",
        "Product": "Mortgage",
        "Sub-product": "Conventional home mortgage",
        "Issue": "Applying for a mortgage",
        "Sub-issue": "",
        "Company public response": "Company has responded to the consumer and the CFPB and"
        " chooses not to provide a public response",
        "Company response to consumer": "Closed with monetary relief",
        "Timely response?": "No",
    }
    return row | changes


def test_cfpb_extract_dates_are_read_from_their_renamed_columns() -> None:
    summary = ImportSummary("cfpb")
    journey = cfpb.complaint(boa_row(), cfpb.BANK_OF_AMERICA, summary)
    assert journey is not None
    steps = {s.type: s for s in journey.steps}
    assert list(steps) == [
        "contact.opened",
        "case.owner_assigned",
        "case.options_offered",
        "case.resolved",
    ]
    # 'Date submitted' is the CFPB's date received; 'Date received' the date sent.
    assert steps["contact.opened"].at == datetime(2021, 10, 24, tzinfo=UTC)
    assert steps["contact.opened"].channel == "email"  # Referral
    assert steps["contact.opened"].customer_id == "cfpb-4848023"
    assert steps["case.owner_assigned"].at == datetime(2021, 10, 27, tzinfo=UTC)
    assert steps["case.owner_assigned"].data["owner"] == "Bank of America"
    assert steps["case.owner_assigned"].data["due_at"] == "2021-11-11T00:00:00+00:00"
    # Monetary relief as a refund; the source's verdict beside ours.
    assert steps["case.resolved"].data["option"] == "refund"
    assert "CFPB timely response: No" in steps["case.resolved"].data["summary"]
    assert accepted(journey.steps)


def test_cfpb_in_progress_stays_open_and_unknown_channels_are_skipped() -> None:
    summary = ImportSummary("cfpb")
    journey = cfpb.complaint(
        boa_row(**{"Company response to consumer": "In progress", "Timely response?": ""}),
        cfpb.BANK_OF_AMERICA,
        summary,
    )
    assert journey is not None
    assert [s.type for s in journey.steps] == ["contact.opened", "case.owner_assigned"]
    assert (
        cfpb.complaint(boa_row(**{"Submitted via": "Pigeon"}), cfpb.BANK_OF_AMERICA, summary)
        is None
    )
    assert summary.rows_skipped == {"'Submitted via' 'Pigeon' has no R-CH-01 channel": 1}


def test_olist_times_follow_brazilian_daylight_saving_time() -> None:
    winter = local_timestamp("2017-07-09 21:57:05", "America/Sao_Paulo")
    summer = local_timestamp("2017-12-01 10:00:00.123456", "America/Sao_Paulo")
    assert winter is not None
    assert winter.utcoffset() == timedelta(hours=-3)
    assert summer is not None
    assert summer.utcoffset() == timedelta(hours=-2)
    assert local_timestamp("", "America/Sao_Paulo") is None


def order_row(**changes: str) -> dict[str, str]:
    row = {
        "order_id": "o1",
        "customer_id": "c1",
        "order_status": "delivered",
        "order_purchase_timestamp": "2017-09-18 14:31:30",
        "order_approved_at": "2017-09-19 04:04:09",
        "order_delivered_carrier_date": "2017-10-06 17:50:03",
        "order_delivered_customer_date": "2017-10-09 22:23:46",
        "order_estimated_delivery_date": "2017-09-28 00:00:00",
    }
    return row | changes


def test_olist_order_is_placed_shipped_and_delivered_late() -> None:
    summary = ImportSummary("olist")
    facts: dict[str, OrderFacts] = {}
    lines = Lines({"p1": [2, Decimal("25.0")], "p2": [1, Decimal("99.9")]}, seller="s1")
    journey = olist.order(
        order_row(), {"c1": "person-1"}, lines, {"o1": Decimal("160.9")}, summary, facts
    )
    assert journey is not None
    assert [s.type for s in journey.steps] == ["order.placed", "order.shipped", "order.delivered"]
    placed = journey.steps[0]
    assert placed.customer_id == "olist-person-1"
    assert placed.channel == "marketplace"
    assert placed.data["amount_paid"] == "160.9"
    assert placed.data["items"] == [
        {"sku": "p1", "quantity": 2, "unit_price": "25.0"},
        {"sku": "p2", "quantity": 1, "unit_price": "99.9"},
    ]
    assert placed.data["promised_delivery_at"] == "2017-09-28T00:00:00-03:00"
    assert facts["o1"] == OrderFacts("olist-person-1", "delivered", True, "olist-seller-s1")
    assert accepted(journey.steps)


def test_olist_unavailable_order_without_items_is_placed_then_cancelled() -> None:
    summary = ImportSummary("olist")
    row = order_row(
        order_status="unavailable",
        order_delivered_carrier_date="",
        order_delivered_customer_date="",
    )
    journey = olist.order(row, {"c1": "person-1"}, None, {"o1": Decimal("50.00")}, summary, {})
    assert journey is not None
    assert [s.type for s in journey.steps] == ["order.placed", "order.cancelled"]
    assert journey.steps[0].data["items"][0]["sku"] == olist.PLACEHOLDER_SKU
    assert journey.steps[1].at == local_timestamp("2017-09-19 04:04:09", olist.ZONE)
    assert accepted(journey.steps)


def review_row(score: str, message: str) -> dict[str, str]:
    return {
        "review_id": "r1",
        "order_id": "o1",
        "review_score": score,
        "review_comment_title": "",
        "review_comment_message": message,
        "review_creation_date": "2017-10-10 00:00:00",
        "review_answer_timestamp": "2017-10-11 09:12:00",
    }


def test_olist_review_is_a_survey_and_sometimes_a_complaint() -> None:
    on_time = OrderFacts("olist-p", "delivered", False, None)
    late = OrderFacts("olist-p", "delivered", True, None)
    cases: list[Any] = [
        (review_row("5", ""), on_time, None),
        (review_row("1", ""), on_time, None),  # a low score with no reason given
        (review_row("1", "produto com defeito"), on_time, "product"),
        (review_row("2", ""), late, "logistics"),
        (review_row("4", "chegou atrasado"), late, "logistics"),
        (review_row("4", "tudo certo"), late, None),
        (review_row("2", ""), OrderFacts("olist-p", "canceled", False, None), "order"),
    ]
    for row, facts, topic in cases:
        steps = olist.review(row, facts, ImportSummary("olist"))
        types = [s.type for s in steps]
        assert types[:6] == [
            "contact.opened",
            "case.owner_assigned",
            "case.options_offered",
            "case.resolved",
            "survey.sent",
            "survey.answered",
        ]
        assert steps[5].data["overall"] == int(row["review_score"])
        complaint = steps[6:]
        assert [s.data.get("topic") for s in complaint] == ([topic] if topic else [])
        if complaint:
            assert complaint[0].data["classification"] == "complaint"
            assert complaint[0].at == steps[5].at  # when the customer answered
        assert accepted(steps)


def sn_row(state: str, updated: str, **changes: str) -> dict[str, str]:
    row = {
        "number": "INC0000045",
        "incident_state": state,
        "reassignment_count": "0",
        "reopen_count": "0",
        "made_sla": "true",
        "caller_id": "Caller 2403",
        "opened_at": "29/2/2016 01:16",
        "sys_updated_by": "Updated by 21",
        "sys_updated_at": updated,
        "contact_type": "Phone",
        "location": "Location 143",
        "category": "Category 55",
        "subcategory": "Subcategory 170",
        "u_symptom": "Symptom 72",
        "priority": "3 - Moderate",
        "assignment_group": "Group 56",
        "assigned_to": "?",
        "closed_code": "code 5",
        "resolved_by": "Resolved by 149",
    }
    return row | changes


def test_servicenow_incident_with_a_reopening() -> None:
    rows = [
        sn_row("New", "29/2/2016 01:23"),
        sn_row("Active", "29/2/2016 02:00", assigned_to="Resolver 7"),
        sn_row("Awaiting User Info", "29/2/2016 03:00", assigned_to="Resolver 7"),
        sn_row("Resolved", "29/2/2016 08:53", assigned_to="Resolver 7"),
        sn_row(
            "Active",
            "1/3/2016 09:00",
            reopen_count="1",
            reassignment_count="1",
            assigned_to="Resolver 9",
            priority="2 - High",
        ),
        sn_row(
            "Resolved",
            "1/3/2016 11:29",
            reopen_count="1",
            reassignment_count="1",
            assigned_to="Resolver 9",
            priority="2 - High",
        ),
        sn_row(
            "Closed",
            "6/3/2016 12:00",
            reopen_count="1",
            reassignment_count="1",
            assigned_to="Resolver 9",
            priority="2 - High",
        ),
    ]
    summary = ImportSummary("servicenow")
    journey = servicenow.incident("INC0000045", rows, summary)
    assert journey is not None
    assert [s.type for s in journey.steps] == [
        "contact.opened",
        "case.owner_assigned",
        "contact.replied",
        "case.progress_update_sent",
        "case.options_offered",
        "case.resolved",
        "case.reopened",
        "case.priority_set",
        "case.owner_assigned",
        "case.options_offered",
        "case.resolved",
        "case.closed_no_reply",  # closed more than 72 h after the resolution
    ]
    opened = journey.steps[0]
    assert opened.customer_id == "sn-caller-2403"
    assert opened.channel == "phone"
    assert opened.at == datetime(2016, 2, 29, 1, 16, tzinfo=UTC)
    assert opened.data["store_id"] == "Location 143"
    assert journey.steps[1].data["owner"] == "Group 56"
    assert journey.steps[8].data["owner"] == "Resolver 9"
    assert "made_sla true" in journey.steps[5].data["summary"]
    assert journey.steps[5].data["option"] == "code-5"
    assert accepted(journey.steps)

"""KPI counters (R-KPI-01..08): each rule at its boundaries, driven through a real
``JourneyApplication``; then, for random journeys, the properties of the read model: every
count is explained by exactly the events it is made of, batches and re-deliveries do not
change the result, and a fresh copy fed the whole log equals the live one."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import Row, SQLiteReadStore
from application.service import JourneyApplication
from domain.aggregate import JourneyAggregate
from domain.case import Case
from domain.contact import Contact
from domain.funnel import PRE_SALE, stage_of
from domain.ids import aggregate_id
from projections.base import Notified
from projections.kpis import KpiCounters
from projections.kpis import metrics as m
from projections.kpis.anomalies import anomalies as flag_anomalies
from projections.kpis.sample import rank, sample
from projections.rebuild import rebuild
from projections.runner import NotificationReader
from tests.builders.apps import make_app
from tests.builders.kpis import (
    DAY0,
    FIXED,
    STEPS,
    T0,
    D,
    H,
    Journey,
    M,
    S,
    Step,
    new_kpis,
    notifications,
    play,
    snapshot,
)


@pytest.fixture
def journey(app: JourneyApplication) -> Journey:
    return Journey(app)


def caught_up(app: JourneyApplication, kpi: KpiCounters) -> KpiCounters:
    kpi.process(notifications(app))
    return kpi


def total(kpi: KpiCounters, start: date = DAY0, end: date | None = None) -> dict[str, Any]:
    [row] = kpi.kpis(start, end or start)
    return row


def contact_of(contact_id: str) -> str:
    return str(aggregate_id("contact", contact_id))


def case_of(case_ref: str) -> str:
    return str(aggregate_id("case", case_ref))


def subjects(kpi: KpiCounters, metric: str, day: date = DAY0, **where: str | None) -> list[str]:
    return [row["subject_id"] for row in kpi.explain(metric, day, **where)]


# -- R-KPI-01 response rate ------------------------------------------------------------------


def test_r_kpi_01_a_response_at_the_target_is_in_target_one_second_later_is_not(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("k-30s", T0)
    journey.reply("k-30s", T0 + 30 * S)
    journey.contact("k-31s", T0)
    journey.reply("k-31s", T0 + 31 * S)
    journey.contact("k-mail", T0, channel="email")  # no first-response clock on email
    journey.reply("k-mail", T0 + H)

    row = total(caught_up(app, kpi))

    assert (row["responses"], row["responses_in_target"], row["response_rate"]) == (2, 1, 0.5)
    assert row["breaches"] == {"R-RESP-01": 1}
    [met] = kpi.explain(m.RESPONSES_IN_TARGET, DAY0)
    assert (met["subject_id"], met["subkey"]) == (contact_of("k-30s"), "R-RESP-01")
    assert met["type"] == "Contact.DeadlineMet"
    [breach] = kpi.explain(m.BREACHES + "R-RESP-01", DAY0)
    assert (breach["subject_id"], breach["type"]) == (
        contact_of("k-31s"),
        "Contact.DeadlineBreached",
    )
    assert sorted(subjects(kpi, m.RESPONSES)) == sorted([contact_of("k-30s"), contact_of("k-31s")])


def test_r_kpi_01_after_a_bot_the_hand_off_is_the_response(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    for contact, handed_after in (("k-10s", 10 * S), ("k-11s", 11 * S)):
        journey.contact(contact, T0)
        journey.reply(contact, T0 + 2 * S, responder="bot")  # calls R-RESP-01 off
        journey("contact.handoff_requested", T0 + 5 * S, contact_id=contact)
        journey("contact.handed_off", T0 + 5 * S + handed_after, contact_id=contact, agent_id="a")

    row = total(caught_up(app, kpi))

    assert (row["responses"], row["responses_in_target"]) == (2, 1)
    assert row["breaches"] == {"R-RESP-02": 1}
    assert subjects(kpi, m.RESPONSES_IN_TARGET) == [contact_of("k-10s")]
    assert {r["subkey"] for r in kpi.explain(m.RESPONSES, DAY0)} == {"R-RESP-02:1"}


def test_r_kpi_01_a_breach_by_the_watermark_settled_by_a_late_answer_counts_as_met(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("k-late", T0)
    assert app.advance_clock(Contact.create_id("k-late"), T0 + 10 * M) == 1
    caught_up(app, kpi)
    assert total(kpi)["responses_in_target"] == 0
    assert total(kpi)["breaches"] == {"R-RESP-01": 1}

    journey.reply("k-late", T0 + 20 * S)  # happened in time, arrived after the breach

    row = total(caught_up(app, kpi))
    assert (row["responses"], row["responses_in_target"], row["breaches"]) == (1, 1, {})
    [settled] = kpi.explain(m.RESPONSES_IN_TARGET, DAY0)
    assert settled["type"] == "Contact.DeadlineSettled"
    assert kpi.explain(m.BREACHES + "R-RESP-01", DAY0) == []


def test_r_kpi_01_a_bots_earlier_answer_arriving_late_calls_the_response_off(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("k", T0)
    journey.reply("k", T0 + 40 * S)
    assert total(caught_up(app, kpi))["breaches"] == {"R-RESP-01": 1}

    journey.reply("k", T0 + 10 * S, responder="bot")  # happened first: R-RESP-02 applies

    row = total(caught_up(app, kpi))
    assert (row["responses"], row["responses_in_target"], row["breaches"]) == (0, 0, {})
    assert kpi.explain(m.RESPONSES, DAY0) == []


# -- R-KPI-02 first-contact resolution --------------------------------------------------------


def test_r_kpi_02_resolved_in_the_one_contact_and_never_reopened(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("one", T0)
    journey.resolve("one", T0 + H)
    journey.contact("two", T0)
    journey.contact("two-b", T0 + M, case="two", channel="phone")
    journey.resolve("two", T0 + H)

    row = total(caught_up(app, kpi))
    assert (row["resolved"], row["fcr"], row["fcr_rate"]) == (2, 1, 0.5)
    assert subjects(kpi, m.FCR) == [case_of("one")]

    journey("case.reopened", T0 + D, case_id="one", reason="broke again")
    journey.resolve("one", T0 + D + H)

    caught_up(app, kpi)
    assert kpi.explain(m.FCR, DAY0) == []  # the reopening un-counted it
    assert (total(kpi)["fcr"], total(kpi)["resolved"]) == (0, 2)
    assert total(kpi, DAY0 + timedelta(days=1))["reopened"] == 1
    assert total(kpi, DAY0 + timedelta(days=1))["resolved"] == 0  # first resolutions only


def test_r_kpi_02_a_contact_joining_after_the_resolution_un_counts_it(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("solo", T0)
    journey.resolve("solo", T0 + H)
    assert total(caught_up(app, kpi))["fcr"] == 1

    journey.contact("solo-again", T0 + 2 * H, case="solo")

    assert total(caught_up(app, kpi))["fcr"] == 0
    assert total(kpi)["contacts"] == 2


# -- R-KPI-03 return rate -------------------------------------------------------------------


def test_r_kpi_03_orders_with_an_approved_return_over_deliveries(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    for order in ("o1", "o2", "o3", "o4"):
        journey.order(order, T0)
        journey.deliver(order, T0 + H)
    journey.returned("r1", "o1", T0 + 2 * H)
    journey.returned("r2", "o1", T0 + 3 * H)  # a second return of the same order
    journey(
        "return.requested",
        T0 + 2 * H,
        channel="web",
        return_id="r3",
        order_id="o2",
        reason="quality",
        opened=True,
        where="online",
        amount_requested="50.00",
    )  # requested, never approved

    row = total(caught_up(app, kpi))

    assert (row["deliveries"], row["returned_orders"], row["return_rate"]) == (4, 1, 0.25)
    [approved] = kpi.explain(m.RETURNED_ORDERS, DAY0, channel="web", store="s1")
    assert approved["ref"] == "o1"
    assert approved["type"] == "ReturnRequest.Approved"
    assert approved["aggregate_id"] == str(aggregate_id("return", "r1"))


# -- R-KPI-04 CSAT and NPS ------------------------------------------------------------------------


def test_r_kpi_04_nps_9_promoter_8_passive_6_detractor_and_csat_the_mean_overall(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    answers = {"p9": (5, 9), "p10": (5, 10), "n8": (4, 8), "n7": (4, 7), "d6": (2, 6)}
    for case, (overall, nps) in answers.items():
        journey.contact(case, T0)
        journey.resolve(case, T0 + H)
        journey.survey(f"sv-{case}", case, T0 + 2 * H, overall, nps)
    journey.contact("no-nps", T0)
    journey.resolve("no-nps", T0 + H)
    journey.survey("sv-no-nps", "no-nps", T0 + 2 * H, 1)

    row = total(caught_up(app, kpi))

    assert (row["nps_answers"], row["nps_promoters"], row["nps_detractors"]) == (5, 2, 1)
    assert row["nps"] == pytest.approx(100 * (2 - 1) / 5)
    assert row["csat_answers"] == 6
    assert row["csat"] == pytest.approx((5 + 5 + 4 + 4 + 2 + 1) / 6)
    refs = {metric: sorted(r["ref"] for r in kpi.explain(metric, DAY0)) for metric in (
        m.NPS_PROMOTERS, m.NPS_DETRACTORS)}  # fmt: skip
    assert refs == {m.NPS_PROMOTERS: ["sv-p10", "sv-p9"], m.NPS_DETRACTORS: ["sv-d6"]}
    assert sum(r["value"] for r in kpi.explain(m.CSAT, DAY0)) == 21


# -- R-KPI-05 volume, type mix, handling time, top issues, by dimension -----------------------


def test_r_kpi_05_volumes_type_mix_top_issues_and_handling_time_by_dimension(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    issues = [
        ("after_sales", "damaged", 3),
        ("order", None, 3),
        ("product", None, 2),
        ("logistics", None, 2),
        ("membership", None, 1),
        ("other", None, 1),
        ("after_sales", "quality", 1),
    ]
    n = 0
    for topic, kind, count in issues:
        for _ in range(count):
            n += 1
            more = {"after_sales_kind": kind} if kind else {}
            journey.contact(
                f"k{n}",
                T0,
                channel="app" if n % 2 else "web",
                classification="complaint" if n % 3 == 0 else "inquiry",
                topic=topic,
                store=f"s{n % 2}",
                group="g1" if n <= 6 else None,
                **more,
            )
    journey.resolve("k1", T0 + 2 * H)
    journey.resolve("k2", T0 + 4 * H)

    row = total(caught_up(app, kpi))

    assert row["contacts"] == n == 13
    assert row["volume_by_classification"] == {"complaint": 4, "inquiry": 9}
    assert row["top5_issues"] == [
        {"issue": "after_sales/damaged", "contacts": 3},
        {"issue": "order", "contacts": 3},
        {"issue": "logistics", "contacts": 2},
        {"issue": "product", "contacts": 2},
        {"issue": "after_sales/quality", "contacts": 1},
    ]
    assert (row["handled"], row["mean_handling_s"]) == (2, 3 * 3600)
    by_channel = {r["channel"]: r["contacts"] for r in kpi.kpis(DAY0, DAY0, ["channel"])}
    assert by_channel == {"app": 7, "web": 6}
    by_group = {r["agent_group"]: r["contacts"] for r in kpi.kpis(DAY0, DAY0, ["agent_group"])}
    assert by_group == {"g1": 6, None: 7}
    full = kpi.kpis(DAY0, DAY0, ["day", "channel", "store", "agent_group"])
    assert sum(r["contacts"] for r in full) == 13
    assert {r["day"] for r in full} == {DAY0.isoformat()}
    for r in full:
        where = {d: r[d] for d in ("channel", "store", "agent_group")}
        assert len(kpi.explain(m.CONTACTS, DAY0, **where)) == r["contacts"]
    assert kpi.kpis(DAY0 + timedelta(days=1), DAY0 + timedelta(days=9), ["channel"]) == []


def test_r_kpi_05_a_resolution_after_a_reopening_replaces_the_handling_time(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("k", T0)
    journey.resolve("k", T0 + H)
    journey("case.reopened", T0 + D, case_id="k", reason="again")
    journey.resolve("k", T0 + D + 5 * H)

    caught_up(app, kpi)

    assert total(kpi)["handled"] == 0
    later = total(kpi, DAY0 + timedelta(days=1))
    assert (later["handled"], later["mean_handling_s"]) == (1, (D + 5 * H).total_seconds())


# -- R-KPI-06 anomalies ---------------------------------------------------------------------------


def complaint_days(journey: Journey, days: Sequence[int]) -> None:
    """Each day: store s1 has 2 complaints in 2 contacts, s2 and s3 none in 2."""
    for day in days:
        at = T0 + day * D
        for store in ("s1", "s2", "s3"):
            for i in range(2):
                journey.contact(
                    f"{store}-{day}-{i}",
                    at,
                    classification="complaint" if store == "s1" else "inquiry",
                    store=store,
                )


def test_r_kpi_06_flagged_on_the_third_consecutive_day_above_the_peers(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    complaint_days(journey, [0, 1, 2])
    caught_up(app, kpi)

    [flag] = kpi.anomalies(DAY0, DAY0 + timedelta(days=2))

    days = [(DAY0 + timedelta(days=n)).isoformat() for n in range(3)]
    assert (flag["dimension"], flag["value"], flag["days"]) == ("store", "s1", days)
    assert flag["flagged_days"] == days[2:]
    assert [(r["complaint_rate"], r["peer_mean"]) for r in flag["rates"]] == [(1.0, 0.0)] * 3
    assert kpi.anomalies(DAY0 + timedelta(days=2), DAY0 + timedelta(days=2)) == [flag]
    assert kpi.anomalies(DAY0, DAY0 + timedelta(days=1)) == []  # 2 days are not enough


def test_r_kpi_06_a_gap_breaks_the_run(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    complaint_days(journey, [0, 1, 3, 4])
    caught_up(app, kpi)

    assert kpi.anomalies(DAY0, DAY0 + timedelta(days=6)) == []


def test_r_kpi_06_equal_to_the_peers_mean_is_not_above() -> None:
    daily = [(f"2026-03-0{d}", v, c, 4) for d in (2, 3, 4) for v, c in (("a", 2), ("b", 2))]
    assert flag_anomalies("store", daily) == []
    daily += [(f"2026-03-0{d}", "c", 1, 4) for d in (2, 3, 4)]
    assert [f["value"] for f in flag_anomalies("store", daily)] == ["a", "b"]
    no_store = [(f"2026-03-0{d}", "", 4, 4) for d in (2, 3, 4)]
    assert flag_anomalies("store", no_store + daily) == flag_anomalies("store", daily)


# -- R-KPI-07 quality-inspection sample ---------------------------------------------------------


def test_r_kpi_07_ten_percent_per_group_the_same_for_the_same_seed(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    for i in range(25):
        journey.contact(f"g1-{i}", T0 + i * M, group="g1")
    for i in range(12):
        journey.contact(f"g2-{i}", T0 + i * M, group="g2")
    journey.contact("nobody", T0, group=None)
    caught_up(app, kpi)

    picked = kpi.qa_sample(None, DAY0, DAY0, seed=7)

    sizes = Counter(row["agent_group"] for row in picked)
    assert sizes == {"g1": 3, "g2": 2, None: 1}  # 10 %, rounded up
    assert picked == kpi.qa_sample(None, DAY0, DAY0, seed=7)
    assert picked != kpi.qa_sample(None, DAY0, DAY0, seed=8)
    g1 = [row for row in picked if row["agent_group"] == "g1"]
    assert kpi.qa_sample("g1", DAY0, DAY0, seed=7) == g1
    population = [contact_of(f"g1-{i}") for i in range(25)]
    assert [row["contact"] for row in g1] == sorted(population, key=lambda c: rank(7, c))[:3]
    assert all(row["contact_id"].startswith("g1-") for row in g1)
    assert kpi.qa_sample("g1", DAY0 + timedelta(days=1), DAY0 + timedelta(days=1), 7) == []


def test_r_kpi_07_the_sample_does_not_depend_on_arrival_order() -> None:
    rows = [{"subject_id": f"c-{i}", "agent_group": f"g{i % 3}"} for i in range(40)]
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    assert sample(rows, seed=11) == sample(shuffled, seed=11)
    assert [len([r for r in sample(rows, 11) if r["agent_group"] == g]) for g in ("g0", "g1")] == [
        2,
        2,
    ]


# -- R-KPI-08 funnel and conversion ---------------------------------------------------------------


def test_r_kpi_08_conversion_within_7_days_exactly_but_not_one_second_more(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("k-7d", T0, customer="c7")
    journey.order("o-7d", T0 + 7 * D, customer="c7")
    journey.contact("k-7d1s", T0, customer="c8")
    journey.order("o-7d1s", T0 + 7 * D + S, customer="c8")
    journey.order("o-before", T0 - S, customer="c9")  # before the contact: no conversion
    journey.contact("k-before", T0, customer="c9")
    journey.contact("k-in-sale", T0, customer="c10", topic="order")
    journey.order("o-in-sale", T0 + H, customer="c10")

    caught_up(app, kpi)
    funnel = kpi.funnel(DAY0, DAY0 + timedelta(days=8))

    assert funnel["stages"] == {"pre_sale": 3, "in_sale": 1, "after_sale": 0}
    assert (funnel["converted"], funnel["pre_sale_contacts"]) == (1, 3)
    assert funnel["conversion_rate"] == pytest.approx(1 / 3)
    [converted] = kpi.explain(m.CONVERTED, DAY0)
    assert (converted["ref"], converted["type"]) == ("k-7d", "Order.Placed")
    assert converted["aggregate_id"] == str(aggregate_id("order", "o-7d"))


def test_r_kpi_08_an_order_stored_before_the_contact_it_follows_still_converts_it(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.order("o-late", T0 + 3 * D, customer="c3")
    journey.order("o-early", T0 + D, customer="c3")
    caught_up(app, kpi)  # the orders are counted in an earlier batch
    journey.contact("k-earlier", T0, customer="c3", topic="membership")

    caught_up(app, kpi)

    [converted] = kpi.explain(m.CONVERTED, DAY0)
    assert converted["aggregate_id"] == str(aggregate_id("order", "o-early"))


def test_r_kpi_08_the_earliest_order_converts_whatever_the_arrival_order(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("k", T0, customer="c4", topic="other")
    journey.order("o-later", T0 + 2 * D, customer="c4")
    caught_up(app, kpi)
    journey.order("o-sooner", T0 + D, customer="c4")  # stored after, happened before

    caught_up(app, kpi)

    [converted] = kpi.explain(m.CONVERTED, DAY0)
    assert converted["aggregate_id"] == str(aggregate_id("order", "o-sooner"))
    assert total(kpi)["converted"] == 1


def test_r_kpi_08_a_stage_the_channel_states_wins_over_the_topic(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    """A consultation before buying, about an order topic: the channel says pre-sale, so it
    counts pre-sale and converts; without a stated stage the topic decides (in-sale)."""
    journey.contact("k-stated", T0, customer="c11", topic="order", funnel_stage="pre_sale")
    journey.order("o-stated", T0 + H, customer="c11")
    journey.contact("k-topic", T0, customer="c12", topic="order")

    funnel = caught_up(app, kpi).funnel(DAY0, DAY0)

    assert funnel["stages"] == {"pre_sale": 1, "in_sale": 1, "after_sale": 0}
    assert funnel["converted"] == 1
    [converted] = kpi.explain(m.CONVERTED, DAY0)
    assert converted["ref"] == "k-stated"


def test_r_kpi_08_a_stage_outside_the_funnel_is_refused() -> None:
    from contracts.envelope import InvalidEvent
    from tests.unit.feeding import source

    with pytest.raises(InvalidEvent, match="funnel_stage"):
        source(
            "contact.opened",
            {"contact_id": "k", "classification": "inquiry", "topic": "order",
             "funnel_stage": "post_sale"},
            T0,
            "ev-1",
        )  # fmt: skip


def test_r_kpi_08_after_sales_resolution_rate_by_the_cases_opening_day(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("as-1", T0, topic="after_sales", after_sales_kind="damaged")
    journey.contact("as-2", T0, topic="after_sales", after_sales_kind="usage")
    journey.contact("pre", T0, topic="product")
    journey.resolve("as-1", T0 + 3 * D)
    journey.resolve("pre", T0 + H)

    funnel = caught_up(app, kpi).funnel(DAY0, DAY0)

    assert funnel["stages"] == {"pre_sale": 1, "in_sale": 0, "after_sale": 2}
    assert (funnel["after_sales_cases"], funnel["after_sales_resolved"]) == (2, 1)
    assert funnel["after_sales_resolution_rate"] == 0.5


# -- R-CMP-07 reopened cases and repeat complaints -----------------------------------------------


def test_r_cmp_07_a_repeat_complaint_on_the_same_topic_within_30_days(
    app: JourneyApplication, journey: Journey, kpi: KpiCounters
) -> None:
    journey.contact("first", T0, classification="complaint", topic="order")
    journey.contact("30d", T0 + 30 * D, classification="complaint", topic="order")
    journey.contact("other-topic", T0 + D, classification="complaint", topic="logistics")
    journey.contact("30d1s", T0 + 60 * D + S, classification="complaint", topic="order")
    journey.contact("not-a-complaint", T0 + 2 * D, classification="inquiry", topic="order")
    journey.contact("earlier", T0 - D, customer="c2", classification="complaint", topic="order")
    journey.contact("before", T0 - 2 * D, customer="c2", classification="complaint", topic="order")

    caught_up(app, kpi)

    found = {
        row["ref"]
        for row in kpi.explain(m.REPEAT_COMPLAINTS, DAY0 + timedelta(days=30))
        + kpi.explain(m.REPEAT_COMPLAINTS, DAY0 - timedelta(days=1))
    }
    assert found == {"30d", "earlier"}
    every = kpi.kpis(DAY0 - timedelta(days=5), DAY0 + timedelta(days=70))
    assert every[0]["repeat_complaints"] == 2


# -- explain, rebuild, batches: properties -------------------------------------------------------


def recorded(folder: Path, steps: Sequence[Step]) -> tuple[list[Notified], dict[str, Any]]:
    """The log of a random journey, and what its aggregates say (for independent counts)."""
    app = make_app(folder)
    try:
        play(app, steps)
        log = notifications(app)
        ids = dict.fromkeys(event.originator_id for _, event in log)
        loaded: dict[str, Any] = {str(i): app.repository.get(i) for i in ids}
        return log, {i: a for i, a in loaded.items() if isinstance(a, JourneyAggregate)}
    finally:
        app.close()


def deliveries(data: st.DataObject, count: int) -> list[tuple[int, int]]:
    """Slices ``[start, end)`` of a log as a follower sees them: each starts at or before
    the first not yet delivered (some go back: re-deliveries); together they reach the end."""
    slices: list[tuple[int, int]] = []
    delivered = 0
    while delivered < count:
        start = data.draw(st.integers(min_value=0, max_value=delivered), label="start")
        end = data.draw(st.integers(min_value=start + 1, max_value=count), label="end")
        slices.append((start, end))
        delivered = max(delivered, end)
    return slices


def expected_counts(log: Sequence[Notified], aggregates: dict[str, Any]) -> Counter[str]:
    """Counts worked out from the log and the aggregates alone, not by the read model."""
    counts: Counter[str] = Counter()
    opened = {e.case_ref: e for _, e in log if isinstance(e, Case.Opened)}
    contacts = [e for _, e in log if isinstance(e, Contact.Opened)]
    orders = [e for _, e in log if type(e).__qualname__ == "Order.Placed"]
    counts[m.CONTACTS] = len(contacts)
    counts[m.CASES] = len(opened)
    for aggregate in aggregates.values():
        for outcome in aggregate.outcomes().values():
            if outcome.rule in m.RESPONSE_RULES:
                counts[m.RESPONSES] += 1
                counts[m.RESPONSES_IN_TARGET] += outcome.met
            if not outcome.met:
                counts[m.BREACHES + outcome.rule] += 1
        if isinstance(aggregate, Case):
            resolved = aggregate.resolutions > 0
            counts[m.RESOLVED] += resolved
            counts[m.FCR] += (
                resolved and not aggregate.reopen_count and (len(aggregate.contact_ids) == 1)
            )
            counts[m.REOPENED] += aggregate.reopen_count > 0
    for contact in contacts:
        if stage_of(opened[contact.case_ref].topic) == PRE_SALE:
            counts[m.CONVERTED] += any(
                o.customer_id == contact.customer_id
                and contact.occurred_at <= o.occurred_at <= contact.occurred_at + 7 * D
                for o in orders
            )
    complaints = [c for c in opened.values() if c.classification == "complaint"]
    for case in complaints:
        counts[m.REPEAT_COMPLAINTS] += any(
            other.customer_id == case.customer_id
            and other.topic == case.topic
            and (other.occurred_at, other.case_ref) < (case.occurred_at, case.case_ref)
            and case.occurred_at - other.occurred_at <= 30 * D
            for other in complaints
        )
    named = Counter(type(e).__qualname__ for _, e in log)
    counts[m.DELIVERIES] = named["Order.Delivered"]
    counts[m.CSAT] = named["Survey.Answered"]
    approved = {aggregates[str(e.originator_id)].order_id for _, e in log if (
        type(e).__qualname__ == "ReturnRequest.Approved")}  # fmt: skip
    counts[m.RETURNED_ORDERS] = len(approved)
    return counts


PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)


@PROPERTY
@given(steps=STEPS)
def test_explain_lists_exactly_the_events_each_count_is_made_of(steps: list[Step]) -> None:
    """Every counter of every counter table (kept by deltas, batch by batch) is the number
    of the facts ``explain`` lists, and each fact names a stored event exactly."""
    with tempfile.TemporaryDirectory() as folder:
        log, aggregates = recorded(Path(folder), steps)
        kpi = new_kpis(SQLiteReadStore(Path(folder) / "kpi.sqlite"))
        try:
            kpi.process(log)
            explained: list[tuple[Row, list[dict[str, Any]]]] = []
            for table, place in (
                ("kpi_counters_channel", "channel"),
                ("kpi_counters_store", "store"),
                ("kpi_counters_group", "agent_group"),
            ):
                # The hourly counters of a UTC day, summed, are that day's facts.
                daily: dict[tuple[date, str, str], Row] = {}
                for c in kpi.store.query(f"SELECT * FROM {table}"):
                    day = date(1970, 1, 1) + timedelta(hours=c["hour"])
                    cell = daily.setdefault(
                        (day, c[place], c["metric"]),
                        {place: c[place], "metric": c["metric"], "day": day, "n": 0, "total": 0},
                    )
                    cell["n"] += c["n"]
                    cell["total"] += c["total"]
                for c in daily.values():
                    where = {place: c[place] or None}
                    explained.append((c, kpi.explain(c["metric"], c["day"], **where)))
            counters = [c for c, _ in explained if "channel" in c]
            facts = kpi.store.query("SELECT COUNT(*) AS n FROM kpi_facts")[0]["n"]
            span = (DAY0 - timedelta(days=30), date(2027, 1, 1))
            summed = kpi.kpis(*span, ["channel", "store", "agent_group"])  # from the facts
            by_channel = kpi.kpis(*span, ["channel"])  # from a counter table
        finally:
            kpi.store.close()

    events = dict(log)
    for c, rows in explained:
        assert len(rows) == c["n"] > 0
        assert sum(row["value"] for row in rows) == c["total"]
        for row in rows:
            event = events[row["notification_id"]]
            assert row["aggregate_id"] == str(event.originator_id)
            assert row["version"] == event.originator_version
            assert row["type"] == type(event).__qualname__
            occurred = getattr(event, "occurred_at", None)
            assert row["occurred_at"] == (
                occurred.astimezone(UTC).isoformat() if occurred else None
            )
            source_ref = getattr(event, "source", None)
            assert row["event_id"] == (source_ref.event_id if source_ref else None)
    for row in by_channel:
        mine = [r for r in summed if r["channel"] == row["channel"]]
        for figure in ("contacts", "responses", "resolved", "csat_answers", "handled"):
            assert sum(r[figure] for r in mine) == row[figure]
    # A contact's fact counts 4 times, a breach's twice.
    labels = (*(prefix for prefix, _ in m.LABELS), m.DETECTED)
    assert facts == sum(c["n"] for c in counters if not c["metric"].startswith(labels))
    counted: Counter[str] = Counter()
    for c in counters:
        counted[c["metric"]] += c["n"]
    expected = expected_counts(log, aggregates)
    checked = set(expected) | {k for k in counted if k.startswith(m.BREACHES)}
    assert {k: counted[k] for k in checked} == {k: expected[k] for k in checked}


@PROPERTY
@given(steps=STEPS, data=st.data())
def test_random_batches_with_redeliveries_equal_one_batch_and_twice_changes_nothing(
    steps: list[Step], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        log, _ = recorded(root, steps)
        one = new_kpis(SQLiteReadStore(root / "one.sqlite"))
        live = new_kpis(SQLiteReadStore(root / "live.sqlite"))
        try:
            assert one.process(log) == len(log)
            for start, end in deliveries(data, len(log)):
                live.process(log[start:end])
            expected, actual = snapshot(one), snapshot(live)
            assert one.process(log) == 0
            assert one.process(log[: len(log) // 2]) == 0
            assert snapshot(one) == expected
        finally:
            one.store.close()
            live.store.close()
    assert actual == expected
    assert expected[1] == log[-1][0]


@PROPERTY
@given(steps=STEPS)
def test_a_fresh_copy_fed_the_whole_log_equals_the_live_one(steps: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        app = make_app(root)
        live = new_kpis(SQLiteReadStore(root / "kpi.sqlite"))
        try:
            play(app, steps, after=lambda: live.process(notifications(app)))
            log = notifications(app)
            fresh = cast(KpiCounters, live.fresh_copy("__rebuild"))
            fresh.create_tables()
            fresh.process(log)
            assert snapshot(fresh) == snapshot(live)
            assert fresh.kpis(DAY0, date(2027, 1, 1), ["day", "channel"]) == live.kpis(
                DAY0, date(2027, 1, 1), ["day", "channel"]
            )
        finally:
            live.store.close()
            app.close()


# -- rebuild --------------------------------------------------------------------------------------


def test_a_rebuild_swaps_in_a_copy_equal_to_the_live_one(
    app: JourneyApplication, kpi: KpiCounters
) -> None:
    play(app, FIXED)
    kpi.process(notifications(app)[:40])
    kpi.process(notifications(app))
    before = snapshot(kpi)
    assert sum(len(rows) for rows in before[0].values()) > 100

    done = rebuild(kpi, NotificationReader(app.process_recorder, app.mapper), batch_size=25)

    assert done.swapped
    assert snapshot(kpi) == before
    assert {r["name"] for r in kpi.store.query("SELECT name FROM sqlite_master")} >= {
        "kpi_facts_at",
        "kpi_owners_customer",
    }

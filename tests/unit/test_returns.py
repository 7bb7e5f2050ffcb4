"""Returns and refunds (R-REF-01..05): the ReturnRequest aggregate on its own, then the
``return.*``, ``refund.refunded`` and ``merchant.responded`` handlers through the
application with real orders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import reduce
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.sourcelog.base import TopicPartition
from application.batches import PendingBatch
from application.service import JourneyApplication
from contracts.envelope import validate
from domain.aggregate import LateFact, outcomes_under
from domain.clocks import Outcome
from domain.errors import DomainError, NotFound
from domain.ids import aggregate_id
from domain.order import Order, RefundExceedsPaid
from domain.policy import BASELINE, policy_named
from domain.provenance import SourceRef
from domain.returns import (
    COMPLETION,
    MERCHANT_RESPONSE,
    REVIEW,
    STORE_HANDLING,
    MerchantMismatch,
    RefundLedger,
    RefundRefused,
    ReturnAlreadyDecided,
    ReturnExists,
    ReturnRefused,
    ReturnRequest,
    ReturnRuleViolated,
)
from tests.factories import unique
from tests.unit.parking_checks import journey_events, parked_naming, waiting_for

CST = timezone(timedelta(hours=8))
DELIVERED = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
REQUESTED = DELIVERED + timedelta(days=2)
SECOND = timedelta(seconds=1)
CENT = Decimal("0.01")
POLICY = BASELINE


def ref(event_id: str, offset: int = 0) -> SourceRef:
    return SourceRef(event_id=event_id, topic="journey.returns", partition=0, offset=offset)


def new_request(
    *,
    return_id: str = "rt-1",
    reason: str = "no_reason",
    opened: bool = False,
    where: str = "online",
    has_receipt: bool = False,
    amount: str = "100.00",
    merchant_id: str | None = None,
    delivered_at: datetime | None = DELIVERED,
    at: datetime = REQUESTED,
    event_id: str = "ev-req",
) -> ReturnRequest:
    return ReturnRequest.request(
        return_id=return_id,
        customer_id="cust-1",
        order_id="o-1",
        reason=reason,
        opened=opened,
        where=where,
        has_receipt=has_receipt,
        amount_requested=Decimal(amount),
        merchant_id=merchant_id,
        items=["sku-1"],
        delivered_at=delivered_at,
        occurred_at=at,
        source=ref(event_id),
    )


@dataclass
class StandInOrder(RefundLedger):
    """A unit-test fake of the order's side of a refund (R-REF-04): paid minus refunded."""

    amount_paid: Decimal
    refunded_total: Decimal = Decimal("0")
    recorded: list[tuple[str, Decimal, datetime, str]] = field(default_factory=list)

    def check_refund(self, amount: Decimal) -> None:
        if amount > self.amount_paid - self.refunded_total:
            raise DomainError("refund exceeds paid minus refunded", "R-REF-04")

    def record_refund(
        self, *, return_id: str, amount: Decimal, occurred_at: datetime, source: SourceRef
    ) -> None:
        self.check_refund(amount)
        self.refunded_total += amount
        self.recorded.append((return_id, amount, occurred_at, source.event_id))


def outcome(request: ReturnRequest, key: str) -> Outcome:
    return request.outcomes()[key]


def approved_request(amount: str = "100.00", at: datetime = REQUESTED) -> ReturnRequest:
    request = new_request(amount=amount)
    request.approve(occurred_at=at, source=ref("ev-approve"))
    return request


def fact_types(request: ReturnRequest) -> list[str]:
    return [type(e).__name__ for e in request.pending_events]


# -- R-REF-01: return windows ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "window"),
    [
        ("no_reason", POLICY.no_reason_return_window),
        ("other", POLICY.no_reason_return_window),
        ("quality", POLICY.quality_repair_window),
        ("damaged", POLICY.quality_repair_window),
        ("wrong_item", POLICY.quality_repair_window),
    ],
)
def test_r_ref_01_return_exactly_at_the_window_is_accepted(reason: str, window: timedelta) -> None:
    """R-REF-01: 7 days (no reason) / 30 days (quality) after delivery is still in time."""
    request = new_request(reason=reason, at=DELIVERED + window)

    assert request.status == "requested"
    assert request.requested_at - request.delivered_at == window
    assert isinstance(request.pending_events[0], ReturnRequest.Requested)


@pytest.mark.parametrize(
    ("reason", "window"),
    [
        ("no_reason", POLICY.no_reason_return_window),
        ("other", POLICY.no_reason_return_window),
        ("quality", POLICY.quality_repair_window),
        ("damaged", POLICY.quality_repair_window),
        ("wrong_item", POLICY.quality_repair_window),
    ],
)
def test_r_ref_01_return_one_second_after_the_window_is_refused(
    reason: str, window: timedelta
) -> None:
    """R-REF-01: 7 days + 1 s (no reason) / 30 days + 1 s (quality) is refused."""
    with pytest.raises(ReturnRefused) as caught:
        new_request(reason=reason, at=DELIVERED + window + SECOND)

    assert caught.value.rule == "R-REF-01"
    assert "R-REF-01" in str(caught.value)


def test_r_ref_01_windows_come_from_the_policy() -> None:
    """R-CH-02 / R-REF-01: the 7- and 30-day windows are policy values."""
    assert POLICY.no_reason_return_window == timedelta(days=7)
    assert POLICY.quality_repair_window == timedelta(days=30)


def test_r_ref_01_no_reason_return_of_opened_goods_is_refused() -> None:
    """R-REF-01: the 7-day no-reason return needs unopened goods."""
    with pytest.raises(ReturnRefused) as caught:
        new_request(reason="no_reason", opened=True)

    assert caught.value.rule == "R-REF-01"
    assert "unopened" in str(caught.value)


def test_r_ref_01_quality_return_of_opened_goods_is_accepted() -> None:
    """R-REF-01: a quality problem is returned opened or not, within 30 days."""
    request = new_request(reason="quality", opened=True, at=DELIVERED + timedelta(days=20))

    assert request.opened is True
    assert request.status == "requested"


def test_r_ref_01_return_of_an_undelivered_order_is_refused() -> None:
    """R-REF-01: the windows count from delivery; an undelivered order has none."""
    with pytest.raises(ReturnRefused) as caught:
        new_request(delivered_at=None)

    assert caught.value.rule == "R-REF-01"
    assert "o-1" in str(caught.value)
    assert "not been delivered" in str(caught.value)


def test_r_ref_01_return_before_the_delivery_is_refused() -> None:
    """R-REF-01: a request dated before the delivery is not within any window."""
    with pytest.raises(ReturnRefused) as caught:
        new_request(at=DELIVERED - SECOND)

    assert caught.value.rule == "R-REF-01"


def test_r_ref_04_request_for_nothing_is_refused() -> None:
    with pytest.raises(RefundRefused) as caught:
        new_request(amount="0.00")

    assert caught.value.rule == "R-REF-04"


def test_request_records_its_facts_and_policy_version() -> None:
    request = new_request(merchant_id="shop-1")

    assert request.id == ReturnRequest.create_id("rt-1") == aggregate_id("return", "rt-1")
    assert ReturnRequest.create_id("rt-1") != aggregate_id("order", "rt-1")
    created = request.pending_events[0]
    assert isinstance(created, ReturnRequest.Requested)
    assert created.delivered_at == DELIVERED
    assert created.source == ref("ev-req")
    assert created.policy_version == POLICY.version
    assert created.items == ["sku-1"]
    assert request.has_applied("ev-req")
    assert fact_types(request) == ["Requested", "DeadlineStarted", "DeadlineStarted"]
    assert set(request.clocks.open) == {REVIEW, MERCHANT_RESPONSE}


# -- R-REF-02: review and completion --------------------------------------------------------


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize(("extra", "met"), [(timedelta(0), True), (SECOND, False)])
def test_r_ref_02_online_review_at_24_h_is_met_and_one_second_later_breached(
    decision: str, extra: timedelta, met: bool
) -> None:
    """R-REF-02: an online request is approved or rejected within 24 h."""
    request = new_request()
    at = REQUESTED + POLICY.return_review + extra
    if decision == "approve":
        request.approve(occurred_at=at, source=ref("ev-2"))
    else:
        request.reject(reason="seal broken", occurred_at=at, source=ref("ev-2"))

    review = outcome(request, REVIEW)
    assert review.rule == "R-REF-02"
    assert review.met is met
    assert review.actual == POLICY.return_review + extra
    assert review.target == POLICY.return_review


@pytest.mark.parametrize(("extra", "met"), [(timedelta(0), True), (SECOND, False)])
def test_r_ref_02_refund_exactly_3_days_after_approval_is_met_and_one_second_later_breached(
    extra: timedelta, met: bool
) -> None:
    """R-REF-02: after approval the refund completes within 3 days (the issue's
    boundary: exactly 3 days met, 3 days + 1 s breached)."""
    approved_at = REQUESTED + timedelta(hours=5)
    request = approved_request(at=approved_at)
    assert request.clocks.open[COMPLETION].due_at == approved_at + POLICY.refund_completion

    request.refund(
        order=StandInOrder(Decimal("100.00")),
        amount=Decimal("100.00"),
        occurred_at=approved_at + POLICY.refund_completion + extra,
        source=ref("ev-refund"),
    )

    completion = outcome(request, COMPLETION)
    assert completion.rule == "R-REF-02"
    assert completion.met is met
    assert completion.actual == POLICY.refund_completion + extra


@pytest.mark.parametrize(("extra", "met"), [(timedelta(0), True), (SECOND, False)])
def test_r_ref_02_exchange_at_3_days_is_met_and_one_second_later_breached(
    extra: timedelta, met: bool
) -> None:
    """R-REF-02: an exchange also completes the approved return."""
    request = approved_request()
    request.exchange(
        new_sku="sku-2",
        occurred_at=REQUESTED + POLICY.refund_completion + extra,
        source=ref("ev-x"),
    )

    assert outcome(request, COMPLETION).met is met
    assert request.exchanged_for == "sku-2"


def test_r_ref_02_rejection_starts_no_completion_clock() -> None:
    request = new_request()
    request.reject(reason="used", occurred_at=REQUESTED + SECOND, source=ref("ev-2"))

    assert COMPLETION not in request.clocks.open
    assert COMPLETION not in request.outcomes()
    assert request.status == "rejected"
    assert request.rejection_reason == "used"


def test_r_ref_02_a_request_is_decided_once() -> None:
    """R-REF-02: approved or rejected once; a second decision is refused."""
    request = approved_request()
    before = request.state()
    count = len(request.pending_events)

    with pytest.raises(ReturnAlreadyDecided) as again:
        request.approve(occurred_at=REQUESTED + SECOND, source=ref("ev-other"))
    with pytest.raises(ReturnAlreadyDecided) as reversal:
        request.reject(reason="changed", occurred_at=REQUESTED + SECOND, source=ref("ev-3"))

    assert again.value.rule == reversal.value.rule == "R-REF-02"
    assert "approved" in str(reversal.value)
    assert len(request.pending_events) == count
    assert request.state() == before


def test_r_ref_02_decision_before_the_request_is_refused() -> None:
    request = new_request()

    with pytest.raises(LateFact):
        request.approve(occurred_at=REQUESTED - SECOND, source=ref("ev-2"))

    assert request.status == "requested"


def test_r_ref_02_watermark_breaches_an_unreviewed_online_request() -> None:
    """R-REF-02: no review by due + allowed lateness → breached by the watermark; a
    decision that happened in time but arrives later settles it as met."""
    request = new_request()
    due = REQUESTED + POLICY.return_review

    request.advance_clock(due + POLICY.allowed_lateness)
    assert REVIEW in request.clocks.open  # not yet: the watermark waits for late facts

    request.advance_clock(due + POLICY.allowed_lateness + SECOND)
    breach = request.pending_events[-1]
    assert isinstance(breach, ReturnRequest.DeadlineBreached)
    assert (breach.rule, breach.key, breach.detected_by) == ("R-REF-02", REVIEW, "watermark")
    assert breach.actual is None
    assert outcome(request, REVIEW).met is False

    request.approve(occurred_at=due - timedelta(hours=1), source=ref("ev-late"))

    settled = [e for e in request.pending_events if isinstance(e, ReturnRequest.DeadlineSettled)]
    assert len(settled) == 1
    assert settled[0].within_target is True
    assert outcome(request, REVIEW).met is True
    assert outcome(request, REVIEW).actual == POLICY.return_review - timedelta(hours=1)


def test_r_ref_02_watermark_breach_settled_by_a_late_review_stays_breached() -> None:
    request = new_request()
    due = REQUESTED + POLICY.return_review
    request.advance_clock(due + POLICY.allowed_lateness + SECOND)

    request.reject(reason="used", occurred_at=due + SECOND, source=ref("ev-late"))

    assert outcome(request, REVIEW).met is False
    assert outcome(request, REVIEW).actual == POLICY.return_review + SECOND


def test_r_ref_02_watermark_breaches_an_unfinished_completion() -> None:
    request = approved_request()
    due = REQUESTED + POLICY.refund_completion
    request.advance_clock(due + POLICY.allowed_lateness + SECOND)

    assert outcome(request, COMPLETION).met is False
    assert outcome(request, COMPLETION).actual is None


def test_r_ref_02_what_if_a_tighter_review_target() -> None:
    """R-REF-02 under the 12-h draft policy: the same facts, another outcome."""
    request = new_request()
    request.approve(occurred_at=REQUESTED + timedelta(hours=13), source=ref("ev-2"))
    events = request.collect_events()
    draft = policy_named("2027.1-draft")
    assert draft.return_review < timedelta(hours=13) <= POLICY.return_review

    assert outcome(request, REVIEW).met is True
    assert outcomes_under(events, draft)[REVIEW].met is False
    assert outcomes_under(events, POLICY)[REVIEW].met is True


# -- R-REF-03: in store with a receipt ------------------------------------------------------


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize(("extra", "met"), [(timedelta(0), True), (SECOND, False)])
def test_r_ref_03_store_handling_at_10_min_is_met_and_one_second_later_breached(
    decision: str, extra: timedelta, met: bool
) -> None:
    """R-REF-03: in store with a receipt, inspection and handling within 10 min."""
    request = new_request(where="store", has_receipt=True)
    at = REQUESTED + POLICY.store_inspection + extra
    request.inspect(result="as_described", occurred_at=REQUESTED + SECOND, source=ref("ev-i"))
    assert STORE_HANDLING in request.clocks.open  # inspection alone is not handling
    if decision == "approve":
        request.approve(occurred_at=at, source=ref("ev-2"))
    else:
        request.reject(reason="damaged by customer", occurred_at=at, source=ref("ev-2"))

    handling = outcome(request, STORE_HANDLING)
    assert handling.rule == "R-REF-03"
    assert handling.met is met
    assert handling.actual == POLICY.store_inspection + extra
    assert REVIEW not in request.outcomes()
    assert request.inspection_result == "as_described"


def test_r_ref_03_store_return_without_receipt_and_online_return_start_no_store_clock() -> None:
    without = new_request(where="store", has_receipt=False)
    online = new_request(where="online", has_receipt=True)

    assert without.clocks.open == {}
    assert set(online.clocks.open) == {REVIEW}


def test_r_ref_03_inspection_is_recorded_once() -> None:
    request = new_request(where="store", has_receipt=True)
    request.inspect(result="damaged_by_customer", occurred_at=REQUESTED, source=ref("ev-i"))
    request.inspect(result="as_described", occurred_at=REQUESTED, source=ref("ev-i"))  # dup

    with pytest.raises(ReturnRuleViolated) as caught:
        request.inspect(result="as_described", occurred_at=REQUESTED, source=ref("ev-j"))

    assert caught.value.rule == "R-REF-03"
    assert request.inspection_result == "damaged_by_customer"


# -- R-REF-04: refunds ----------------------------------------------------------------------


@pytest.mark.parametrize("decision", [None, "reject"])
def test_r_ref_04_refund_without_approval_is_refused(decision: str | None) -> None:
    """R-REF-04: a refund needs an approved request."""
    request = new_request()
    if decision == "reject":
        request.reject(reason="used", occurred_at=REQUESTED, source=ref("ev-2"))
    order = StandInOrder(Decimal("100.00"))

    with pytest.raises(RefundRefused) as caught:
        request.refund(
            order=order, amount=Decimal("10.00"), occurred_at=REQUESTED, source=ref("ev-r")
        )

    assert caught.value.rule == "R-REF-04"
    assert "approved" in str(caught.value)
    assert order.recorded == []
    assert request.refunds == []
    assert not request.has_applied("ev-r")


def test_r_ref_04_refund_of_exactly_what_the_order_still_allows_is_accepted() -> None:
    """R-REF-04: paid minus already refunded, exactly, is accepted."""
    order = StandInOrder(Decimal("80.00"), refunded_total=Decimal("30.00"))
    request = approved_request(amount="100.00")

    request.refund(order=order, amount=Decimal("50.00"), occurred_at=REQUESTED, source=ref("r"))

    assert order.recorded == [("rt-1", Decimal("50.00"), REQUESTED, "r")]
    assert order.refunded_total == order.amount_paid
    assert request.refunded_total == Decimal("50.00")


def test_r_ref_04_one_cent_above_what_the_order_still_allows_is_refused() -> None:
    """R-REF-04: one cent more than paid minus refunded is refused, and neither the order
    nor the request records anything."""
    order = StandInOrder(Decimal("80.00"), refunded_total=Decimal("30.00"))
    request = approved_request(amount="100.00")
    count = len(request.pending_events)

    with pytest.raises(DomainError) as caught:
        request.refund(
            order=order, amount=Decimal("50.00") + CENT, occurred_at=REQUESTED, source=ref("r")
        )

    assert caught.value.rule == "R-REF-04"
    assert order.recorded == []
    assert len(request.pending_events) == count
    assert request.refunded_total == 0


def test_r_ref_04_refunds_of_a_request_never_exceed_the_amount_requested() -> None:
    """R-REF-04: across parts, exactly the amount requested is accepted, a cent more not."""
    order = StandInOrder(Decimal("500.00"))
    request = approved_request(amount="100.00")
    request.refund(order=order, amount=Decimal("60.00"), occurred_at=REQUESTED, source=ref("a"))

    with pytest.raises(RefundRefused) as caught:
        request.refund(
            order=order, amount=Decimal("40.00") + CENT, occurred_at=REQUESTED, source=ref("b")
        )
    assert caught.value.rule == "R-REF-04"
    assert request.refundable() == Decimal("40.00")

    request.refund(order=order, amount=Decimal("40.00"), occurred_at=REQUESTED, source=ref("c"))
    assert request.refundable() == 0
    assert [r[1] for r in order.recorded] == [Decimal("60.00"), Decimal("40.00")]


def test_r_ref_04_two_partial_refunds() -> None:
    """R-REF-04: a request may be refunded in parts; the first part completes it in time
    (R-REF-02) and the order records each part."""
    order = StandInOrder(Decimal("100.00"))
    request = approved_request(amount="100.00")
    first_at, second_at = REQUESTED + timedelta(days=1), REQUESTED + timedelta(days=5)

    request.refund(order=order, amount=Decimal("30.00"), occurred_at=first_at, source=ref("a"))
    request.refund(order=order, amount=Decimal("45.50"), occurred_at=second_at, source=ref("b"))

    assert request.refunds == [Decimal("30.00"), Decimal("45.50")]
    assert request.refunded_total == Decimal("75.50")
    assert order.refunded_total == Decimal("75.50")
    assert [r[3] for r in order.recorded] == ["a", "b"]
    assert outcome(request, COMPLETION).met is True
    assert outcome(request, COMPLETION).actual == first_at - REQUESTED
    assert fact_types(request).count("Refunded") == 2


@pytest.mark.parametrize("amount", ["0.00", "-1.00"])
def test_r_ref_04_refund_of_nothing_is_refused(amount: str) -> None:
    request = approved_request()
    with pytest.raises(RefundRefused):
        request.refund(
            order=StandInOrder(Decimal("100")),
            amount=Decimal(amount),
            occurred_at=REQUESTED,
            source=ref("r"),
        )


def test_r_ref_04_refund_before_the_approval_is_refused() -> None:
    request = approved_request(at=REQUESTED + timedelta(hours=2))
    order = StandInOrder(Decimal("100"))

    with pytest.raises(LateFact):
        request.refund(
            order=order,
            amount=Decimal("1.00"),
            occurred_at=REQUESTED + timedelta(hours=1),
            source=ref("r"),
        )
    assert order.recorded == []


def test_r_ref_02_exchange_and_refund_are_alternatives() -> None:
    exchanged = approved_request()
    exchanged.exchange(new_sku="sku-2", occurred_at=REQUESTED, source=ref("x"))
    refunded = approved_request()
    refunded.refund(
        order=StandInOrder(Decimal("100")),
        amount=Decimal("1.00"),
        occurred_at=REQUESTED,
        source=ref("r"),
    )

    with pytest.raises(RefundRefused):
        exchanged.refund(
            order=StandInOrder(Decimal("100")),
            amount=Decimal("1.00"),
            occurred_at=REQUESTED,
            source=ref("r"),
        )
    with pytest.raises(ReturnRuleViolated):
        refunded.exchange(new_sku="sku-3", occurred_at=REQUESTED, source=ref("y"))
    with pytest.raises(ReturnRuleViolated) as unapproved:
        new_request().exchange(new_sku="sku-3", occurred_at=REQUESTED, source=ref("y"))
    assert unapproved.value.rule == "R-REF-02"


# -- R-REF-05: marketplace merchants --------------------------------------------------------


@pytest.mark.parametrize(("extra", "met"), [(timedelta(0), True), (SECOND, False)])
def test_r_ref_05_merchant_answer_at_48_h_is_met_and_one_second_later_breached(
    extra: timedelta, met: bool
) -> None:
    """R-REF-05: a marketplace merchant answers within 48 h."""
    request = new_request(merchant_id="shop-1", reason="quality", opened=True)
    request.merchant_respond(
        merchant_id="shop-1",
        decision="accept",
        note=None,
        occurred_at=REQUESTED + POLICY.merchant_response + extra,
        source=ref("ev-m"),
    )

    answer = outcome(request, MERCHANT_RESPONSE)
    assert answer.rule == "R-REF-05"
    assert answer.met is met
    assert answer.actual == POLICY.merchant_response + extra
    assert request.merchant_decision == "accept"


def test_r_ref_05_watermark_breaches_a_silent_merchant() -> None:
    request = new_request(merchant_id="shop-1")
    due = REQUESTED + POLICY.merchant_response

    request.advance_clock(due + POLICY.allowed_lateness + SECOND)

    assert outcome(request, MERCHANT_RESPONSE).met is False
    assert outcome(request, MERCHANT_RESPONSE).actual is None


def test_r_ref_05_merchant_rejecting_a_valid_seven_day_return_is_recorded() -> None:
    """R-REF-05: honour the 7-day return: rejecting an unopened no-reason return within
    the window is recorded as ``MerchantRefusedValidReturn``."""
    at = DELIVERED + POLICY.no_reason_return_window  # the last second of the window
    request = new_request(merchant_id="shop-1", at=at)

    request.merchant_respond(
        merchant_id="shop-1",
        decision="reject",
        note="no returns",
        occurred_at=at + timedelta(hours=1),
        source=ref("ev-m"),
    )

    flag = request.pending_events[-1]
    assert isinstance(flag, ReturnRequest.MerchantRefusedValidReturn)
    assert flag.merchant_id == "shop-1"
    assert flag.delivered_at == DELIVERED
    assert flag.requested_at == at
    assert flag.source == ref("ev-m")
    assert request.merchant_refused_valid_return is True
    assert outcome(request, MERCHANT_RESPONSE).met is True


@pytest.mark.parametrize(
    ("reason", "opened", "decision"),
    [("quality", True, "reject"), ("damaged", False, "reject"), ("no_reason", False, "accept")],
)
def test_r_ref_05_other_merchant_answers_are_not_flagged(
    reason: str, opened: bool, decision: str
) -> None:
    request = new_request(merchant_id="shop-1", reason=reason, opened=opened)

    request.merchant_respond(
        merchant_id="shop-1",
        decision=decision,
        note=None,
        occurred_at=REQUESTED,
        source=ref("ev-m"),
    )

    assert "MerchantRefusedValidReturn" not in fact_types(request)
    assert request.merchant_refused_valid_return is False
    assert request.merchant_decision == decision


@pytest.mark.parametrize(("merchant_id", "answering"), [("shop-1", "shop-2"), (None, "shop-1")])
def test_r_ref_05_only_the_request_s_merchant_answers(
    merchant_id: str | None, answering: str
) -> None:
    request = new_request(merchant_id=merchant_id)
    count = len(request.pending_events)

    with pytest.raises(MerchantMismatch) as caught:
        request.merchant_respond(
            merchant_id=answering,
            decision="accept",
            note=None,
            occurred_at=REQUESTED,
            source=ref("ev-m"),
        )

    assert caught.value.rule == "R-REF-05"
    expected = answering if merchant_id else "not a marketplace merchant's"
    assert expected in str(caught.value)
    assert len(request.pending_events) == count


def test_r_ref_05_merchant_answers_once() -> None:
    request = new_request(merchant_id="shop-1")
    request.merchant_respond(
        merchant_id="shop-1", decision="accept", note=None, occurred_at=REQUESTED, source=ref("a")
    )

    with pytest.raises(ReturnAlreadyDecided) as caught:
        request.merchant_respond(
            merchant_id="shop-1",
            decision="reject",
            note=None,
            occurred_at=REQUESTED,
            source=ref("b"),
        )

    assert caught.value.rule == "R-REF-05"
    assert request.merchant_decision == "accept"


# -- duplicates and replay ------------------------------------------------------------------


def test_repeated_source_events_have_no_effect() -> None:
    """A re-delivered event_id changes nothing, on the request or on the order."""
    order = StandInOrder(Decimal("100.00"))
    request = new_request(merchant_id="shop-1")
    request.approve(occurred_at=REQUESTED, source=ref("ev-a"))
    request.refund(order=order, amount=Decimal("20.00"), occurred_at=REQUESTED, source=ref("r"))
    request.merchant_respond(
        merchant_id="shop-1", decision="reject", note=None, occurred_at=REQUESTED, source=ref("m")
    )
    state, count = request.state(), len(request.pending_events)

    request.approve(occurred_at=REQUESTED, source=ref("ev-a"))
    request.approve(occurred_at=REQUESTED, source=ref("ev-req"))
    request.refund(order=order, amount=Decimal("20.00"), occurred_at=REQUESTED, source=ref("r"))
    request.merchant_respond(
        merchant_id="shop-1", decision="reject", note=None, occurred_at=REQUESTED, source=ref("m")
    )
    request.inspect(result="as_described", occurred_at=REQUESTED, source=ref("r"))

    assert len(request.pending_events) == count
    assert request.state() == state
    assert len(order.recorded) == 1
    assert order.refunded_total == Decimal("20.00")


def replay(events: Sequence[Any]) -> ReturnRequest:
    request = reduce(lambda aggregate, event: event.mutate(aggregate), events, None)
    assert isinstance(request, ReturnRequest)
    return request


def test_replay_of_collected_events_equals_the_original() -> None:
    request = new_request(merchant_id="shop-1")
    request.approve(occurred_at=REQUESTED + timedelta(hours=30), source=ref("a"))
    request.refund(
        order=StandInOrder(Decimal("100")),
        amount=Decimal("99.99"),
        occurred_at=REQUESTED + timedelta(days=2),
        source=ref("r"),
    )
    request.merchant_respond(
        merchant_id="shop-1", decision="reject", note="x", occurred_at=REQUESTED, source=ref("m")
    )
    events = request.collect_events()

    replayed = replay(events)

    assert replayed.state() == request.state()
    assert replayed.state()["outcomes"][REVIEW][1] is False
    assert replayed.has_applied("r")


# -- through the handlers, with real orders -------------------------------------------------

NOW = datetime(2026, 12, 31, tzinfo=UTC)
ORDERS = TopicPartition("journey.orders", 0)
RETURNS = TopicPartition("journey.returns", 0)


def body(
    event_type: str,
    data: dict[str, Any],
    *,
    at: datetime,
    event_id: str | None = None,
    customer_id: str = "cust-1",
    channel: str = "app",
) -> dict[str, Any]:
    return {
        "event_id": event_id or unique("ev-"),
        "type": event_type,
        "occurred_at": at.isoformat(),
        "channel": channel,
        "customer_id": customer_id,
        "source": "test",
        "schema_version": 1,
        "data": data,
    }


class Journey:
    """Sends source events through ``prepare_batch``/``commit``, one batch per call, on
    the orders or the returns partition, at consecutive offsets."""

    def __init__(self, app: JourneyApplication) -> None:
        self.app = app
        self.offsets = {ORDERS: 0, RETURNS: 0}

    def send(self, *bodies: dict[str, Any]) -> list[tuple[SourceRef, DomainError]]:
        """One batch, stored: its refusals (nothing of it may be parked)."""
        pending = self.batch(*bodies)
        assert pending.parked == [], f"parked: {pending.parked}"
        return pending.refusals

    def batch(self, *bodies: dict[str, Any]) -> PendingBatch:
        """One batch, stored: what was refused, parked and released."""
        partition = ORDERS if bodies[0]["type"].startswith("order.") else RETURNS
        batch = []
        for item in bodies:
            offset = self.offsets[partition]
            self.offsets[partition] += 1
            source = SourceRef(item["event_id"], partition.topic, partition.partition, offset)
            batch.append((source, validate(item, now=NOW, max_future=timedelta(minutes=5))))
        pending = self.app.prepare_batch(partition, batch, next_offset=self.offsets[partition])
        pending.commit()
        return pending

    def parked(self, item: dict[str, Any], prerequisite_id: UUID, named: str) -> None:
        """``item`` is parked waiting for ``prerequisite_id``, named; nothing applied."""
        before = journey_events(self.app)
        pending = self.batch(item)
        (source,) = [ref for ref, _ in pending.parked]
        assert source.event_id == item["event_id"]
        parked_naming(pending, [source], prerequisite_id, named)
        assert journey_events(self.app) == before
        assert item["event_id"] in waiting_for(self.app, prerequisite_id)

    def refused(self, item: dict[str, Any]) -> DomainError:
        refusals = self.send(item)
        assert len(refusals) == 1, refusals
        source, error = refusals[0]
        assert source.event_id == item["event_id"]
        return error

    def deliver_order(
        self,
        order_id: str = "o-1",
        *,
        paid: str = "300.00",
        customer_id: str = "cust-1",
        delivered: bool = True,
    ) -> None:
        placed = DELIVERED - timedelta(days=3)
        refusals = self.send(
            body(
                "order.placed",
                {
                    "order_id": order_id,
                    "items": [{"sku": "sku-1", "quantity": 1, "unit_price": paid}],
                    "amount_paid": paid,
                    "currency": "CNY",
                    "promised_delivery_at": (DELIVERED + timedelta(days=1)).isoformat(),
                },
                at=placed,
                customer_id=customer_id,
            ),
            body(
                "order.shipped",
                {"order_id": order_id},
                at=placed + timedelta(days=1),
                customer_id=customer_id,
                channel="web",
            ),
        )
        if delivered:
            refusals += self.send(
                body(
                    "order.delivered",
                    {"order_id": order_id},
                    at=DELIVERED,
                    channel="web",
                    customer_id=customer_id,
                )
            )
        assert refusals == []

    def order(self, order_id: str = "o-1") -> Order:
        order: object = self.app.repository.get(Order.create_id(order_id))
        assert isinstance(order, Order)
        return order

    def request(self, return_id: str = "rt-1") -> ReturnRequest:
        request: object = self.app.repository.get(ReturnRequest.create_id(return_id))
        assert isinstance(request, ReturnRequest)
        return request

    def exists(self, return_id: str) -> bool:
        return ReturnRequest.create_id(return_id) in self.app.repository


def requested(
    return_id: str = "rt-1",
    *,
    order_id: str = "o-1",
    at: datetime = REQUESTED,
    amount: str = "100.00",
    **data: Any,
) -> dict[str, Any]:
    fields = {
        "return_id": return_id,
        "order_id": order_id,
        "reason": "no_reason",
        "opened": False,
        "where": "online",
        "amount_requested": amount,
        **data,
    }
    return body("return.requested", fields, at=at)


def approval(
    return_id: str = "rt-1", at: datetime = REQUESTED + timedelta(hours=1)
) -> dict[str, Any]:
    return body("return.approved", {"return_id": return_id}, at=at, channel="web")


def refund(
    amount: str, return_id: str = "rt-1", at: datetime = REQUESTED + timedelta(days=1)
) -> dict[str, Any]:
    return body("refund.refunded", {"return_id": return_id, "amount": amount}, at=at, channel="web")


@pytest.fixture
def journey(tmp_path: Path) -> Iterator[Journey]:
    app = JourneyApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        }
    )
    yield Journey(app)
    app.close()


def test_r_ref_01_to_04_a_return_refunded_in_two_parts_through_the_handlers(
    journey: Journey,
) -> None:
    """R-REF-01 at the 7-day boundary, R-REF-02 review, R-REF-04 two partial refunds that
    the order records too."""
    journey.deliver_order(paid="300.00")
    window = POLICY.no_reason_return_window
    late = requested("rt-late", at=DELIVERED + window + SECOND, amount="200.00")
    on_time = requested("rt-1", at=DELIVERED + window, amount="200.00")

    error = journey.refused(late)
    assert error.rule == "R-REF-01"
    assert not journey.exists("rt-late")

    assert journey.send(on_time) == []
    approved_at = DELIVERED + window + POLICY.return_review
    first_at = approved_at + timedelta(days=1)
    assert (
        journey.send(
            approval(at=approved_at),
            refund("120.00", at=first_at),
            refund("80.00", at=approved_at + timedelta(days=4)),
        )
        == []
    )

    request = journey.request()
    assert request.status == "approved"
    assert request.refunds == [Decimal("120.00"), Decimal("80.00")]
    assert request.outcomes()[REVIEW].met is True
    assert request.outcomes()[COMPLETION].actual == first_at - approved_at
    order = journey.order()
    assert order.refunded_total == Decimal("200.00")
    assert order.refunds == {"rt-1": Decimal("200.00")}
    spent = refund("0.01", at=approved_at + timedelta(days=5))
    assert journey.refused(spent).rule == "R-REF-04"  # all 200.00 requested are refunded
    history = list(journey.app.events.get(request.id))
    assert history[0].source.offset == 1  # type: ignore[attr-defined]


def test_r_ref_04_refund_above_paid_minus_refunded_is_refused_and_nothing_recorded(
    journey: Journey,
) -> None:
    """R-REF-04: two requests for the same order; the second may refund exactly what the
    first left, one cent more is refused, and neither aggregate records anything."""
    journey.deliver_order(paid="100.00")
    assert (
        journey.send(
            requested("rt-a", amount="100.00"),
            requested("rt-b", amount="100.00"),
            approval("rt-a"),
            approval("rt-b"),
            refund("60.00", "rt-a"),
        )
        == []
    )
    order_version = journey.order().version
    request_version = journey.request("rt-b").version

    error = journey.refused(refund("40.01", "rt-b"))

    assert error.rule == "R-REF-04"
    assert isinstance(error, RefundExceedsPaid)
    assert journey.order().version == order_version
    assert journey.order().refunded_total == Decimal("60.00")
    assert journey.request("rt-b").version == request_version
    assert journey.request("rt-b").refunds == []

    assert journey.send(refund("40.00", "rt-b")) == []
    assert journey.order().refunded_total == journey.order().amount_paid
    assert journey.request("rt-b").refunds == [Decimal("40.00")]


def test_r_ref_04_refund_without_approval_is_refused_through_the_handler(
    journey: Journey,
) -> None:
    journey.deliver_order()
    assert journey.send(requested()) == []

    error = journey.refused(refund("10.00"))

    assert isinstance(error, RefundRefused)
    assert error.rule == "R-REF-04"
    assert journey.order().refunded_total == 0
    assert journey.order().refunds == {}


@pytest.mark.parametrize(
    "item",
    [
        approval("rt-missing"),
        body("return.rejected", {"return_id": "rt-missing", "reason": "x"}, at=REQUESTED),
        body(
            "return.inspected", {"return_id": "rt-missing", "result": "as_described"}, at=REQUESTED
        ),
        refund("1.00", "rt-missing"),
        body("return.exchanged", {"return_id": "rt-missing", "new_sku": "s"}, at=REQUESTED),
        body(
            "merchant.responded",
            {"return_id": "rt-missing", "merchant_id": "shop-1", "decision": "accept"},
            at=REQUESTED,
            channel="marketplace",
        ),
    ],
    ids=lambda item: item["type"],
)
def test_event_for_an_unknown_return_is_parked_naming_it(
    journey: Journey, item: dict[str, Any]
) -> None:
    """A return event naming a return not requested yet waits for the request; once it is
    requested the event is applied, or refused by the return's rules, as if it had come
    after the request."""
    journey.deliver_order()
    early = {**item, "occurred_at": (REQUESTED + timedelta(hours=1)).isoformat()}
    journey.parked(early, ReturnRequest.create_id("rt-missing"), "rt-missing")
    assert not journey.exists("rt-missing")

    pending = journey.batch(requested("rt-missing", merchant_id="shop-1"))

    assert waiting_for(journey.app, ReturnRequest.create_id("rt-missing")) == []
    released = [w.event_id for w in pending.released]
    refused = [r.waiting.event_id for r in pending.released_refusals]
    assert sorted(released + refused) == [item["event_id"]]
    if released:
        assert journey.request("rt-missing").has_applied(item["event_id"])


def test_return_of_an_unknown_order_is_parked_naming_it(journey: Journey) -> None:
    item = requested(order_id="o-missing")

    journey.parked(item, Order.create_id("o-missing"), "o-missing")

    assert not journey.exists("rt-1")


def test_return_of_another_customer_s_order_or_request_is_refused(journey: Journey) -> None:
    journey.deliver_order("o-2", customer_id="cust-2")
    journey.deliver_order("o-1")
    assert journey.send(requested("rt-1")) == []

    foreign_order = journey.refused(requested("rt-2", order_id="o-2"))
    foreign_return = journey.refused(
        body("return.approved", {"return_id": "rt-1"}, at=REQUESTED, customer_id="cust-2")
    )

    assert isinstance(foreign_order, NotFound)
    assert "o-2" in str(foreign_order)
    assert isinstance(foreign_return, NotFound)
    assert journey.request().status == "requested"


def test_r_ref_01_return_of_an_undelivered_order_waits_for_the_delivery(
    journey: Journey,
) -> None:
    """R-REF-01 counts from delivery: a return of an order not delivered yet waits for the
    delivery (a return's and an order's events come on different topics), then is
    decided as if it had come after it."""
    journey.deliver_order(delivered=False)

    journey.parked(requested(), Order.create_id("o-1"), "'o-1' is not delivered yet")
    assert not journey.exists("rt-1")

    pending = journey.batch(
        body("order.delivered", {"order_id": "o-1"}, at=DELIVERED, channel="web")
    )

    assert [w.event_id for w in pending.released] != []
    assert journey.request().status == "requested"
    assert journey.request().delivered_at == DELIVERED
    assert waiting_for(journey.app, Order.create_id("o-1")) == []


def test_r_ref_01_a_return_requested_before_the_delivery_is_refused_once_it_comes(
    journey: Journey,
) -> None:
    journey.deliver_order(delivered=False)
    early = requested(at=DELIVERED - timedelta(hours=1))
    journey.parked(early, Order.create_id("o-1"), "o-1")

    pending = journey.batch(
        body("order.delivered", {"order_id": "o-1"}, at=DELIVERED, channel="web")
    )

    (refusal,) = pending.released_refusals
    assert refusal.waiting.event_id == early["event_id"]
    assert "R-REF-01" in refusal.reason
    assert "before the order's delivery" in refusal.reason
    assert not journey.exists("rt-1")


def test_r_ref_01_return_of_a_cancelled_order_is_refused_through_the_handler(
    journey: Journey,
) -> None:
    """An order cancelled is never delivered: its return is refused at once, and one that
    waited for the delivery is refused when the cancellation comes."""
    journey.deliver_order(delivered=False)
    waiting = requested("rt-1")
    journey.parked(waiting, Order.create_id("o-1"), "o-1")

    pending = journey.batch(
        body(
            "order.cancelled",
            {"order_id": "o-1", "reason": "customer"},
            at=DELIVERED,
            channel="web",
        )
    )

    assert [r.waiting.event_id for r in pending.released_refusals] == [waiting["event_id"]]
    assert "R-REF-01" in pending.released_refusals[0].reason
    error = journey.refused(requested("rt-2"))
    assert error.rule == "R-REF-01"
    assert not journey.exists("rt-1")
    assert not journey.exists("rt-2")


def test_repeated_source_events_have_no_effect_through_the_handlers(journey: Journey) -> None:
    """A re-delivered ``return.requested`` or ``refund.refunded`` changes nothing, in the
    same batch or a later one; another event opening the same return id is refused."""
    journey.deliver_order()
    opening = requested()
    money = refund("30.00")
    assert journey.send(opening, opening, approval(), money, money) == []
    version, order_version = journey.request().version, journey.order().version

    assert journey.send(opening, money) == []
    again = journey.refused(requested())  # same return id, another event id

    assert isinstance(again, ReturnExists)
    assert "rt-1" in str(again)
    assert journey.request().version == version
    assert journey.request().refunds == [Decimal("30.00")]
    assert journey.order().version == order_version
    assert journey.order().refunded_total == Decimal("30.00")


def test_r_ref_05_merchant_answers_through_the_handlers(journey: Journey) -> None:
    """R-REF-05: only the request's merchant answers; rejecting a valid 7-day return is
    stored as ``MerchantRefusedValidReturn``, within 48 h it still meets the clock."""
    journey.deliver_order()
    assert journey.send(requested(merchant_id="shop-1")) == []
    answer = {"return_id": "rt-1", "merchant_id": "shop-2", "decision": "reject"}

    wrong = journey.refused(body("merchant.responded", answer, at=REQUESTED, channel="marketplace"))
    assert isinstance(wrong, MerchantMismatch)
    assert wrong.rule == "R-REF-05"

    answered_at = REQUESTED + POLICY.merchant_response
    assert (
        journey.send(
            body(
                "merchant.responded",
                {**answer, "merchant_id": "shop-1", "note": "opened box"},
                at=answered_at,
                channel="marketplace",
            )
        )
        == []
    )

    request = journey.request()
    stored = list(journey.app.events.get(request.id))
    flags = [e for e in stored if isinstance(e, ReturnRequest.MerchantRefusedValidReturn)]
    assert [f.merchant_id for f in flags] == ["shop-1"]
    assert request.merchant_refused_valid_return is True
    assert request.outcomes()[MERCHANT_RESPONSE].met is True


def test_r_ref_02_watermark_breaches_an_unreviewed_stored_online_request(
    journey: Journey,
) -> None:
    """R-REF-02: a stored, unreviewed online request is breached by the watermark; the
    approval that happened in time, arriving later, settles it as met."""
    journey.deliver_order()
    assert journey.send(requested()) == []
    due = REQUESTED + POLICY.return_review
    request = journey.request()
    request.advance_clock(due + POLICY.allowed_lateness + SECOND)
    journey.app.save(request)
    assert journey.request().outcomes()[REVIEW].met is False

    assert journey.send(approval(at=due)) == []

    review = journey.request().outcomes()[REVIEW]
    assert review.met is True
    assert review.actual == POLICY.return_review
    assert journey.request().state() == replay(list(journey.app.events.get(request.id))).state()

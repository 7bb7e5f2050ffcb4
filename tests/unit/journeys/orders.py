"""The rules of the orders and what follows them: modifications, stock-outs, delays
(R-ORD-01, R-ORD-02, R-ORD-04), returns and refunds (R-REF-01..05), callbacks (R-SAT-04)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from tests.unit.journeys.machine import JourneyMachineBase, step
from tests.unit.journeys.model import CallbackM, OrderM, ReturnM, choose, prefer
from tests.unit.journeys.setting import (
    CUSTOMERS,
    DELIVERY,
    DUE_IN,
    GAPS,
    MAX_CALLBACKS,
    MAX_ORDERS,
    MAX_RETURNS,
    OUT_OF_STOCK_NOOP,
    PARKED,
    PICK,
    POLICY,
    SHORT_GAPS,
    SKUS,
    cents,
    money,
)


class OrderRules(JourneyMachineBase):
    """Orders, their returns and refunds, and callbacks."""

    # -- orders (R-ORD) ---------------------------------------------------------------------

    @precondition(lambda self: len(self.orders) < MAX_ORDERS)
    @rule(
        customer=st.sampled_from(CUSTOMERS),
        gap=GAPS,
        lines=st.lists(
            st.tuples(st.sampled_from(SKUS), st.integers(1, 3), st.integers(0, 40_000)),
            min_size=1,
            max_size=3,
            unique_by=lambda line: line[0],
        ),
        promised_in=DUE_IN,
    )
    @step
    def order_placed(
        self,
        customer: str,
        gap: timedelta,
        lines: list[tuple[str, int, int]],
        promised_in: timedelta,
    ) -> None:
        """R-ORD-04: the promised date starts its clock; R-REF-04: the amount paid caps
        refunds."""
        at = self.tick(customer, gap)
        order = OrderM(
            order_id=self.new_id("o"),
            customer=customer,
            skus=[sku for sku, _, _ in lines],
            paid=money(sum(quantity * price for _, quantity, price in lines)),
            promised=at + promised_in,
        )
        self.orders[order.order_id] = order
        self.created(order.aid, customer)
        data = {
            "order_id": order.order_id,
            "items": [
                {"sku": sku, "quantity": quantity, "unit_price": str(money(price))}
                for sku, quantity, price in lines
            ],
            "amount_paid": str(order.paid),
            "currency": "CNY",
            "promised_delivery_at": order.promised.isoformat(),
        }
        self.send(customer, at, "order.placed", data, touches=[order.aid])

    def order_moved(self, order: OrderM, at: datetime, cancel: bool) -> None:
        """Shipped, delivered (stops R-ORD-04), or cancelled before delivery; only in the
        status that allows it (the others are refused without a rule id)."""
        data: dict[str, Any] = {"order_id": order.order_id}
        if cancel:
            order.status = "cancelled"
            data["reason"] = "customer changed their mind"
            event_type = "order.cancelled"
        elif order.status == "placed":
            order.status = "shipped"
            data["carrier"] = "SF Express"
            event_type = "order.shipped"
        else:
            assert order.status == "shipped"
            order.status = "delivered"
            order.delivered_at = at
            event_type = "order.delivered"
        self.send(order.customer, at, event_type, data, touches=[order.aid])

    @precondition(lambda self: bool(self.orders))
    @rule(
        pick=PICK,
        gap=GAPS,
        what=st.sampled_from(["modify", "sync", "stock_out", "notify", "delay", "not_later"]),
        which=PICK,
        later_by=DUE_IN,
    )
    @step
    def order_event(
        self, pick: int, gap: timedelta, what: str, which: int, later_by: timedelta
    ) -> None:
        """R-ORD-01 modifications (while placed) and their sync; R-ORD-02 stock-outs (while
        placed) and the notice with the three options; R-ORD-04 a later promised date
        announced before delivery (one not later on purpose)."""
        good: Callable[[OrderM], bool] = {
            "sync": lambda o: bool(o.modifications),
            "notify": lambda o: bool(o.awaiting_notice),
            "delay": lambda o: o.status in ("placed", "shipped"),
        }.get(what, lambda o: o.status == "placed")
        order = prefer(self.orders.values(), good, pick)
        assert order is not None
        at = self.tick(order.customer, gap)
        expect: str | None = None
        bug: str | None = None
        data: dict[str, Any] = {"order_id": order.order_id}
        if what == "modify":
            event_type = "order.modified"
            modification_id = self.new_id("mod-")
            data |= {
                "modification_id": modification_id,
                "changes": {"address": "88 Huaihai Rd"},
                "systems": ["oms", "wms"],
            }
            if order.status == "placed":
                order.modifications[modification_id] = False
            else:
                expect = "R-ORD-01"
        elif what == "sync":
            event_type = "order.synced"
            modification_id = choose(sorted(order.modifications), which) or "mod-none"
            data["modification_id"] = modification_id
            if modification_id in order.modifications:
                order.modifications[modification_id] = True
            else:
                expect = "R-ORD-01"
        elif what in ("stock_out", "notify"):
            sku = prefer(order.skus, lambda s: s in order.awaiting_notice, which)
            assert sku is not None
            data["sku"] = sku
            if what == "stock_out":
                event_type = "order.out_of_stock"
                if order.status != "placed":
                    expect = "R-ORD-02"
                else:
                    bug = OUT_OF_STOCK_NOOP if sku in order.awaiting_notice else None
                    order.awaiting_notice.add(sku)
            else:
                event_type = "order.customer_notified"
                data["options"] = ["store_transfer", "similar_product", "restock_reminder"]
                if order.status not in ("placed", "shipped") or sku not in order.awaiting_notice:
                    expect = "R-ORD-02"
                else:
                    order.awaiting_notice.discard(sku)
        else:
            event_type = "order.delay_announced"
            new = order.promised if what == "not_later" else max(order.promised, at) + later_by
            data |= {"new_promised_delivery_at": new.isoformat(), "reason": "weather"}
            if order.status not in ("placed", "shipped") or new <= order.promised or new <= at:
                expect = "R-ORD-04"
            else:
                order.promised = new
        self.send(
            order.customer,
            at,
            event_type,
            data,
            expect=expect,
            touches=[order.aid],
            redelivery_bug=bug,
        )

    # -- returns and refunds (R-REF) --------------------------------------------------------

    def return_requested(
        self,
        order: OrderM,
        at: datetime,
        *,
        reason: str,
        opened: bool,
        where: str,
        has_receipt: bool,
        merchant: bool,
        requested: Decimal,
    ) -> None:
        """R-REF-01: within 7 days of delivery for unopened goods, 30 days for goods at
        fault; a cancelled order or a late request is refused (R-REF-04: a request for
        nothing too); a request for an order not delivered yet waits for the delivery (or
        the cancellation), refused then: it was made before."""
        own_reason = reason in ("no_reason", "other")
        window = POLICY.no_reason_return_window if own_reason else POLICY.quality_repair_window
        expect: str | None = None
        awaits_delivery = order.delivered_at is None and order.status != "cancelled"
        if awaits_delivery:
            expect = PARKED  # let in by the delivery (refused then: requested before it)
        elif requested <= 0:
            expect = "R-REF-04"
        elif (
            order.delivered_at is None
            or at - order.delivered_at > window
            or (own_reason and opened)
        ):
            expect = "R-REF-01"
        request = ReturnM(
            return_id=self.new_id("r"),
            customer=order.customer,
            order_id=order.order_id,
            requested=requested,
            merchant_id="shop-88" if merchant else None,
        )
        if expect is None:
            self.returns[request.return_id] = request
            self.created(request.aid, request.customer)
        data: dict[str, Any] = {
            "return_id": request.return_id,
            "order_id": order.order_id,
            "reason": reason,
            "opened": opened,
            "where": where,
            "has_receipt": has_receipt,
            "amount_requested": str(requested),
        }
        if merchant:
            data["merchant_id"] = "shop-88"
        self.send(
            order.customer,
            at,
            "return.requested",
            data,
            channel="marketplace" if merchant else "web",
            expect=expect,
            touches=[] if awaits_delivery else [request.aid],
            waits_for=order.aid if awaits_delivery else None,
            on_release="R-REF-01",
            lets_in=DELIVERY,
        )

    def return_decided(self, request: ReturnM, at: datetime, approve: bool) -> None:
        """R-REF-02: approved or rejected once."""
        expect = None if request.status == "requested" else "R-REF-02"
        data: dict[str, Any] = {"return_id": request.return_id}
        if not approve:
            data["reason"] = "seal broken"
        if expect is None:
            request.status = "approved" if approve else "rejected"
        event_type = "return.approved" if approve else "return.rejected"
        self.send(request.customer, at, event_type, data, expect=expect, touches=[request.aid])

    def refund_refunded(self, request: ReturnM, at: datetime, mode: str, share: int) -> None:
        """R-REF-04: refunds in parts, never above what the request may still be refunded
        nor above the order's paid minus refunded; ``over`` and ``zero`` on purpose."""
        order = self.orders[request.order_id]
        limit = min(cents(request.requested - request.refunded), cents(order.paid - order.refunded))
        amount = money(
            {
                "part": max(1, limit * share // 100),
                "rest": limit,
                "over": limit + share,
                "zero": 0,
            }[mode]
        )
        ok = (
            request.status == "approved"
            and not request.exchanged
            and 0 < amount <= request.requested - request.refunded
            and amount <= order.paid - order.refunded
        )
        if ok:
            request.refunded += amount
            order.refunded += amount
        data = {"return_id": request.return_id, "amount": str(amount)}
        self.send(
            request.customer,
            at,
            "refund.refunded",
            data,
            expect=None if ok else "R-REF-04",
            touches=(request.aid, order.aid),
        )

    def callback_scheduled(self, order: OrderM, at: datetime, due_in: timedelta | None) -> None:
        """R-SAT-04: 7 days after the order's delivery (``due_in`` None; an undelivered
        order is refused), or at a given due time (a birthday)."""
        callback = CallbackM(self.new_id("cb"), order.customer)
        data: dict[str, Any] = {"callback_id": callback.callback_id}
        expect: str | None = None
        if due_in is None:
            data |= {"reason": "after_delivery", "order_id": order.order_id}
            if order.delivered_at is None and order.status != "cancelled":
                # Waits for the delivery (or the cancellation); refused then: it was
                # scheduled before it.
                self.send(
                    order.customer,
                    at,
                    "callback.scheduled",
                    data,
                    channel="phone",
                    expect=PARKED,
                    waits_for=order.aid,
                    on_release="R-SAT-04",
                    lets_in=DELIVERY,
                )
                return
            expect = None if order.delivered_at is not None else "R-SAT-04"
        else:
            data |= {"reason": "birthday", "due_at": (at + due_in).isoformat()}
        if expect is None:
            self.callbacks[callback.callback_id] = callback
            self.created(callback.aid, callback.customer)
        self.send(
            order.customer,
            at,
            "callback.scheduled",
            data,
            channel="phone",
            expect=expect,
            touches=[callback.aid],
        )

    def callback_ended(self, callback: CallbackM, at: datetime, completed: bool) -> None:
        """R-SAT-04: a callback completes with an outcome, or is missed, once."""
        expect = "R-SAT-04" if callback.ended else None
        callback.ended = True
        data: dict[str, Any] = {"callback_id": callback.callback_id}
        if completed:
            data["outcome"] = "reached"
        self.send(
            callback.customer,
            at,
            "callback.completed" if completed else "callback.missed",
            data,
            channel="phone",
            expect=expect,
            touches=[callback.aid],
        )

    @precondition(lambda self: bool(self.orders))
    @rule(
        pick=PICK,
        gap=GAPS,
        short_gap=SHORT_GAPS,
        cancel=st.sampled_from([False, False, False, False, True]),
        requested_share=st.integers(1, 120),
        share=st.integers(1, 100),
        which=PICK,
    )
    @step
    def order_next_step(
        self,
        pick: int,
        gap: timedelta,
        short_gap: timedelta,
        cancel: bool,
        requested_share: int,
        share: int,
        which: int,
    ) -> None:
        """An order one step further on its usual path: shipped, delivered (or cancelled),
        a return requested soon after (R-REF-01) for up to a bit more than was paid,
        approved (R-REF-02), refunded in parts (R-REF-04), a callback 7 days after the
        delivery (R-SAT-04) and its completion."""
        order = choose(list(self.orders.values()), pick)
        assert order is not None
        if order.status in ("placed", "shipped"):
            self.order_moved(order, self.tick(order.customer, gap), cancel)
            return
        if order.status == "cancelled":
            return
        returns = [r for r in self.returns.values() if r.order_id == order.order_id]
        undecided = [r for r in returns if r.status == "requested"]
        refundable = [r for r in returns if r.status == "approved" and r.refunded < r.requested]
        callbacks = [c for c in self.callbacks.values() if not c.ended]
        if not returns and len(self.returns) < MAX_RETURNS and which % 3:
            self.return_requested(
                order,
                self.tick(order.customer, short_gap),
                reason="quality",
                opened=True,
                where="online",
                has_receipt=False,
                merchant=False,
                requested=money(max(1, cents(order.paid) * requested_share // 100)),
            )
        elif undecided:
            self.return_decided(undecided[0], self.tick(order.customer, gap), approve=True)
        elif refundable and which % 3:
            mode = "part" if share < 70 else "rest"
            self.refund_refunded(refundable[0], self.tick(order.customer, gap), mode, share)
        elif len(self.callbacks) < MAX_CALLBACKS:
            self.callback_scheduled(order, self.tick(order.customer, gap), None)
        elif callbacks:
            self.callback_ended(callbacks[0], self.tick(callbacks[0].customer, gap), True)

    @precondition(lambda self: bool(self.orders))
    @rule(
        pick=PICK,
        gap=st.one_of(SHORT_GAPS, GAPS),
        reason=st.sampled_from(["no_reason", "other", "quality", "damaged", "wrong_item"]),
        opened=st.booleans(),
        where=st.sampled_from(["online", "store"]),
        has_receipt=st.booleans(),
        merchant=st.booleans(),
        requested=st.integers(0, 100_000),
    )
    @step
    def any_return_requested(
        self,
        pick: int,
        gap: timedelta,
        reason: str,
        opened: bool,
        where: str,
        has_receipt: bool,
        merchant: bool,
        requested: int,
    ) -> None:
        """A return of any order at any time (R-REF-01: in its window or refused)."""
        if len(self.returns) >= MAX_RETURNS:
            return
        order = prefer(self.orders.values(), lambda o: o.delivered_at is not None, pick)
        assert order is not None
        self.return_requested(
            order,
            self.tick(order.customer, gap),
            reason=reason,
            opened=opened,
            where=where,
            has_receipt=has_receipt,
            merchant=merchant,
            requested=money(requested),
        )

    @precondition(lambda self: bool(self.returns))
    @rule(
        pick=PICK,
        gap=GAPS,
        what=st.sampled_from(
            [
                "approve",
                "reject",
                "refund",
                "refund",
                "exchange",
                "inspect",
                "merchant_accept",
                "merchant_reject",
            ]
        ),
        mode=st.sampled_from(["part", "part", "rest", "over", "zero"]),
        share=st.integers(1, 100),
    )
    @step
    def return_event(self, pick: int, gap: timedelta, what: str, mode: str, share: int) -> None:
        """Any event of a return: R-REF-02 decided once, exchanged once approved; R-REF-03
        inspected once; R-REF-04 refunds (over the limit on purpose); R-REF-05 the
        marketplace merchant answers once."""
        good: Callable[[ReturnM], bool] = {
            "approve": lambda r: r.status == "requested",
            "reject": lambda r: r.status == "requested",
            "refund": lambda r: r.status == "approved" and r.refunded < r.requested,
            "exchange": lambda r: r.status == "approved" and not r.refunded,
            "inspect": lambda r: not r.inspected,
        }.get(what, lambda r: r.merchant_id is not None and not r.merchant_answered)
        request = prefer(self.returns.values(), good, pick)
        assert request is not None
        at = self.tick(request.customer, gap)
        if what in ("approve", "reject"):
            self.return_decided(request, at, what == "approve")
            return
        if what == "refund":
            self.refund_refunded(request, at, mode, share)
            return
        expect: str | None = None
        data: dict[str, Any] = {"return_id": request.return_id}
        if what == "exchange":
            event_type = "return.exchanged"
            data["new_sku"] = "KT-2209-BLK"
            if request.status != "approved" or request.exchanged or request.refunded:
                expect = "R-REF-02"
            else:
                request.exchanged = True
        elif what == "inspect":
            event_type = "return.inspected"
            data["result"] = "as_described"
            if request.inspected:
                expect = "R-REF-03"
            request.inspected = True
        else:
            event_type = "merchant.responded"
            data |= {"merchant_id": "shop-88", "decision": what.removeprefix("merchant_")}
            if request.merchant_id is None or request.merchant_answered:
                expect = "R-REF-05"
            request.merchant_answered = request.merchant_id is not None
        self.send(request.customer, at, event_type, data, expect=expect, touches=[request.aid])

    # -- callbacks (R-SAT-04) ---------------------------------------------------------------

    @precondition(lambda self: bool(self.orders) or bool(self.callbacks))
    @rule(
        pick=PICK,
        gap=GAPS,
        what=st.sampled_from(["after_delivery", "birthday", "completed", "missed"]),
        due_in=DUE_IN,
    )
    @step
    def callback_event(self, pick: int, gap: timedelta, what: str, due_in: timedelta) -> None:
        """Callbacks scheduled after a delivery (an undelivered order is refused) or on a
        birthday, then completed or missed once (R-SAT-04)."""
        if what in ("completed", "missed"):
            callback = prefer(self.callbacks.values(), lambda c: not c.ended, pick)
            if callback is not None:
                at = self.tick(callback.customer, gap)
                self.callback_ended(callback, at, what == "completed")
            return
        order = prefer(self.orders.values(), lambda o: o.delivered_at is not None, pick)
        if order is not None and len(self.callbacks) < MAX_CALLBACKS:
            at = self.tick(order.customer, gap)
            self.callback_scheduled(order, at, None if what == "after_delivery" else due_in)

"""Orders as a query surface (issue 15, items 3 and 4): ``OrderCounts`` answers the total of
a filter and its groups in one query each; for any orders, any zone and any dimensions, the
groups are what the orders' own rows say (each order once per value of each dimension), a
single-valued dimension's groups add up to the total, and a group's count is the total of
the filter on its value."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import timedelta
from itertools import product
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import SQLiteReadStore
from projections.group_counts import UnknownDimension
from projections.orders import OrderFilter
from projections.orders.counts import OrderCounts
from tests.builders.apps import make_app
from tests.builders.orders import new_projection, notifications
from tests.builders.source_attributes import T0, envelope
from tests.unit.feeding import Feed

ZONES = ("UTC", "Asia/Shanghai", "Asia/Kathmandu", "America/St_Johns")
DIMENSIONS = (
    "status",
    "channel",
    "store",
    "late",
    "breached_rule",
    "placed_day",
    "placed_month",
    "placed_year",
    "attribute.order_status",
)


def placed(n: int, status: str | None, hours: int) -> Any:
    return envelope(
        "order.placed",
        {
            "order_id": f"o-{n}",
            "items": [{"sku": "KT-1", "quantity": 1, "unit_price": "10.00"}],
            "amount_paid": "10.00",
            "currency": "CNY",
            "promised_delivery_at": (T0 + timedelta(hours=hours, days=3)).isoformat(),
        },
        event_id=f"ev-o-{n}",
        at=T0 + timedelta(hours=hours),
        customer=f"cust-o{n}",
        attributes={"order_status": status} if status else None,
    )


def expected(row: dict[str, Any], name: str, zone: ZoneInfo) -> list[str | None]:
    """The groups an order is in, from its row as ``/v1/orders`` answers it."""
    local = T0.fromisoformat(row["placed_at"]).astimezone(zone).date().isoformat()
    by_name: dict[str, list[str | None]] = {
        "status": [row["status"]],
        "channel": [row["channel"]],
        "store": [row["store_id"]],
        "late": ["true" if row["delivered_late"] else "false"],
        "breached_rule": list(row["breached_rules"]) or [None],
        "placed_day": [local],
        "placed_month": [local[:7]],
        "placed_year": [local[:4]],
        "attribute.order_status": [row["attributes"].get("order_status")],
    }
    return by_name[name]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    orders=st.lists(
        st.tuples(
            # Any characters: a bar, a percent sign, what an escape looks like (labels escape them)
            st.sampled_from(["delivered", "canceled", "a|b", "100%", "x%7Cy", "k=v", None]),
            st.integers(0, 24 * 400),
        ),
        min_size=1,
        max_size=8,
    ),
    zone=st.sampled_from(ZONES),
    dimensions=st.lists(st.sampled_from(DIMENSIONS), min_size=0, max_size=3, unique=True),
)
def test_the_groups_are_what_the_rows_say_and_add_up(
    orders: list[tuple[str | None, int]], zone: str, dimensions: list[str]
) -> None:
    tz = ZoneInfo(zone)
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        projection = new_projection(SQLiteReadStore(Path(folder) / "rm.sqlite"))
        try:
            events = [placed(n, status, hours) for n, (status, hours) in enumerate(orders)]
            assert Feed(app)(*events) == []
            projection.process(notifications(app))
            rows = projection.orders(500)
            counts = OrderCounts(projection)
            answer = counts.counts(OrderFilter(), dimensions, tz)
            assert answer.total == len(orders)
            want: Counter[tuple[str | None, ...]] = Counter()
            for row in rows:
                for key in product(*(expected(row, d, tz) for d in dimensions)):
                    want[key] += 1
            got = Counter({tuple(k[d] for d in dimensions): n for k, n in answer.groups})
            assert got == (want if dimensions else Counter())
            if dimensions and "breached_rule" not in dimensions:
                assert sum(got.values()) == answer.total  # one value each
            for status in {s for s, _ in orders if s}:
                held = OrderFilter(attributes=(("order_status", status),))
                grouped = counts.counts(OrderFilter(), ["attribute.order_status"], tz)
                assert (
                    counts.counts(held).total
                    == dict((k["attribute.order_status"], n) for k, n in grouped.groups)[status]
                )
        finally:
            projection.store.close()
            app.close()


def test_an_unknown_dimension_is_refused(tmp_path: Path) -> None:
    projection = new_projection(SQLiteReadStore(tmp_path / "rm.sqlite"))
    with pytest.raises(UnknownDimension, match="placed_day"):
        OrderCounts(projection).counts(OrderFilter(), ["attribute.zip_code"])
    projection.store.close()

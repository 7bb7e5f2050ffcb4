"""R-CUS-05: the RFM and lifecycle segments of one customer at an instant of event time,
computed when asked from the customer's order documents (see ``projections.customer360``
for the definitions). The thresholds are defined here and nowhere else."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

# -- R-CUS-05 thresholds: the one place they are defined --------------------------------------

RFM_WINDOW = timedelta(days=365)
"""R-CUS-05: frequency and monetary count purchases placed in this window up to ``as_of``
(inclusive: a purchase exactly 365 days before counts)."""
CORE_RECENCY = timedelta(days=90)
"""R-CUS-05 ``core``: the latest purchase at most this long before ``as_of``."""
CORE_MIN_ORDERS = 3
"""R-CUS-05 ``core``: at least this many purchases in ``RFM_WINDOW``."""
CORE_MIN_SPEND = Decimal("1000.00")
"""R-CUS-05 ``core``: at least this net spend (paid minus refunded) in ``RFM_WINDOW``."""
CHURN_SILENCE = timedelta(days=180)
"""R-CUS-05 ``churn_risk``: a buyer whose latest purchase is more than this before ``as_of``."""
NEW_WINDOW = timedelta(days=30)
"""R-CUS-05 lifecycle ``new``: the first purchase at most this long before ``as_of``."""
ACTIVE_WINDOW = timedelta(days=90)
"""R-CUS-05 lifecycle ``active`` (at most this long since the latest purchase) versus
``dormant`` (longer)."""


def iso(at: datetime) -> str:
    """UTC ISO 8601. Two such strings compare like the instants they name (the fixed-width
    part first; without fractional seconds ``+`` sorts before ``.``)."""
    return at.astimezone(UTC).isoformat()


def _purchases(orders: Iterable[dict[str, Any]], as_of: str) -> list[tuple[str, Decimal]]:
    """(placed_at, net amount) of the orders that count as purchases at ``as_of``: placed
    by then and not cancelled by then; net of the refunds made by then."""
    found = []
    for order in orders:
        cancelled = order["cancelled_at"]
        if order["placed_at"] > as_of or (cancelled is not None and cancelled <= as_of):
            continue
        refunded = sum(
            (Decimal(r["amount"]) for r in order["refunds"] if r["at"] <= as_of), Decimal(0)
        )
        found.append((order["placed_at"], Decimal(order["amount"]) - refunded))
    return sorted(found)


def segments_of(
    orders: Iterable[dict[str, Any]], first_seen_at: str | None, as_of: datetime
) -> dict[str, Any]:
    """R-CUS-05: the RFM and lifecycle segments of one customer at ``as_of`` (event time),
    from its order documents and the time of its first fact. Thresholds: module constants."""
    at = iso(as_of)
    purchases = _purchases(orders, at)
    result: dict[str, Any] = {
        "rule": "R-CUS-05",
        "as_of": at,
        "rfm": None,
        "lifecycle": None,
        "recency_days": None,
        "frequency": 0,
        "monetary": "0",
        "first_purchase_at": None,
        "last_purchase_at": None,
    }
    if not purchases:
        if first_seen_at is not None and first_seen_at <= at:
            result["lifecycle"] = "potential"
        return result
    first, last = purchases[0][0], purchases[-1][0]
    recency = as_of - datetime.fromisoformat(last)
    since_first = as_of - datetime.fromisoformat(first)
    window_start = iso(as_of - RFM_WINDOW)
    in_window = [net for placed, net in purchases if placed >= window_start]
    frequency, monetary = len(in_window), sum(in_window, Decimal(0))
    if recency > CHURN_SILENCE:
        rfm = "churn_risk"
    elif recency <= CORE_RECENCY and frequency >= CORE_MIN_ORDERS and monetary >= CORE_MIN_SPEND:
        rfm = "core"
    else:
        rfm = "potential"
    if since_first <= NEW_WINDOW:
        lifecycle = "new"
    elif recency <= ACTIVE_WINDOW:
        lifecycle = "active"
    else:
        lifecycle = "dormant"
    result.update(
        rfm=rfm,
        lifecycle=lifecycle,
        recency_days=recency.days,
        frequency=frequency,
        monetary=str(monetary),
        first_purchase_at=first,
        last_purchase_at=last,
    )
    return result

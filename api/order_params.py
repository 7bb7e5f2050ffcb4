"""The orders' filter as query parameters, declared once for every route that reads orders
(their pages and CSV, their counts)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from api.ledger_params import AttributeQuery, attribute_pairs
from api.times import DATE_NOTE, From, To
from projections.orders import OrderFilter

Text = Annotated[str | None, Query(max_length=200)]
Rule = Annotated[
    str | None,
    Query(
        pattern=r"^R-[A-Z]{2,4}-[0-9]{2}$",
        description="Only rows with a breach of this rule (e.g. `R-ORD-04`).",
    ),
]
Breached = Annotated[
    bool | None, Query(description="Only rows with (true) or without (false) a breach.")
]


def order_filter(
    placed_from: Annotated[
        From | None, Query(description="Placed at or after." + DATE_NOTE)
    ] = None,
    placed_to: Annotated[To | None, Query(description="Placed before." + DATE_NOTE)] = None,
    status: Annotated[
        Literal["placed", "shipped", "delivered", "cancelled"] | None, Query()
    ] = None,
    customer_id: Text = None,
    channel: Text = None,
    store: Text = None,
    late: Annotated[
        bool | None,
        Query(description="Only orders delivered after the promise in force (true), or not."),
    ] = None,
    breached: Breached = None,
    rule: Rule = None,
    attribute: AttributeQuery = None,
) -> OrderFilter:
    return OrderFilter(
        placed_from, placed_to, status, customer_id, channel, store, late, breached, rule,
        attribute_pairs(attribute or []),
    )  # fmt: skip


OrderFilterDep = Annotated[OrderFilter, Depends(order_filter)]

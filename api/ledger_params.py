"""The ledger's filter as query parameters, declared once for every route that reads the
ledger (its pages and CSV, its counts); the source-attribute filter, shared with orders."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from api.errors import ApiError
from api.times import DATE_NOTE, From, To
from contracts.attributes import ATTRIBUTES
from projections.ledger import LedgerFilter

Text = Annotated[str | None, Query(max_length=200)]
Score = Annotated[int | None, Query(ge=1, le=5)]
AttributeQuery = Annotated[
    list[str] | None,
    Query(
        max_length=16,
        description="Source attributes held, each `name:value` (e.g. `submitted_via:Postal"
        " mail`, `order_status:canceled`); several: every one. Names: docs/events.md.",
    ),
]


def attribute_pairs(given: list[str]) -> tuple[tuple[str, str], ...]:
    held: list[tuple[str, str]] = []
    for item in given:
        name, sep, value = item.partition(":")
        if not sep or name not in ATTRIBUTES or not value:
            reason = f"expected name:value with a declared name ({', '.join(sorted(ATTRIBUTES))})"
            raise ApiError(
                422,
                "invalid_request",
                f"attribute: {item[:64]!r}: {reason}",
                problems=[{"field": "query.attribute", "reason": reason}],
            )
        held.append((name, value))
    return tuple(held)


def ledger_filter(
    opened_from: Annotated[
        From | None, Query(description="Opened at or after." + DATE_NOTE)
    ] = None,
    opened_to: Annotated[To | None, Query(description="Opened before." + DATE_NOTE)] = None,
    channel: Text = None,
    store: Text = None,
    agent_group: Text = None,
    status: Annotated[Literal["open", "resolved", "reopened", "closed"] | None, Query()] = None,
    priority: Annotated[Literal["urgent", "important", "general"] | None, Query()] = None,
    breached: Annotated[
        bool | None, Query(description="Only cases with (true) or without (false) a breach.")
    ] = None,
    customer: Annotated[
        str | None, Query(max_length=200, description="Only this customer's cases (its id).")
    ] = None,
    classification: Annotated[
        Literal["inquiry", "service", "complaint", "urgent"] | None,
        Query(description="Only cases of this classification: `complaint` for complaints."),
    ] = None,
    topic: Annotated[
        Literal["product", "order", "after_sales", "logistics", "membership", "other"] | None,
        Query(),
    ] = None,
    satisfaction_min: Annotated[
        Score, Query(description="Survey's overall score at least (cases with an answer).")
    ] = None,
    satisfaction_max: Annotated[
        Score, Query(description="Survey's overall score at most (cases with an answer).")
    ] = None,
    reopened: Annotated[
        bool | None, Query(description="Only cases reopened (true) or never reopened (false).")
    ] = None,
    breached_rule: Annotated[
        str | None, Query(max_length=40, description="Only cases that breached this rule id.")
    ] = None,
    attribute: AttributeQuery = None,
) -> LedgerFilter:
    return LedgerFilter(
        opened_from=opened_from,
        opened_to=opened_to,
        channel=channel,
        store_id=store,
        agent_group=agent_group,
        status=status,
        priority=priority,
        breached=breached,
        customer_id=customer,
        classification=classification,
        topic=topic,
        satisfaction_min=satisfaction_min,
        satisfaction_max=satisfaction_max,
        reopened=reopened,
        breached_rule=breached_rule,
        attributes=attribute_pairs(attribute or []),
    )


LedgerFilterDep = Annotated[LedgerFilter, Depends(ledger_filter)]

"""The customer 360 as the API answers it: the 360's view, with each of the customer's
cases that is not closed showing the SLA clocks overdue at the timer's watermark (from the
complaint ledger, which keeps the clocks: the 360 keeps facts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.case import Case
from projections.customer360 import Customer360
from projections.ledger import ComplaintLedger


def customer_view(
    customers: Customer360,
    ledger: ComplaintLedger,
    customer_id: str,
    as_of: datetime | None,
    watermark: datetime | None,
) -> dict[str, Any] | None:
    """``Customer360.view``; each case under ``open`` and ``awaiting_confirmation`` also
    carries ``overdue``: the rules of its clocks past due at ``watermark`` and not breached
    yet (the ledger's ``judged_at``), empty when none is or the ledger has no row yet."""
    view = customers.view(customer_id, as_of)
    if view is None:
        return None
    for group in ("open", "awaiting_confirmation"):
        for case in view["cases"][group]:
            row = ledger.row(str(Case.create_id(case["case_ref"])), watermark)
            clocks = row["sla"].values() if row is not None else ()
            case["overdue"] = sorted(
                {c.get("rule", "") for c in clocks if c.get("outcome") == "overdue"} - {""}
            )
    return view

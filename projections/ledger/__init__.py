"""The complaint ledger: one row per case (R-CMP-06, R-CMP-07).

A row holds what DESIGN.md lists — customer, channel(s), store, agent group, category and
priority, the customer's demand, the opened / first response / supervisor / solution /
resolved / confirmed times, SLA targets and breaches with their rule ids, escalation
level, options offered and chosen, refund amount, satisfaction, status, reopen count and
the policy version — and every communication with its time (contacts opened and joined,
customer messages, replies, hand-offs, promises, progress updates, closes).

The row is built from the events of the case, of the contacts that joined it, of the
survey that followed it and of the returns that settled it: the ``ledger_links`` table maps
each of those aggregates to its case. Events of no case (an order, a callback) are ignored.

A case is a **repeat complaint** (R-CMP-07) when the same customer opened a complaint on
the same topic within the policy's window (``Policy.repeat_complaint_window``) before it
(event time). Arrival order does not matter: a case that arrives late marks the later ones
it precedes.

Modules: ``tables`` (DDL, indexes, a row as stored), ``rows`` (what each event changes in
its case's row), ``batch`` (a batch a case at a time), ``queries`` (a row, pages),
``projection`` (``ComplaintLedger``: tables, batch and queries together).
"""

from projections.ledger.projection import ComplaintLedger
from projections.ledger.queries import SORT_COLUMNS, LedgerFilter, SortKey
from projections.ledger.rows import PRIORITY_RANK, REPEAT_CLASSES, REPEAT_WINDOW

__all__ = [
    "PRIORITY_RANK",
    "REPEAT_CLASSES",
    "REPEAT_WINDOW",
    "SORT_COLUMNS",
    "ComplaintLedger",
    "LedgerFilter",
    "SortKey",
]

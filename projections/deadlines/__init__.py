"""Open SLA deadlines and the latest event time seen: what the clock timer needs.

Follows the clock decision events of every aggregate: a deadline is open from
``DeadlineStarted`` until it is met, breached, or cancelled. The latest ``occurred_at`` of
any fact is the event-time watermark.

Modules: ``tables`` (DDL, indexes), ``rows`` (what each clock decision changes), ``batch``
(a batch's changes in order), ``queries`` (watermark, deadlines due), ``projection``
(``DeadlineIndex``: tables, batch and queries together).
"""

from projections.deadlines.projection import DeadlineIndex

__all__ = ["DeadlineIndex"]

"""The journey funnel's stages (R-KPI-08): a contact is pre-sale, in-sale or after-sale, by
its case's topic. Declared once: the KPI counters count by it and the catalogue
(docs/events.md) documents it."""

from __future__ import annotations

PRE_SALE, IN_SALE, AFTER_SALE = "pre_sale", "in_sale", "after_sale"
STAGES = (PRE_SALE, IN_SALE, AFTER_SALE)
STAGE_OF_TOPIC = {
    "product": PRE_SALE,
    "membership": PRE_SALE,
    "other": PRE_SALE,
    "order": IN_SALE,
    "logistics": IN_SALE,
    "after_sales": AFTER_SALE,
}
"""R-KPI-08: the journey stage of a contact, from its case's topic."""


def stage_of(topic: str) -> str:
    """R-KPI-08: pre-sale, in-sale or after-sale (an unknown topic counts as pre-sale)."""
    return STAGE_OF_TOPIC.get(topic, PRE_SALE)

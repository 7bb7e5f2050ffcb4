"""Source attributes: what a channel or importer knows of an event in the source's own
terms (the CFPB's "Submitted via", an Olist order's status, a ServiceNow contact type),
kept beside our own enums so that an analyst can filter and group by them.

They travel in the envelope's optional ``attributes`` object (``contracts.envelope``): a
flat object of short strings, at most :data:`MAX_ATTRIBUTES` of them. Every name is
declared once, here, with the families of event types that may carry it; a name not
declared, or on a family it is not declared for, is refused with a reason naming the field
(``attributes.<name>``), so the record goes to the dead-letter topic.

**Never personal data.** No declared name is a personal field (a unit test checks them
against the customer's personal fields, ``contracts.schemas.customers.Personal``), values
are short labels (at most :data:`MAX_VALUE` characters) and a value that looks like an
e-mail address or a phone number (:data:`CONTACT_LIKE`) is refused. Adding a name is a
change to this module, reviewed as one: a name that would hold a person's data (a name,
a zip code, a free-text narrative) must not be declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.schemas.registry import Family

MAX_ATTRIBUTES = 16
MAX_VALUE = 120
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CONTACT_LIKE = re.compile(r"@|\d[\d\s().+-]{6,}\d")
"""An e-mail address (an ``@``) or a phone number (seven digits or more, spaced or not)."""


@dataclass(frozen=True)
class SourceAttribute:
    """One declared attribute: its name, the families whose events may carry it, and what
    it holds (shown in docs/events.md)."""

    name: str
    families: tuple[Family, ...]
    meaning: str


_CASES: tuple[Family, ...] = ("contacts", "engagement")
"""Contacts and case events (both on the contacts topic), and the surveys that follow."""

ATTRIBUTES: dict[str, SourceAttribute] = {
    a.name: a
    for a in (
        SourceAttribute(
            "submitted_via",
            _CASES,
            "How the source says the customer submitted it (CFPB 'Submitted via': Web,"
            " Referral, Phone, Postal mail, Fax, Email), before it became an R-CH-01 channel.",
        ),
        SourceAttribute("contact_type", _CASES, "ServiceNow's contact_type (Phone, Email, ...)."),
        SourceAttribute(
            "state", _CASES, "The state or province the source files it under (CFPB State)."
        ),
        SourceAttribute("product", _CASES, "The source's product category (CFPB Product)."),
        SourceAttribute("sub_product", _CASES, "The source's sub-product (CFPB Sub-product)."),
        SourceAttribute("issue", _CASES, "The source's issue category (CFPB Issue)."),
        SourceAttribute(
            "company_response",
            _CASES,
            "How the company responded, in the source's words (CFPB 'Company response to"
            " consumer').",
        ),
        SourceAttribute(
            "timely_response",
            _CASES,
            "Whether the source judged the response timely (CFPB 'Timely response?': Yes/No).",
        ),
        SourceAttribute(
            "made_sla", _CASES, "Whether the source's own SLA was met (ServiceNow made_sla)."
        ),
        SourceAttribute("category", _CASES, "The source's category label (ServiceNow category)."),
        SourceAttribute(
            "reassignment_count",
            _CASES,
            "How many times the source reassigned it, at its last update (ServiceNow"
            " reassignment_count).",
        ),
        SourceAttribute(
            "order_status",
            ("orders",),
            "The order's status in the source (Olist order_status: delivered, shipped,"
            " canceled, unavailable, invoiced, processing, created, approved).",
        ),
    )
}
"""Every attribute a source event may carry, by name: the one list."""


def problems(attributes: dict[str, object], family: Family) -> list[tuple[str, str]]:
    """``(field, reason)`` for each attribute refused on an event of ``family``; none when
    every attribute is declared for it, a short label and not contact data."""
    found: list[tuple[str, str]] = []
    if len(attributes) > MAX_ATTRIBUTES:
        found.append(("attributes", f"{len(attributes)} attributes, over {MAX_ATTRIBUTES}"))
    for name, value in attributes.items():
        where = f"attributes.{name}"
        declared = ATTRIBUTES.get(name)
        if not NAME.match(name):
            found.append((where, f"a name is {NAME.pattern}"))
        elif declared is None:
            known = ", ".join(sorted(ATTRIBUTES))
            found.append((where, f"not a declared source attribute; known: {known}"))
        elif family not in declared.families:
            families = ", ".join(declared.families)
            found.append((where, f"not an attribute of {family} events (only {families})"))
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_VALUE:
            found.append((where, f"a value is a string of 1 to {MAX_VALUE} characters"))
        elif CONTACT_LIKE.search(value):
            found.append((where, "looks like an e-mail address or phone number: no personal data"))
    return found


def json_schema(family: Family) -> dict[str, object]:
    """The envelope's ``attributes`` on an event of ``family``: the names declared for it."""
    return {
        "type": "object",
        "description": "Source attributes: the source's own labels, never personal data"
        " (docs/events.md, 'Source attributes').",
        "properties": {
            a.name: {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_VALUE,
                "description": a.meaning,
            }
            for a in ATTRIBUTES.values()
            if family in a.families
        },
        "additionalProperties": False,
        "maxProperties": MAX_ATTRIBUTES,
    }


def render() -> list[str]:
    """The section of docs/events.md that lists the declared attributes."""
    lines = [
        "## Source attributes",
        "",
        "The envelope's optional `attributes`: the source's own labels of the event, kept",
        "beside our enums. The ledger keeps, filters and counts by them",
        "(`/v1/complaints?attribute=name:value`, `/v1/ledger/counts?group_by=attribute.<name>`),",
        "the orders read model keeps, filters and counts by them",
        "(`/v1/orders?attribute=name:value`, `/v1/orders/counts?group_by=attribute.<name>`),",
        "and the KPIs are filtered and grouped by their subjects'",
        "(`/v1/kpis?attribute=name:value`, `group_by=attribute.<name>`); the events behind a",
        "KPI, the funnel, the anomalies and the QA sample take the same filter (docs/kpis.md).",
        f"At most {MAX_ATTRIBUTES}, each a name declared below for the",
        f"event's family and a string of 1 to {MAX_VALUE} characters. Never personal data: no",
        "name is a personal field, and a value that looks like an e-mail address or a phone",
        "number is refused. Any other is refused with a reason naming `attributes.<name>`",
        "(the API answers 422; the ingest dead-letters the record). A read model keeps the",
        "latest value of each name over the events of its case or order.",
        "",
        "| name | families | meaning |",
        "|---|---|---|",
    ]
    for a in ATTRIBUTES.values():
        lines.append(f"| `{a.name}` | {', '.join(a.families)} | {a.meaning} |")
    return [*lines, ""]

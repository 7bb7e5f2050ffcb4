"""CFPB consumer complaints → cases (docs/data.md, "CFPB").

Two layouts are read, told apart by their header:

- the Bank of America extract (``cfpb-complaints-bank-of-america``): its "Date submitted"
  is the CFPB's date received and its "Date received" the CFPB's date sent to the company
  (renamed columns, see its SOURCE.md); the company is always Bank of America;
- the CFPB's own export (``cfpb-complaints-sample``): "Date received", "Date sent to
  company" and "Company" as the CFPB names them.

Each complaint is one case of its own customer (the data has no consumer id): opened on
the channel of "Submitted via" at the date received; the company becomes its owner at the
date sent (due 15 days later, the CFPB's response window); a closed response resolves it on
that outcome ("Closed with monetary relief" as ``refund``), with the company response and
the source's own "Timely response?" verdict in the resolution summary.

The source's own values are kept as source attributes (``contracts.attributes``), not only
folded into our channels and free text: "Submitted via", State, Product, Sub-product and
Issue on the opening; "Company response to consumer" and "Timely response?" on the
resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from pathlib import Path

from tools.importers.cases import CaseTrack
from tools.importers.files import ImportFailed, candidates, header, rows
from tools.importers.steps import Journey, Step, text
from tools.importers.summary import ImportSummary
from tools.importers.times import BadTime, utc_date

DATASET_FOLDERS = ("cfpb-complaints-bank-of-america", "cfpb-complaints-sample")

CHANNELS = {
    "Web": "web",
    "Web Referral": "web",
    "Phone": "phone",
    "Email": "email",
    # Written, asynchronous and not a live conversation: the nearest R-CH-01 channel.
    "Referral": "email",
    "Postal mail": "email",
    "Fax": "email",
}
"""'Submitted via' → R-CH-01 channel."""

OUTCOMES = {
    "Closed with explanation": "explanation",
    "Closed with monetary relief": "refund",
    "Closed with non-monetary relief": "non_monetary_relief",
    "Closed": "closed",
    "Untimely response": "untimely_response",
}
"""'Company response to consumer' → the option the case is resolved on."""
OPEN_RESPONSES = frozenset({"In progress", ""})

RESPONSE_WINDOW = timedelta(days=15)
"""The CFPB expects the company's response within 15 days of sending it the complaint."""
ACCEPTANCE = "the company responds to the consumer through the CFPB within 15 days"
BOILERPLATE = "Company has responded to the consumer and the CFPB and chooses not to provide"


@dataclass(frozen=True)
class Layout:
    dataset: str
    received: str
    sent: str
    company: str | None
    """The company column; None: the extract of one company, ``default_company``."""
    default_company: str = "Bank of America"


BANK_OF_AMERICA = Layout(
    "cfpb-complaints-bank-of-america", received="Date submitted", sent="Date received", company=None
)
CFPB_EXPORT = Layout(
    "cfpb-complaints-sample",
    received="Date received",
    sent="Date sent to company",
    company="Company",
)


def layout_of(columns: list[str]) -> Layout | None:
    if "Complaint ID" not in columns or "Submitted via" not in columns:
        return None
    if "Date sent to company" in columns:
        return CFPB_EXPORT
    if "Date submitted" in columns:
        return BANK_OF_AMERICA
    return None


def locate(folder: Path) -> tuple[Path, Layout]:
    found: list[tuple[Path, Layout]] = []
    for place in candidates(folder, DATASET_FOLDERS):
        files = [place] if place.is_file() else sorted(place.glob("*.csv"))
        for path in files:
            layout = layout_of(header(path))
            if layout is not None:
                found.append((path, layout))
    if not found:
        raise ImportFailed(f"no CFPB complaints CSV in {folder}")
    if len(found) > 1:
        names = ", ".join(str(path) for path, _ in found)
        raise ImportFailed(f"several CFPB complaint files under {folder}: {names}; name one")
    return found[0]


def plan(folder: Path, limit: int | None, summary: ImportSummary) -> Iterator[Step]:
    path, layout = locate(folder)
    summary.dataset = layout.dataset
    summary.files = [str(path)]
    summary.unit = "complaint"
    return _steps(path, layout, limit, summary)


def _steps(path: Path, layout: Layout, limit: int | None, summary: ImportSummary) -> Iterator[Step]:
    for row in islice(rows(path, summary), limit):
        journey = complaint(row, layout, summary)
        if journey is not None:
            summary.units += 1
            yield from journey.steps


def complaint(row: dict[str, str], layout: Layout, summary: ImportSummary) -> Journey | None:
    """The journey of one complaint, or None (counted) when the row cannot be used."""
    complaint_id = row.get("Complaint ID", "").strip()
    if not complaint_id:
        summary.rows_skipped["no Complaint ID"] += 1
        return None
    via = row.get("Submitted via", "").strip()
    channel = CHANNELS.get(via)
    if channel is None:
        summary.rows_skipped[f"'Submitted via' {via!r} has no R-CH-01 channel"] += 1
        return None
    try:
        received = utc_date(row.get(layout.received, ""))
        sent = utc_date(row.get(layout.sent, ""))
    except BadTime as error:
        summary.rows_skipped[f"unreadable date ({error})"] += 1
        return None
    if received is None:
        summary.rows_skipped[f"no '{layout.received}' (date received)"] += 1
        return None
    company = (row.get(layout.company, "") if layout.company else "").strip()
    company = (company or layout.default_company)[:200]
    product = row.get("Product", "").strip()[:200]
    ref = f"cfpb-{complaint_id}"
    journey = Journey(summary, f"cfpb:{complaint_id}", ref, channel)
    case = CaseTrack(journey, ref)
    case.open(
        received,
        classification="complaint",
        topic="other",
        demand=text(row.get("Issue", ""), row.get("Sub-issue", "")),
        agent_group=product or None,
        attributes={
            "submitted_via": via,
            "state": row.get("State"),
            "product": row.get("Product"),
            "sub_product": row.get("Sub-product"),
            "issue": row.get("Issue"),
        },
    )
    response = row.get("Company response to consumer", "").strip()
    if sent is None and response not in OPEN_RESPONSES:
        summary.steps_added["owner at the date received: the row has no date sent (R-CMP-02)"] += 1
    if sent is not None or response not in OPEN_RESPONSES:
        case.assign(sent or received, "sent", company, RESPONSE_WINDOW, ACCEPTANCE)
    if response in OPEN_RESPONSES:
        return journey
    option = OUTCOMES.get(response)
    if option is None:
        summary.steps_dropped[f"case.resolved: unknown company response {response!r}"] += 1
        return journey
    at = sent or received
    # R-CMP-01: the source records only the outcome; offer it before resolving on it.
    summary.steps_added["options offered: the outcome, before resolving on it (R-CMP-01)"] += 1
    case.offer(at, "offered", [option])
    timely = row.get("Timely response?", "").strip() or "n/a"
    public = row.get("Company public response", "").strip()
    parts = [response, f"CFPB timely response: {timely}"]
    if public and not public.startswith(BOILERPLATE):
        parts.append(f"public response: {public}")
    verdict = {"company_response": response, "timely_response": row.get("Timely response?")}
    case.resolve(at, "resolved", option, "; ".join(parts)[:4000], verdict)
    return journey

"""ServiceNow incident event log → cases with their state changes (docs/data.md,
"ServiceNow").

Rows of one incident are contiguous and in time order of ``sys_updated_at``; each is the
incident after one update. An incident is one case of its caller, opened at ``opened_at``
on its contact type's channel; each row then adds what changed: a reopening
(``reopen_count`` up), the priority, the owner (first row) and each reassignment
(``reassignment_count`` up), the first response (the first row out of "New"), a request for
the caller's information ("Awaiting User Info": a progress update), the resolution and the
closure (confirmed when closed within the no-reply period, without reply after it).

The source's own values are kept as source attributes (``contracts.attributes``):
contact_type, category and the final reassignment_count on the opening, made_sla on the
resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import groupby
from pathlib import Path

from domain.policy import policy_in_force
from tools.importers.cases import CaseTrack
from tools.importers.files import ImportFailed, candidates, header, rows
from tools.importers.steps import Journey, Step
from tools.importers.summary import ImportSummary
from tools.importers.times import MISSING, BadTime, day_month_year

DATASET = "servicenow-incident-event-log"
DATASET_FOLDERS = (DATASET,)

CHANNELS = {
    "Phone": "phone",
    "IVR": "phone",
    "Email": "email",
    "Self service": "web",
    # Opened at the service desk itself (in the full file, not in the sample).
    "Direct opening": "store",
}
"""contact_type → R-CH-01 channel."""

PRIORITIES = {
    "1 - Critical": "urgent",
    "2 - High": "important",
    "3 - Moderate": "general",
    "4 - Low": "general",
}
"""ServiceNow priority → R-PRI-02 priority."""

ACCEPTANCE = "the incident is resolved and the resolution closed in ServiceNow"


def _value(row: dict[str, str], column: str) -> str | None:
    value = row.get(column, "").strip()
    return None if value in MISSING else value


def _count(row: dict[str, str], column: str) -> int:
    try:
        return int(row.get(column, "0"))
    except ValueError:
        return 0


def _slug(text: str) -> str:
    return "-".join(text.lower().split())


def locate(folder: Path) -> Path:
    for place in candidates(folder, DATASET_FOLDERS):
        files = [place] if place.is_file() else sorted(place.glob("*.csv"))
        for path in files:
            columns = header(path)
            if columns[:2] == ["number", "incident_state"] and "sys_updated_at" in columns:
                return path
    raise ImportFailed(f"no ServiceNow incident event log CSV in {folder}")


def plan(folder: Path, limit: int | None, summary: ImportSummary) -> Iterator[Step]:
    path = locate(folder)
    summary.dataset = DATASET
    summary.files = [str(path)]
    summary.unit = "incident"
    return _steps(path, limit, summary)


def _steps(path: Path, limit: int | None, summary: ImportSummary) -> Iterator[Step]:
    seen: set[str] = set()
    taken = 0
    for number, group in groupby(rows(path, summary), key=lambda row: row.get("number", "")):
        if limit is not None and taken >= limit:
            return
        incident_rows = list(group)
        if not number:
            summary.rows_skipped["no incident number"] += len(incident_rows)
            continue
        if number in seen:
            summary.rows_skipped["rows of an incident after other incidents' rows"] += len(
                incident_rows
            )
            continue
        seen.add(number)
        taken += 1
        journey = incident(number, incident_rows, summary)
        if journey is not None:
            summary.units += 1
            yield from journey.steps


def _due_after(priority: str, at: datetime) -> timedelta:
    """The owner's due time: the source has none; the policy's R-PRI-02 target for the
    priority (the one per-priority target it holds)."""
    return policy_in_force(at).response_target(priority)


def incident(number: str, group: list[dict[str, str]], summary: ImportSummary) -> Journey | None:
    """The journey of one incident, or None (its rows counted) when it cannot be used."""
    first = group[0]
    caller = _value(first, "caller_id")
    if caller is None:
        summary.rows_skipped["incident without a caller_id"] += len(group)
        return None
    contact_type = first.get("contact_type", "").strip()
    channel = CHANNELS.get(contact_type)
    if channel is None:
        summary.rows_skipped[f"contact_type {contact_type!r} has no R-CH-01 channel"] += len(group)
        return None
    try:
        opened = day_month_year(first.get("opened_at", ""))
        updates = [day_month_year(row.get("sys_updated_at", "")) for row in group]
    except BadTime as error:
        summary.rows_skipped[f"unreadable time ({error})"] += len(group)
        return None
    if opened is None:
        summary.rows_skipped["incident without opened_at"] += len(group)
        return None
    priority = PRIORITIES.get(first.get("priority", "").strip())
    classification = "urgent" if priority == "urgent" else "service"
    journey = Journey(summary, f"sn:{number}", f"sn-{_slug(caller)}", channel)
    case = CaseTrack(journey, f"sn-{number}")
    demand = " / ".join(
        v for v in (_value(first, c) for c in ("category", "subcategory", "u_symptom")) if v
    )
    case.open(
        opened,
        classification=classification,
        topic="other",
        priority=priority,
        demand=demand or None,
        store_id=_value(first, "location"),
        agent_group=_value(first, "assignment_group"),
        attributes={
            "contact_type": contact_type,
            "category": _value(first, "category"),
            # The source's own count at the incident's last update (its rows are all known).
            "reassignment_count": str(_count(group[-1], "reassignment_count")),
        },
    )
    previous: dict[str, str] | None = None
    at = opened
    for index, row in enumerate(group):
        at = updates[index] or at
        name = f"r{index}"
        owner = (
            _value(row, "assigned_to") or _value(row, "assignment_group") or "servicenow-unassigned"
        )
        if previous is not None:
            for n in range(_count(row, "reopen_count") - _count(previous, "reopen_count")):
                case.reopen(at, f"{name}:reopened{n}", "reopened in ServiceNow")
        row_priority = PRIORITIES.get(row.get("priority", "").strip())
        if row_priority is not None:
            case.set_priority(at, f"{name}:priority", row_priority)
        if previous is None:
            case.assign(at, f"{name}:owner", owner, _due_after(case.priority, at), ACCEPTANCE)
        else:
            moves = _count(row, "reassignment_count") - _count(previous, "reassignment_count")
            for n in range(moves):
                due = _due_after(case.priority, at)
                case.assign(at, f"{name}:reassigned{n}", owner, due, ACCEPTANCE)
        state = row.get("incident_state", "").strip()
        if not case.replied and state not in ("New", ""):
            case.reply(at, f"{name}:first-response", _value(row, "sys_updated_by"))
        changed = previous is None or state != previous.get("incident_state", "").strip()
        if changed and state == "Awaiting User Info":
            case.progress(at, f"{name}:awaiting-user")
        elif changed and state in ("Resolved", "Closed"):
            if case.status == "open":
                _resolve(case, row, at, name, summary, synthetic=state == "Closed")
            if state == "Closed":
                case.close(at, f"{name}:closed")
        previous = row
    return journey


def _resolve(
    case: CaseTrack,
    row: dict[str, str],
    at: datetime,
    name: str,
    summary: ImportSummary,
    synthetic: bool,
) -> None:
    code = _value(row, "closed_code")
    option = _slug(code) if code else "resolved"
    if synthetic:
        summary.steps_added["resolution at the closing: closed with no 'Resolved' row"] += 1
    # R-CMP-01: the source records only the closing code; offer it before resolving on it.
    summary.steps_added["options offered: the closing code, before resolving (R-CMP-01)"] += 1
    case.offer(at, f"{name}:offered", [option])
    summary_text = "; ".join(
        f"{label} {value}"
        for label, value in (
            ("ServiceNow closed_code", code),
            ("resolved_by", _value(row, "resolved_by")),
            ("made_sla", _value(row, "made_sla")),
        )
        if value
    )
    verdict = {"made_sla": _value(row, "made_sla")}
    case.resolve(at, f"{name}:resolved", option, summary_text or None, verdict)

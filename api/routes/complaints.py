"""The ledger for analysts — one row per case, complaints and every other classification —:
filtered, sorted, paged, exported, explained."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.auth import ProtectedRoute, Roles
from api.consistency import Consistent
from api.csv_export import CSV_PAGE, export_pages
from api.deps import ApplicationDep, LedgerDep, WatermarkDep
from api.errors import ApiError
from api.ledger_params import LedgerFilterDep
from api.paging import MAX_ITEMS, Cursor, Limit, explain_page, ledger_cursor, read_ledger_cursor
from api.schemas import ComplaintOut, ComplaintPageOut, ErrorOut, ExplainOut
from application.explain import explanation
from domain.ids import aggregate_id
from projections.ledger import ComplaintLedger, LedgerFilter, SortKey

router = APIRouter(prefix="/v1", tags=["analysts"], route_class=ProtectedRoute)
READERS = Roles("analyst", "auditor", "admin")

Sort = Literal[
    "opened_at", "-opened_at", "priority", "-priority", "breaches", "-breaches",
    "reopen_count", "-reopen_count",
]  # fmt: skip
CSV_COLUMNS = (
    "case_ref", "customer_id", "channel", "channels", "store_id", "agent_group",
    "classification", "topic", "priority", "status", "demand", "opened_at",
    "first_response_at", "supervisor_at", "solution_at", "resolved_at", "confirmed_at",
    "closed_at", "owner", "reassignment_count", "due_at", "escalation_level",
    "options_offered", "option_chosen",
    "outcome", "refund_amount", "satisfaction_overall", "breaches", "breached_rules",
    "overdue", "awaiting_confirmation", "communications", "contacts", "reopen_count",
    "repeat_complaint", "policy_version", "attributes",
)  # fmt: skip


def _csv_row(row: dict[str, Any]) -> list[Any]:
    flat = dict(row)
    flat["channels"] = " ".join(row["channels"])
    flat["options_offered"] = " | ".join(row["options_offered"])
    flat["satisfaction_overall"] = (row["satisfaction"] or {}).get("overall")
    flat["breached_rules"] = " ".join(sorted({b["rule"] for b in row["breach_list"]}))
    flat["communications"] = len(row["communications"])
    flat["attributes"] = " | ".join(f"{k}={v}" for k, v in sorted(row["attributes"].items()))
    return [flat.get(column) for column in CSV_COLUMNS]


Watermark = Callable[[], datetime | None]


Text = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/complaints",
    response_model=ComplaintPageOut,
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON page, or CSV with format=csv"},
        422: {"model": ErrorOut},
        503: {"model": ErrorOut},
    },
    dependencies=[READERS, Consistent],
)
async def list_complaints(
    ledger: LedgerDep,
    watermark: WatermarkDep,
    where: LedgerFilterDep,
    sort: Sort = "opened_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Cases of the ledger (R-CMP-06) — every case, whatever its classification:
    ``classification=complaint`` for complaints — filtered, sorted, a page at a time
    (``next_cursor``), or every matching case as CSV (``format=csv``). Each SLA clock
    shows as it stands at the SLA timer's watermark: ``overdue`` once past due and not
    breached yet. Counts, grouped: ``/v1/ledger/counts``."""
    key: SortKey = sort.lstrip("-")  # type: ignore[assignment]
    desc = sort.startswith("-")
    if format == "csv":
        at = watermark()  # one instant for the whole export
        return export_pages(
            lambda after: ledger.page(CSV_PAGE, after, where, key, desc, at),
            lambda row: ledger.cursor_of(row, key),
            CSV_COLUMNS,
            _csv_row,
            "complaints",
        )
    after = read_ledger_cursor(cursor, key) if cursor else None
    rows = await run_in_threadpool(_page, ledger, watermark, limit + 1, after, where, key, desc)
    more = len(rows) > limit
    rows = rows[:limit]
    return ComplaintPageOut(
        items=[ComplaintOut.model_validate(row) for row in rows],
        next_cursor=ledger_cursor(*ledger.cursor_of(rows[-1], key)) if more else None,
    )


@router.get(
    "/complaints/{case_ref}",
    response_model=ComplaintOut,
    responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    dependencies=[READERS, Consistent],
)
async def get_complaint(ledger: LedgerDep, watermark: WatermarkDep, case_ref: str) -> ComplaintOut:
    """One case's ledger row, its SLA clocks as they stand at the SLA timer's watermark
    (``overdue`` once past due and not breached yet)."""
    row = await run_in_threadpool(_row, ledger, case_ref, watermark)
    return ComplaintOut.model_validate(row)


@router.get(
    "/complaints/{case_ref}/explain",
    response_model=ExplainOut,
    responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    dependencies=[READERS, Consistent],
)
async def explain_complaint(
    ledger: LedgerDep,
    application: ApplicationDep,
    case_ref: str,
    limit: Limit = MAX_ITEMS,
    cursor: Cursor = None,
) -> ExplainOut:
    """The stored events a ledger row was built from, in order, a page at a time."""
    row = await run_in_threadpool(_row, ledger, case_ref)
    subject = f"complaint {case_ref}"
    answer = await run_in_threadpool(explanation, application, subject, row["notifications"])
    return explain_page(answer, cursor, limit)


def _page(
    ledger: ComplaintLedger,
    watermark: Watermark,
    limit: int,
    after: tuple[Any, str] | None,
    where: LedgerFilter,
    sort: SortKey,
    desc: bool,
) -> list[dict[str, Any]]:
    return ledger.page(limit, after, where, sort, desc, watermark())


def _row(
    ledger: ComplaintLedger, case_ref: str, watermark: Watermark | None = None
) -> dict[str, Any]:
    at = None if watermark is None else watermark()
    row = ledger.row(str(aggregate_id("case", case_ref)), at)
    if row is None:
        raise ApiError(404, "not_found", f"case_ref: no case {case_ref!r} in the ledger")
    return row

"""Erasure of a customer's personal data (admin only; DESIGN.md "Privacy")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import CallerDep, ProtectedRoute, Roles
from api.deps import EraseCustomerDep
from api.schemas import ErrorOut

router = APIRouter(prefix="/v1/admin", tags=["admins"], route_class=ProtectedRoute)


class ErasureIn(BaseModel):
    reason: str | None = Field(default=None, min_length=1, max_length=4000)


class ErasureOut(BaseModel):
    customer_id: str
    event_id: str = Field(description="The logged customer.erasure_requested event.")
    position: str = Field(description="topic:partition:offset, for consistent_with.")
    erased_at: str
    had_key: bool = Field(description="False if nothing of theirs was sealed, or if erased before.")


@router.post(
    "/customers/{customer_id}/erasure",
    status_code=202,
    response_model=ErasureOut,
    responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    dependencies=[Roles("admin")],
)
async def erase_customer(
    erase_customer: EraseCustomerDep,
    caller: CallerDep,
    customer_id: Annotated[str, Path(min_length=1, max_length=200)],
    body: Annotated[ErasureIn | None, Body()] = None,
) -> ErasureOut:
    """Logs a ``customer.erasure_requested`` event, then deletes the customer's key: their
    personal fields read "erased" on every route, export and rebuild from then on; their
    cases, orders and counts stay. Idempotent; cannot be undone."""
    receipt = await run_in_threadpool(
        erase_customer,
        customer_id,
        requested_by=f"key:{caller.key_id}",
        reason=body.reason if body else None,
    )
    return ErasureOut(
        customer_id=receipt.customer_id,
        event_id=receipt.event_id,
        position=str(receipt.position),
        erased_at=receipt.erased_at.isoformat(),
        had_key=receipt.had_key,
    )

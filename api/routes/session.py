"""What the console needs once signed in: who the caller is (the key's role, to show the
pages that role may see) and which policy versions a what-if may use."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from adapters.security import Role, sees_clear_personal_data
from api.auth import CallerDep, ProtectedRoute, Roles
from domain.policy import POLICIES

router = APIRouter(prefix="/v1", tags=["operations"], route_class=ProtectedRoute)


class SessionOut(BaseModel):
    key_id: str
    role: Role
    source: str | None = Field(description="A channel key's publishing system.")
    clear_personal_data: bool = Field(
        description="Whether this role reads personal fields in clear (R-CUS-04)."
    )


class PolicyOut(BaseModel):
    version: str
    effective_from: str


class PolicyListOut(BaseModel):
    items: list[PolicyOut] = Field(description="Oldest effective first.")


@router.get(
    "/session",
    response_model=SessionOut,
    dependencies=[Roles("channel", "analyst", "auditor", "admin")],
)
async def get_session(caller: CallerDep) -> SessionOut:
    """The calling key's id and role (as ``journey keys list`` shows them)."""
    return SessionOut(
        key_id=caller.key_id,
        role=caller.role,
        source=caller.source,
        clear_personal_data=sees_clear_personal_data(caller.role),
    )


@router.get(
    "/policies",
    response_model=PolicyListOut,
    dependencies=[Roles("analyst", "auditor", "admin")],
)
async def list_policies() -> PolicyListOut:
    """The policy versions (R-CH-02): those aggregates record, and drafts for a what-if."""
    ordered = sorted(POLICIES.values(), key=lambda p: p.effective_from)
    return PolicyListOut(
        items=[
            PolicyOut(version=p.version, effective_from=p.effective_from.isoformat())
            for p in ordered
        ]
    )

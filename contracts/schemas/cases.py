"""Cases: ``case.*`` (a case is opened by ``contact.opened``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contracts.schemas.base import Data, Id, Rfc3339, Text
from contracts.schemas.contacts import Priority


class CaseMixin(Data):
    case_id: Id


class CasePrioritySet(CaseMixin, event_type="case.priority_set", family="contacts"):
    """The case's priority is set or changed (R-PRI-02)."""

    priority: Priority
    example = {"case_id": "ct-1002", "priority": "urgent"}
    example_channel = "web"


class CaseOwnerAssigned(CaseMixin, event_type="case.owner_assigned", family="contacts"):
    """An owner, a due time and acceptance criteria (R-CMP-02)."""

    owner: Id
    due_at: Rfc3339
    acceptance_criteria: Text
    example = {
        "case_id": "ct-1002",
        "owner": "ag-17",
        "due_at": "2026-03-03T18:00:00+08:00",
        "acceptance_criteria": "replacement kettle delivered and confirmed by the customer",
    }
    example_channel = "web"


class CaseEscalated(CaseMixin, event_type="case.escalated", family="contacts"):
    """Three-level response: 2 = supervisor takes over, 3 = management (R-CMP-05)."""

    level: Literal[2, 3]
    supervisor_id: Id | None = None
    example = {"case_id": "ct-1002", "level": 2, "supervisor_id": "sup-3"}
    example_channel = "web"


class CaseOptionsOffered(CaseMixin, event_type="case.options_offered", family="contacts"):
    """1 to 3 solution options offered to the customer (R-CMP-01). For a major complaint this
    is the *solution* R-CMP-05 times: it stops the solution clock."""

    options: list[Id] = Field(min_length=1, max_length=3)
    example = {"case_id": "ct-1002", "options": ["replace", "refund", "repair"]}
    example_channel = "web"


class CaseOptionChosen(CaseMixin, event_type="case.option_chosen", family="contacts"):
    """The customer's choice among the offered options (R-CMP-01)."""

    option: Id
    example = {"case_id": "ct-1002", "option": "replace"}


class CaseProgressUpdateSent(CaseMixin, event_type="case.progress_update_sent", family="contacts"):
    """A progress update to the customer (R-CMP-03)."""

    example = {"case_id": "ct-1002"}
    example_channel = "web"


class CaseResolved(CaseMixin, event_type="case.resolved", family="contacts"):
    """Resolved on an offered option (R-CMP-01) by its owner (R-CMP-02). A major complaint
    about a product batch is resolved only after its ``case.recall_linked`` (R-CMP-05)."""

    option: Id
    summary: Text | None = None
    example = {"case_id": "ct-1002", "option": "replace", "summary": "new kettle shipped"}
    example_channel = "web"


class CaseResolutionConfirmed(CaseMixin, event_type="case.resolution_confirmed", family="contacts"):
    """The customer confirmed the resolution, by SMS or online (R-CMP-04)."""

    via: Literal["sms", "online"]
    example = {"case_id": "ct-1002", "via": "sms"}


class CaseClosedNoReply(CaseMixin, event_type="case.closed_no_reply", family="contacts"):
    """Closed after the stated no-reply period without confirmation (R-CMP-04)."""

    example = {"case_id": "ct-1002"}
    example_channel = "web"


class CaseReopened(CaseMixin, event_type="case.reopened", family="contacts"):
    """A resolved or closed case is reopened (R-CMP-07)."""

    reason: Text
    example = {"case_id": "ct-1002", "reason": "replacement also cracked"}


class CaseRecallLinked(CaseMixin, event_type="case.recall_linked", family="contacts"):
    """A major complaint about a product batch linked to a recall (R-CMP-05)."""

    recall_id: Id
    product_batch: Id | None = None
    example = {"case_id": "ct-1002", "recall_id": "rc-2026-04", "product_batch": "KT-2209"}
    example_channel = "web"

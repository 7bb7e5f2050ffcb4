"""A case as importers build it: the rules of ``domain/case.py`` that their sequences
touch, checked before a step is added, so that only steps the domain accepts are published.

A step the domain would refuse (e.g. a reassignment of a closed case, a reopening of an
open one) is dropped and counted under its reason in the summary. The synthetic steps a
source needs (an owner before a resolution, R-CMP-02; the option resolved on offered first,
R-CMP-01) are added by the importers themselves, named and counted where they do so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.case import default_priority
from domain.contact import IM_CHANNELS
from domain.policy import policy_in_force
from tools.importers.steps import Journey


class CaseTrack:
    """One case (opened by its first contact, whose id is the case's) and the steps on it."""

    def __init__(self, journey: Journey, case_ref: str) -> None:
        self.journey = journey
        self.case_ref = case_ref
        self.summary = journey.summary
        self.opened = False
        self.status = "open"
        self.priority = "general"
        self.owner: str | None = None
        self.offered: list[str] = []
        self.resolved_at: datetime | None = None
        self.opened_at: datetime | None = None
        self.replied = False

    def _drop(self, what: str, why: str) -> bool:
        self.summary.steps_dropped[f"{what}: {why}"] += 1
        return False

    def _case(
        self,
        event_type: str,
        name: str,
        at: datetime,
        attributes: dict[str, str | None] | None = None,
        **data: Any,
    ) -> datetime:
        return self.journey.add(
            event_type, name, at, {"case_id": self.case_ref, **data}, attributes=attributes
        )

    def open(
        self,
        at: datetime,
        *,
        classification: str,
        topic: str,
        priority: str | None = None,
        demand: str | None = None,
        store_id: str | None = None,
        agent_group: str | None = None,
        attributes: dict[str, str | None] | None = None,
    ) -> None:
        """``contact.opened`` of the case's first contact (R-PRI-01), with the source's
        own labels of the case (``attributes``)."""
        data: dict[str, Any] = {
            "contact_id": self.case_ref,
            "classification": classification,
            "topic": topic,
        }
        optional = {
            "priority": priority,
            "demand": demand,
            "store_id": store_id,
            "agent_group": agent_group,
        }
        data |= {key: value for key, value in optional.items() if value is not None}
        if self.journey.channel in IM_CHANNELS:
            # A web submission (CFPB, ServiceNow self-service) is the customer's written
            # message: the contact opens with it, so R-RESP-01 counts from the opening.
            data["first_message_id"] = "submission"
        self.opened_at = self.journey.add(
            "contact.opened", "opened", at, data, attributes=attributes
        )
        self.opened = True
        self.priority = priority or default_priority(classification)

    def reply(self, at: datetime, name: str, agent_id: str | None) -> None:
        """A person's answer on the case's first contact (stops R-PRI-02)."""
        data: dict[str, Any] = {"contact_id": self.case_ref, "responder": "agent"}
        if agent_id:
            data["agent_id"] = agent_id
        self.journey.add("contact.replied", name, at, data)
        self.replied = True

    def set_priority(self, at: datetime, name: str, priority: str) -> None:
        if priority != self.priority:
            self._case("case.priority_set", name, at, priority=priority)
            self.priority = priority

    def assign(
        self, at: datetime, name: str, owner: str, due_after: Any, acceptance_criteria: str
    ) -> bool:
        """An owner, a due time (``due_after`` past the assignment) and acceptance criteria
        (R-CMP-02); while the case is open or resolved (a closed case is final)."""
        if self.status == "closed":
            return self._drop("case.owner_assigned", "the case is closed")
        at = self.journey.clamp("case.owner_assigned", at)
        self._case(
            "case.owner_assigned",
            name,
            at,
            owner=owner,
            due_at=(at + due_after).isoformat(),
            acceptance_criteria=acceptance_criteria,
        )
        self.owner = owner
        return True

    def offer(self, at: datetime, name: str, options: list[str]) -> bool:
        """1 to 3 distinct options (R-CMP-01); only while open."""
        if self.status != "open":
            return self._drop("case.options_offered", f"the case is {self.status}")
        self._case("case.options_offered", name, at, options=list(options))
        self.offered = list(options)
        return True

    def progress(self, at: datetime, name: str) -> bool:
        if self.status != "open":
            return self._drop("case.progress_update_sent", f"the case is {self.status}")
        self._case("case.progress_update_sent", name, at)
        return True

    def resolve(
        self,
        at: datetime,
        name: str,
        option: str,
        summary: str | None,
        attributes: dict[str, str | None] | None = None,
    ) -> bool:
        """Resolved by its owner (R-CMP-02) on an offered option (R-CMP-01); with the
        source's own labels of the outcome (``attributes``)."""
        if self.status != "open":
            return self._drop("case.resolved", f"the case is {self.status}")
        if self.owner is None:
            return self._drop("case.resolved", "no owner (R-CMP-02)")
        if option not in self.offered:
            return self._drop("case.resolved", "option never offered (R-CMP-01)")
        data: dict[str, Any] = {"option": option}
        if summary:
            data["summary"] = summary
        self.resolved_at = self._case("case.resolved", name, at, attributes, **data)
        self.status = "resolved"
        return True

    def close(self, at: datetime, name: str) -> bool:
        """Closed after a resolution (R-CMP-04): without reply once the policy's no-reply
        period has passed, otherwise on the customer's confirmation (online)."""
        if self.status != "resolved" or self.resolved_at is None or self.opened_at is None:
            return self._drop("case closing", f"the case is {self.status}, not resolved")
        at = self.journey.clamp("case closing", at)
        # The case keeps the policy in force when it opened (domain/case.py).
        no_reply = policy_in_force(self.opened_at).no_reply_close_after
        if at >= self.resolved_at + no_reply:
            self._case("case.closed_no_reply", name, at)
        else:
            self._case("case.resolution_confirmed", name, at, via="online")
        self.status = "closed"
        return True

    def reopen(self, at: datetime, name: str, reason: str) -> bool:
        """A resolved or closed case reopened (R-CMP-07)."""
        if self.status == "open":
            return self._drop("case.reopened", "the case is open")
        self._case("case.reopened", name, at, reason=reason)
        self.status = "open"
        self.resolved_at = None
        return True

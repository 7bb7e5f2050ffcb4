"""The case: one customer problem followed across contacts and channels (R-CH-01).

A contact either opens its own case or joins an existing one, so the case keeps one
history whichever channel the customer uses next ("the customer never repeats the
problem"). The case owns the response target by priority (R-PRI-02/03) and the complaint
rules (R-CMP-01..05), and starts the survey clock on resolution (R-SAT-01).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import Fact, JourneyAggregate, command
from domain.clocks import Cancel, ClockCommand, Start, Stop
from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.policy import Policy, policy_in_force
from domain.provenance import SourceRef

CLASSIFICATIONS = frozenset({"inquiry", "service", "complaint", "urgent"})  # R-PRI-01
TOPICS = frozenset({"product", "order", "after_sales", "logistics", "membership", "other"})
PRIORITIES = frozenset({"urgent", "important", "general"})  # R-PRI-02
QUALITY_KINDS = frozenset({"quality", "damaged"})  # R-PRI-03: 15 min; otherwise 1 h
ESCALATION_LEVELS = (1, 2, 3)  # R-CMP-05: 1 agent, 2 supervisor, 3 management


def default_priority(classification: str) -> str:
    """R-PRI-01/02: urgent contacts are urgent, complaints important, the rest general."""
    return {"urgent": "urgent", "complaint": "important"}.get(classification, "general")


class CaseMismatch(DomainError):
    """A contact names a case that belongs to another customer."""


class CaseRuleViolated(DomainError):
    pass


class Case(JourneyAggregate):
    started_by = "the case's opening"

    class Opened(Aggregate.Created):
        case_ref: str
        customer_id: str
        contact_id: str
        channel: str
        classification: str
        topic: str
        priority: str
        after_sales_kind: str | None
        major: bool
        product_batch: str | None
        demand: str | None
        store_id: str | None
        agent_group: str | None
        policy_version: str
        occurred_at: datetime
        source: SourceRef

    class ContactJoined(Fact["Case"]):
        contact_id: str
        channel: str

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.contact_ids.append(self.contact_id)
            if self.channel not in aggregate.channels:
                aggregate.channels.append(self.channel)

    class Responded(Fact["Case"]):
        """The first answer by a person on any contact of the case."""

        contact_id: str

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.first_response_at = self.occurred_at

    class PrioritySet(Fact["Case"]):
        priority: str

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.priority = self.priority
            aggregate.priority_changes += 1
            aggregate.advance_chain("priority_change", self.occurred_at)

    class OwnerAssigned(Fact["Case"]):
        owner: str
        due_at: datetime
        acceptance_criteria: str

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.owner = self.owner
            aggregate.due_at = self.due_at
            aggregate.acceptance_criteria = self.acceptance_criteria
            aggregate.assignments += 1
            aggregate.advance_chain("owner_assignment", self.occurred_at)

    class Escalated(Fact["Case"]):
        level: int
        supervisor_id: str | None

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.escalation_level = max(aggregate.escalation_level, self.level)
            aggregate.supervisor_id = self.supervisor_id or aggregate.supervisor_id

    class OptionsOffered(Fact["Case"]):
        options: list[str]

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.options_offered = list(self.options)

    class OptionChosen(Fact["Case"]):
        option: str

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.option_chosen = self.option

    class ProgressUpdateSent(Fact["Case"]):
        def apply_fact(self, aggregate: Case) -> None:
            aggregate.progress_updates += 1
            aggregate.progress_clock += 1
            aggregate.advance_chain("progress_update", self.occurred_at)

    class Resolved(Fact["Case"]):
        option: str
        summary: str | None

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.status = "resolved"
            aggregate.resolved_at = self.occurred_at
            if aggregate.first_resolved_at is None:
                aggregate.first_resolved_at = self.occurred_at
            aggregate.resolution_option = self.option
            aggregate.resolutions += 1

    class ResolutionConfirmed(Fact["Case"]):
        via: str

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.status = "closed"
            aggregate.confirmed_at = self.occurred_at
            aggregate.confirmed_via = self.via
            aggregate.closed_at = self.occurred_at

    class ClosedWithoutReply(Fact["Case"]):
        def apply_fact(self, aggregate: Case) -> None:
            aggregate.status = "closed"
            aggregate.closed_at = self.occurred_at

    class Reopened(Fact["Case"]):
        reason: str

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.status = "open"
            aggregate.reopen_count += 1
            aggregate.resolved_at = None
            aggregate.closed_at = None
            aggregate.confirmed_at = None
            aggregate.progress_clock += 1
            aggregate.advance_chain("progress_update", self.occurred_at)

    class RecallLinked(Fact["Case"]):
        recall_id: str
        product_batch: str | None

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.recall_id = self.recall_id

    class SurveySent(Fact["Case"]):
        survey_id: str

        def apply_fact(self, aggregate: Case) -> None:
            aggregate.surveys.append(self.survey_id)

    @staticmethod
    def create_id(case_ref: str) -> UUID:
        return aggregate_id("case", case_ref)

    @event(Opened)
    def __init__(
        self,
        *,
        case_ref: str,
        customer_id: str,
        contact_id: str,
        channel: str,
        classification: str,
        topic: str,
        priority: str,
        after_sales_kind: str | None,
        major: bool,
        product_batch: str | None,
        demand: str | None,
        store_id: str | None,
        agent_group: str | None,
        policy_version: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        self._begin(policy_version, occurred_at, source)
        self.case_ref = case_ref
        self.customer_id = customer_id
        self.classification = classification
        self.topic = topic
        self.priority = priority
        self.after_sales_kind = after_sales_kind
        self.major = major
        self.product_batch = product_batch
        self.demand = demand
        self.store_id = store_id
        self.agent_group = agent_group
        self.opened_at = occurred_at
        self.channels: list[str] = [channel]
        self.contact_ids: list[str] = [contact_id]
        self.status = "open"
        self.first_response_at: datetime | None = None
        self.priority_changes = 0
        self.owner: str | None = None
        self.due_at: datetime | None = None
        self.acceptance_criteria: str | None = None
        self.assignments = 0
        self.escalation_level = 1
        self.supervisor_id: str | None = None
        self.options_offered: list[str] = []
        self.option_chosen: str | None = None
        self.progress_updates = 0
        self.progress_clock = 1 if self.tracks_progress else 0
        self.resolved_at: datetime | None = None
        self.first_resolved_at: datetime | None = None
        """When the case was first resolved: what a survey follows (R-SAT-01)."""
        self.resolution_option: str | None = None
        self.resolutions = 0
        self.confirmed_at: datetime | None = None
        self.confirmed_via: str | None = None
        self.closed_at: datetime | None = None
        self.reopen_count = 0
        self.recall_id: str | None = None
        self.surveys: list[str] = []

    @classmethod
    def open(
        cls,
        *,
        case_ref: str,
        customer_id: str,
        contact_id: str,
        channel: str,
        classification: str,
        topic: str,
        priority: str | None = None,
        after_sales_kind: str | None = None,
        major: bool = False,
        product_batch: str | None = None,
        demand: str | None = None,
        store_id: str | None = None,
        agent_group: str | None = None,
        occurred_at: datetime,
        source: SourceRef,
    ) -> Case:
        if classification not in CLASSIFICATIONS or topic not in TOPICS:
            raise CaseRuleViolated(
                f"classification {classification!r} / topic {topic!r} not in the scheme",
                "R-PRI-01",
            )
        chosen = priority or default_priority(classification)
        if chosen not in PRIORITIES:
            raise CaseRuleViolated(f"unknown priority {chosen!r}", "R-PRI-02")
        case = cls(
            case_ref=case_ref,
            customer_id=customer_id,
            contact_id=contact_id,
            channel=channel,
            classification=classification,
            topic=topic,
            priority=chosen,
            after_sales_kind=after_sales_kind,
            major=major,
            product_batch=product_batch,
            demand=demand,
            store_id=store_id,
            agent_group=agent_group,
            policy_version=policy_in_force(occurred_at).version,
            occurred_at=occurred_at,
            source=source,
        )
        case._run_clocks(case.pending_events[-1])
        return case

    @property
    def reassignments(self) -> int:
        """Owners assigned after the first (R-CMP-02), while open or once resolved."""
        return max(self.assignments - 1, 0)

    @property
    def tracks_progress(self) -> bool:
        """Complaints and urgent cases get progress updates until resolved (R-CMP-03)."""
        return self.classification in ("complaint", "urgent") or self.major

    # -- commands ---------------------------------------------------------------------------

    def _open_only(self, what: str) -> None:
        if self.status != "open":
            raise CaseRuleViolated(f"case {self.case_ref!r} is {self.status}; cannot {what}")

    def check_join(self, customer_id: str, occurred_at: datetime) -> None:
        """Everything that can refuse a contact joining this case (R-CH-01)."""
        if customer_id != self.customer_id:
            raise CaseMismatch(f"case {self.case_ref!r} belongs to another customer", "R-CH-01")
        self.require_after_start(occurred_at)

    @command
    def join(
        self,
        *,
        contact_id: str,
        customer_id: str,
        channel: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """A further contact about the same case, on any channel (R-CH-01)."""
        self.check_join(customer_id, occurred_at)
        self._record(
            self.ContactJoined,
            contact_id=contact_id,
            channel=channel,
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def respond(self, *, contact_id: str, occurred_at: datetime, source: SourceRef) -> None:
        """A person answered on one of the case's contacts; the first answer stops the
        response clocks (R-PRI-02, R-PRI-03)."""
        if self.first_response_at is None or occurred_at < self.first_response_at:
            self._record(
                self.Responded, contact_id=contact_id, occurred_at=occurred_at, source=source
            )

    @command
    def set_priority(self, *, priority: str, occurred_at: datetime, source: SourceRef) -> None:
        self.require_chain_order("priority_change", occurred_at)
        if priority not in PRIORITIES:
            raise CaseRuleViolated(f"unknown priority {priority!r}", "R-PRI-02")
        if priority == self.priority:
            self._acknowledge("case.priority_set", occurred_at, source)
        else:
            self._record(
                self.PrioritySet, priority=priority, occurred_at=occurred_at, source=source
            )

    @command
    def assign_owner(
        self,
        *,
        owner: str,
        due_at: datetime,
        acceptance_criteria: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """Every case carries an owner, a due time and acceptance criteria (R-CMP-02).

        A resolved case may be reassigned too: help desks hand a resolved case to whoever
        follows up its confirmation or closure (ServiceNow's log does, 18 times in the
        sample). The reassignment is recorded and counted (``reassignments``); it neither
        reopens the case nor starts an R-CMP-02 clock, the resolution that clock times
        having happened. A closed case is final (R-CMP-04): nothing is assigned to it."""
        self.require_chain_order("owner_assignment", occurred_at)
        if self.status == "closed":
            raise CaseRuleViolated(
                f"case {self.case_ref!r} is closed; a closed case is not reassigned", "R-CMP-04"
            )
        if not owner.strip() or not acceptance_criteria.strip():
            raise CaseRuleViolated("an owner and acceptance criteria are required", "R-CMP-02")
        if due_at <= occurred_at:
            raise CaseRuleViolated("the due time must be after the assignment", "R-CMP-02")
        self._record(
            self.OwnerAssigned,
            owner=owner,
            due_at=due_at,
            acceptance_criteria=acceptance_criteria,
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def escalate(
        self, *, level: int, supervisor_id: str | None, occurred_at: datetime, source: SourceRef
    ) -> None:
        """Three-level response (R-CMP-05): level 2 is a supervisor, 3 management."""
        self._open_only("escalate")
        if level not in ESCALATION_LEVELS:
            raise CaseRuleViolated(f"escalation level {level} is not 1, 2 or 3", "R-CMP-05")
        if level <= self.escalation_level:
            raise CaseRuleViolated(
                f"case is already at level {self.escalation_level}; escalation goes up",
                "R-CMP-05",
            )
        if level >= 2 and not supervisor_id:
            raise CaseRuleViolated("a supervisor takes over from level 2", "R-CMP-05")
        self._record(
            self.Escalated,
            level=level,
            supervisor_id=supervisor_id,
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def offer_options(
        self, *, options: list[str], occurred_at: datetime, source: SourceRef
    ) -> None:
        """1 to 3 distinct solution options (R-CMP-01)."""
        self._open_only("offer options")
        policy = self.policy
        if not policy.options_min <= len(options) <= policy.options_max:
            raise CaseRuleViolated(
                f"{len(options)} options offered; a case offers"
                f" {policy.options_min} to {policy.options_max}",
                "R-CMP-01",
            )
        if len(set(options)) != len(options) or not all(o.strip() for o in options):
            raise CaseRuleViolated("options must be distinct and named", "R-CMP-01")
        self._record(
            self.OptionsOffered, options=list(options), occurred_at=occurred_at, source=source
        )

    @command
    def choose_option(self, *, option: str, occurred_at: datetime, source: SourceRef) -> None:
        """The customer's choice is recorded; only an offered option (R-CMP-01)."""
        self._open_only("choose an option")
        if option not in self.options_offered:
            raise CaseRuleViolated(f"option {option!r} was never offered", "R-CMP-01")
        self._record(self.OptionChosen, option=option, occurred_at=occurred_at, source=source)

    @command
    def send_progress_update(self, *, occurred_at: datetime, source: SourceRef) -> None:
        self.require_chain_order("progress_update", occurred_at)
        self._open_only("send a progress update")
        self._record(self.ProgressUpdateSent, occurred_at=occurred_at, source=source)

    @command
    def resolve(
        self, *, option: str, summary: str | None, occurred_at: datetime, source: SourceRef
    ) -> None:
        self._open_only("resolve")
        if option not in self.options_offered:
            raise CaseRuleViolated(
                f"cannot resolve on option {option!r}: it was never offered", "R-CMP-01"
            )
        if self.option_chosen is not None and option != self.option_chosen:
            raise CaseRuleViolated(
                f"the customer chose {self.option_chosen!r}, not {option!r}", "R-CMP-01"
            )
        if self.owner is None:
            raise CaseRuleViolated("a case is resolved by its owner; none assigned", "R-CMP-02")
        if self.major and self.product_batch and self.recall_id is None:
            raise CaseRuleViolated(
                f"major complaint on product batch {self.product_batch!r} must link to a"
                " recall before resolution",
                "R-CMP-05",
            )
        self._record(
            self.Resolved, option=option, summary=summary, occurred_at=occurred_at, source=source
        )

    @command
    def confirm_resolution(self, *, via: str, occurred_at: datetime, source: SourceRef) -> None:
        """The customer confirms (SMS or online); the time is recorded (R-CMP-04)."""
        if self.status != "resolved" or self.resolved_at is None:
            raise CaseRuleViolated("only a resolved case can be confirmed", "R-CMP-04")
        self.require_in_order(occurred_at, self.resolved_at, "the resolution")
        self._record(self.ResolutionConfirmed, via=via, occurred_at=occurred_at, source=source)

    @command
    def close_without_reply(self, *, occurred_at: datetime, source: SourceRef) -> None:
        """Closed after the stated no-reply period (R-CMP-04)."""
        if self.status != "resolved" or self.resolved_at is None:
            raise CaseRuleViolated("only a resolved case can be closed", "R-CMP-04")
        earliest = self.resolved_at + self.policy.no_reply_close_after
        if occurred_at < earliest:
            raise CaseRuleViolated(
                f"no-reply period runs until {earliest.isoformat()}; close after it or"
                " with the customer's confirmation",
                "R-CMP-04",
            )
        self._record(self.ClosedWithoutReply, occurred_at=occurred_at, source=source)

    @command
    def reopen(self, *, reason: str, occurred_at: datetime, source: SourceRef) -> None:
        """Reopened cases are counted (R-CMP-07)."""
        self.require_chain_order("progress_update", occurred_at)
        if self.status == "open":
            raise CaseRuleViolated(f"case {self.case_ref!r} is open; nothing to reopen")
        self._record(self.Reopened, reason=reason, occurred_at=occurred_at, source=source)

    @command
    def link_recall(
        self, *, recall_id: str, product_batch: str | None, occurred_at: datetime, source: SourceRef
    ) -> None:
        """A major complaint about a product batch links to a recall (R-CMP-05)."""
        self._record(
            self.RecallLinked,
            recall_id=recall_id,
            product_batch=product_batch,
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def survey_sent(self, *, survey_id: str, occurred_at: datetime, source: SourceRef) -> None:
        """A survey follows a resolution (R-SAT-01), in event time: sent before the case's
        first resolution it is refused, whenever that resolution reached the case."""
        first = self.first_resolved_at
        if first is None:
            raise CaseRuleViolated("a survey follows a resolution", "R-SAT-01")
        if occurred_at < first:
            raise CaseRuleViolated(
                f"sent at {occurred_at.isoformat()}, before the case's first resolution"
                f" ({first.isoformat()}); a survey follows a resolution",
                "R-SAT-01",
            )
        self._record(self.SurveySent, survey_id=survey_id, occurred_at=occurred_at, source=source)

    # -- SLA clocks -------------------------------------------------------------------------

    def _response_rules(self, policy: Policy) -> Iterable[ClockCommand]:
        key = f"R-PRI-02:{self.priority_changes}"
        yield Start("R-PRI-02", key, self.opened_at, policy.response_target(self.priority))
        if self.topic == "after_sales":
            target = (
                policy.after_sales_quality
                if self.after_sales_kind in QUALITY_KINDS
                else policy.after_sales_general
            )
            yield Start("R-PRI-03", "R-PRI-03", self.opened_at, target)

    def _progress_target(self, policy: Policy) -> Any:
        return (
            policy.progress_update_urgent if self.priority == "urgent" else (policy.progress_update)
        )

    def clock_rules(self, fact: Any, policy: Policy) -> Iterable[ClockCommand]:
        at = fact.occurred_at
        progress = f"R-CMP-03:{self.progress_clock}"
        survey = f"R-SAT-01:{self.resolutions}"
        if isinstance(fact, Case.Opened):
            yield from self._response_rules(policy)
            if self.tracks_progress:
                yield Start("R-CMP-03", progress, at, self._progress_target(policy))
            if self.major:
                yield Start("R-CMP-05", "R-CMP-05:supervisor", at, policy.supervisor_takeover)
                yield Start("R-CMP-05", "R-CMP-05:solution", at, policy.major_solution)
        elif isinstance(fact, Case.Responded):
            yield Stop(f"R-PRI-02:{self.priority_changes}", at)
            yield Stop("R-PRI-03", at)
        elif isinstance(fact, Case.PrioritySet) and self.first_response_at is None:
            yield Cancel(f"R-PRI-02:{self.priority_changes - 1}", at, "priority changed")
            yield from self._response_rules(policy)
        elif isinstance(fact, Case.OwnerAssigned) and self.status == "open":
            if self.assignments > 1:
                yield Cancel(f"R-CMP-02:{self.assignments - 1}", at, "reassigned")
            yield Start("R-CMP-02", f"R-CMP-02:{self.assignments}", at, fact.due_at - at)
        elif isinstance(fact, Case.Escalated) and fact.level >= 2:
            yield Stop("R-CMP-05:supervisor", at)
        elif isinstance(fact, Case.OptionsOffered):
            yield Stop("R-CMP-05:solution", at)
        elif isinstance(fact, Case.ProgressUpdateSent) and self.tracks_progress:
            yield Stop(f"R-CMP-03:{self.progress_clock - 1}", at)
            yield Start("R-CMP-03", progress, at, self._progress_target(policy))
        elif isinstance(fact, Case.Resolved):
            yield Stop(progress, at)
            yield Stop(f"R-CMP-02:{self.assignments}", at)
            yield Stop("R-CMP-05:solution", at)
            yield Start("R-SAT-01", survey, at, policy.survey_after_resolution)
        elif isinstance(fact, Case.SurveySent):
            yield Stop(survey, at)
        elif isinstance(fact, Case.Reopened) and self.tracks_progress:
            yield Start("R-CMP-03", progress, at, self._progress_target(policy))

    def state(self) -> dict[str, Any]:
        """The case's facts as plain values (for auditors and tests)."""
        return {
            "id": str(self.id),
            "case_ref": self.case_ref,
            "customer_id": self.customer_id,
            "classification": self.classification,
            "topic": self.topic,
            "priority": self.priority,
            "store_id": self.store_id,
            "agent_group": self.agent_group,
            "opened_at": self.opened_at.isoformat(),
            "channels": list(self.channels),
            "contact_ids": list(self.contact_ids),
            "status": self.status,
            "owner": self.owner,
            "escalation_level": self.escalation_level,
            "options_offered": list(self.options_offered),
            "option_chosen": self.option_chosen,
            "resolution_option": self.resolution_option,
            "reopen_count": self.reopen_count,
            "policy_version": self.policy_version,
            "outcomes": {k: (o.rule, o.met, o.actual) for k, o in sorted(self.outcomes().items())},
        }

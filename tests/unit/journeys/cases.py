"""The rules of the cases and their surveys: priorities, owners, escalations, options,
resolutions, closing, reopening, recalls (R-PRI-02, R-CMP-01..05, R-CMP-07), surveys
(R-SAT-01..03)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from tests.unit.journeys.machine import JourneyMachineBase, step
from tests.unit.journeys.model import CaseM, SurveyM, choose, prefer
from tests.unit.journeys.setting import (
    DUE_IN,
    GAPS,
    MAX_SURVEYS,
    OPTION_POOL,
    OPTIONS,
    PARKED,
    PICK,
    POLICY,
    PRIORITY_NOOP,
    SECOND,
)


class CaseRules(JourneyMachineBase):
    """Cases on their usual path and off it, and the surveys that follow them."""

    # -- cases (R-PRI-02, R-CMP, R-SAT-01) --------------------------------------------------

    def case_priority_set(self, case: CaseM, at: datetime, priority: str) -> None:
        """R-PRI-02: a (re)classification restarts the response clock."""
        bug = PRIORITY_NOOP if priority == case.priority else None
        case.priority = priority
        data = {"case_id": case.ref, "priority": priority}
        self.send(
            case.customer, at, "case.priority_set", data, touches=[case.aid], redelivery_bug=bug
        )

    def case_owner_assigned(self, case: CaseM, at: datetime, due_in: timedelta) -> None:
        """R-CMP-02: an owner, a due time and acceptance criteria (an open case)."""
        case.owner = True
        data = {
            "case_id": case.ref,
            "owner": "ag-17",
            "due_at": (at + due_in).isoformat(),
            "acceptance_criteria": "the customer confirms the fix",
        }
        self.send(case.customer, at, "case.owner_assigned", data, touches=[case.aid])

    def case_escalated(self, case: CaseM, at: datetime, level: int, supervisor: bool) -> None:
        """R-CMP-05: escalation goes up, a supervisor takes over from level 2."""
        data: dict[str, Any] = {"case_id": case.ref, "level": level}
        if supervisor:
            data["supervisor_id"] = "sup-3"
        expect = None if level > case.level and supervisor else "R-CMP-05"
        if expect is None:
            case.level = level
        self.send(case.customer, at, "case.escalated", data, expect=expect, touches=[case.aid])

    def case_options_offered(self, case: CaseM, at: datetime, options: list[str]) -> None:
        """R-CMP-01: 1 to 3 distinct options (a repeated one is refused)."""
        expect = None if len(set(options)) == len(options) else "R-CMP-01"
        if expect is None:
            case.offered = list(options)
        data = {"case_id": case.ref, "options": options}
        self.send(
            case.customer, at, "case.options_offered", data, expect=expect, touches=[case.aid]
        )

    def case_option_chosen(self, case: CaseM, at: datetime, option: str) -> None:
        """R-CMP-01: only an offered option can be chosen."""
        expect = None if option in case.offered else "R-CMP-01"
        if expect is None:
            case.chosen = option
        data = {"case_id": case.ref, "option": option}
        self.send(case.customer, at, "case.option_chosen", data, expect=expect, touches=[case.aid])

    def case_resolved(self, case: CaseM, at: datetime, option: str) -> None:
        """R-CMP-01: on an offered option, the customer's choice if any; R-CMP-02: by its
        owner; R-CMP-05: a major complaint on a batch links a recall first."""
        expect: str | None = None
        if option not in case.offered or (case.chosen is not None and option != case.chosen):
            expect = "R-CMP-01"
        elif not case.owner:
            expect = "R-CMP-02"
        elif case.major and case.product_batch and not case.recall:
            expect = "R-CMP-05"
        if expect is None:
            case.status = "resolved"
            case.resolutions += 1
            case.resolved_at = at
        data = {"case_id": case.ref, "option": option, "summary": "done"}
        self.send(case.customer, at, "case.resolved", data, expect=expect, touches=[case.aid])

    def case_closed(self, case: CaseM, at: datetime, how: str) -> None:
        """R-CMP-04: closed on the customer's confirmation (``sms``, ``online``) or after
        the no-reply period (``no_reply``); only a resolved case."""
        expect: str | None = None
        if case.status != "resolved":
            expect = "R-CMP-04"
        elif how == "no_reply":
            assert case.resolved_at is not None
            if at < case.resolved_at + POLICY.no_reply_close_after:
                expect = "R-CMP-04"
        if expect is None:
            case.status = "closed"
        if how == "no_reply":
            data = {"case_id": case.ref}
            event_type = "case.closed_no_reply"
        else:
            data = {"case_id": case.ref, "via": how}
            event_type = "case.resolution_confirmed"
        self.send(case.customer, at, event_type, data, expect=expect, touches=[case.aid])

    def case_reopened(self, case: CaseM, at: datetime) -> None:
        """R-CMP-07: a resolved or closed case is reopened (and counted)."""
        case.status = "open"
        case.resolved_at = None
        data = {"case_id": case.ref, "reason": "it broke again"}
        self.send(case.customer, at, "case.reopened", data, touches=[case.aid])

    def case_recall_linked(self, case: CaseM, at: datetime) -> None:
        """R-CMP-05: a major complaint links to a recall."""
        case.recall = True
        data = {"case_id": case.ref, "recall_id": "rc-1", "product_batch": "KT-2209"}
        self.send(case.customer, at, "case.recall_linked", data, touches=[case.aid])

    def survey_sent(self, case: CaseM, at: datetime) -> None:
        """R-SAT-01: a survey follows a resolution: before one it waits for it, and is
        refused when it comes (the survey was sent before it)."""
        survey = SurveyM(self.new_id("s"), case.customer)
        data = {"survey_id": survey.survey_id, "case_id": case.ref}
        if not case.resolutions:
            self.send(
                case.customer,
                at,
                "survey.sent",
                data,
                expect=PARKED,
                waits_for=case.aid,
                on_release="R-SAT-01",
                lets_in=["case.resolved"],
            )
            return
        self.surveys[survey.survey_id] = survey
        self.created(survey.aid, survey.customer)
        self.send(case.customer, at, "survey.sent", data, touches=(survey.aid, case.aid))

    @precondition(lambda self: bool(self.cases))
    @rule(
        pick=PICK,
        gap=GAPS,
        due_in=DUE_IN,
        options=OPTIONS,
        which=PICK,
        wants=st.sampled_from(["survey", "sms", "online", "no_reply", "reopen"]),
    )
    @step
    def case_next_step(
        self,
        pick: int,
        gap: timedelta,
        due_in: timedelta,
        options: list[str],
        which: int,
        wants: str,
    ) -> None:
        """A case one step further on its usual path: recall link (R-CMP-05), owner
        (R-CMP-02), options and the customer's choice (R-CMP-01), resolution, then a
        survey (R-SAT-01), confirmation or closing after the no-reply period exactly at
        its end (R-CMP-04), or a reopening (R-CMP-07)."""
        case = choose(list(self.cases.values()), pick)
        assert case is not None
        if case.status == "resolved" and wants == "no_reply":
            assert case.resolved_at is not None
            end = case.resolved_at + POLICY.no_reply_close_after
            at = self.tick(case.customer, max(end - self.now[case.customer], SECOND))
        else:
            at = self.tick(case.customer, gap)
        if case.status == "open":
            if case.major and case.product_batch and not case.recall:
                self.case_recall_linked(case, at)
            elif not case.owner:
                self.case_owner_assigned(case, at, due_in)
            elif not case.offered:
                self.case_options_offered(case, at, sorted(set(options)))
            elif case.chosen not in [None, *case.offered] or (case.chosen is None and which % 2):
                self.case_option_chosen(case, at, case.offered[which % len(case.offered)])
            else:
                self.case_resolved(case, at, case.chosen or case.offered[0])
        elif wants == "survey" and len(self.surveys) < MAX_SURVEYS:
            self.survey_sent(case, at)
        elif wants == "reopen" or case.status == "closed":
            self.case_reopened(case, at)
        else:
            self.case_closed(case, at, wants if wants != "survey" else "sms")

    @precondition(lambda self: bool(self.cases))
    @rule(
        pick=PICK,
        gap=GAPS,
        what=st.sampled_from(
            [
                "priority",
                "owner",
                "escalate",
                "options",
                "choose",
                "progress",
                "resolve",
                "confirm",
                "no_reply",
                "reopen",
                "recall",
                "survey",
            ]
        ),
        priority=st.sampled_from(["urgent", "important", "general"]),
        due_in=DUE_IN,
        level=st.sampled_from([2, 3]),
        supervisor=st.booleans(),
        options=st.one_of(OPTIONS, st.lists(st.sampled_from(OPTION_POOL), min_size=2, max_size=3)),
        option=st.sampled_from(OPTION_POOL),
    )
    @step
    def case_event(
        self,
        pick: int,
        gap: timedelta,
        what: str,
        priority: str,
        due_in: timedelta,
        level: int,
        supervisor: bool,
        options: list[str],
        option: str,
    ) -> None:
        """Any case event at any time: refused on purpose when it breaks a rule (an option
        never offered or offered twice, a resolution without owner, a confirmation or a
        survey of an unresolved case, an escalation that does not go up)."""
        open_only = what in ("owner", "escalate", "options", "choose", "progress", "resolve")
        candidates = list(self.cases.values())
        if open_only:
            candidates = self.open_cases()
        elif what == "reopen":
            candidates = [c for c in candidates if c.status != "open"]
        elif what == "recall":
            candidates = [c for c in candidates if c.major]
        # Refusals without a rule id (an open case reopened, a closed case changed) are not
        # generated: every refusal here must name its rule.
        case = choose(candidates, pick)
        if case is None:
            return
        at = self.tick(case.customer, gap)
        if what == "priority":
            self.case_priority_set(case, at, priority)
        elif what == "owner":
            self.case_owner_assigned(case, at, due_in)
        elif what == "escalate":
            self.case_escalated(case, at, level, supervisor)
        elif what == "options":
            self.case_options_offered(case, at, options)
        elif what == "choose":
            self.case_option_chosen(case, at, option)
        elif what == "progress":
            data = {"case_id": case.ref}
            self.send(case.customer, at, "case.progress_update_sent", data, touches=[case.aid])
        elif what == "resolve":
            self.case_resolved(case, at, option)
        elif what in ("confirm", "no_reply"):
            self.case_closed(case, at, "online" if what == "confirm" else "no_reply")
        elif what == "reopen":
            self.case_reopened(case, at)
        elif what == "recall":
            self.case_recall_linked(case, at)
        elif len(self.surveys) < MAX_SURVEYS:
            self.survey_sent(case, at)

    # -- surveys (R-SAT-01..03) -------------------------------------------------------------

    @precondition(lambda self: bool(self.surveys))
    @rule(
        pick=PICK,
        gap=GAPS,
        scores=st.tuples(*[st.integers(1, 5)] * 4),
        nps=st.one_of(st.none(), st.integers(0, 10)),
        dissatisfied=st.booleans(),
        follow_up=st.booleans(),
    )
    @step
    def survey_event(
        self,
        pick: int,
        gap: timedelta,
        scores: tuple[int, int, int, int],
        nps: int | None,
        dissatisfied: bool,
        follow_up: bool,
    ) -> None:
        """R-SAT-01 answered once, scores 1-5 and NPS 0-10; R-SAT-02 a supervisor follows
        up an answer (a low score starts that clock); R-SAT-03 a top score thanks."""
        survey = prefer(self.surveys.values(), lambda s: s.answered == follow_up, pick)
        assert survey is not None
        at = self.tick(survey.customer, gap)
        if follow_up:
            data: dict[str, Any] = {"survey_id": survey.survey_id, "supervisor_id": "sup-3"}
            expect = None if survey.answered else "R-SAT-02"
            event_type = "survey.followed_up"
        else:
            names = ("attitude", "efficiency", "solution", "overall")
            data = {
                "survey_id": survey.survey_id,
                **dict(zip(names, scores, strict=True)),
                "dissatisfied": dissatisfied,
            }
            if nps is not None:
                data["nps"] = nps
            expect = "R-SAT-01" if survey.answered else None
            survey.answered = True
            event_type = "survey.answered"
        self.send(survey.customer, at, event_type, data, expect=expect, touches=[survey.aid])

"""Contact and case journeys (R-CH, R-RESP, R-PRI, R-CMP) and the survey after a case
(R-SAT-01..03), all on the contacts topic: a survey needs its case resolved first.

Inquiries and service requests end with their contact, resolved in the first contact in
most cases (R-KPI-02); complaints and urgent cases go on to an owner (R-CMP-02),
progress updates (R-CMP-03), escalation (R-CMP-05), perhaps a second contact on another
channel (R-CH-01), options and the customer's choice (R-CMP-01), resolution, confirmation
or closing after the no-reply period (R-CMP-04), sometimes a reopening (R-CMP-07).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tools.simulator.catalogue import (
    AGENT_GROUPS,
    CONTACT_CHANNELS,
    IM_CHANNELS,
    SUPERVISORS,
)
from tools.simulator.config import RATES
from tools.simulator.timeline import DAY, HOUR, MINUTE, Timeline, Track

OPTIONS = ("replace", "refund", "repair", "voucher", "reship", "explanation")
SCORES_SATISFIED = (7.0, 2.6, 8.2, 20.3, 61.9)
"""Overall score 1..5 weights after a smooth journey: Olist reviews of orders delivered on
time (``../shared/data/olist-ecommerce``)."""
SCORES_COMPLAINT = (55.8, 10.2, 9.6, 9.6, 14.8)
"""Overall score 1..5 weights after a complaint: Olist reviews of orders delivered late."""
VERIFICATIONS = ("order_number", "member_id", "phone")


@dataclass(frozen=True)
class CaseRequest:
    """What a customer contacts the chain about."""

    classification: str
    topic: str
    channel: str
    demand: str
    after_sales_kind: str | None = None
    store_id: str | None = None
    agent_group: str | None = None
    major: bool = False
    product_batch: str | None = None


def case_journey(timeline: Timeline, start: datetime, request: CaseRequest) -> str:
    """Every step of one case from its first contact; returns the case's id."""
    track = timeline.track("contact.opened", start)
    case_ref = timeline.next_id("ct")
    rng = track.rng
    opened: dict[str, Any] = {
        "contact_id": case_ref,
        "classification": request.classification,
        "topic": request.topic,
        "demand": request.demand,
        "agent_group": request.agent_group or rng.choice(AGENT_GROUPS),
    }
    if request.after_sales_kind:
        opened["after_sales_kind"] = request.after_sales_kind
    if request.major:
        opened["major"] = True
        if request.product_batch:
            opened["product_batch"] = request.product_batch
    if request.store_id:
        opened["store_id"] = request.store_id
    if track.chance(0.4):
        opened["verified_by"] = rng.choice(VERIFICATIONS)
    if request.channel in IM_CHANNELS:
        # A chat starts when the customer writes: R-RESP-01 counts from the opening.
        opened["first_message_id"] = "m0"
    track.add("contact.opened", request.channel, opened, version=3)
    agent = f"ag-{rng.randint(1, 120):03d}"
    if not _first_contact(track, case_ref, request, agent, "verified_by" in opened):
        return case_ref  # abandoned: the case stays open
    if request.classification in ("inquiry", "service"):
        resolved = track.chance(0.88)  # R-KPI-02: first-contact resolution >= 85 %
        track.after(30, 15 * MINUTE, "contact.closed", request.channel, _closed(case_ref, resolved))
        if resolved and (request.classification == "service" or track.chance(0.4)):
            _answered(track, case_ref, request.channel, agent)
        return case_ref
    _complaint(track, case_ref, request, agent, start)
    return case_ref


def _answered(track: Track, case_ref: str, channel: str, agent: str) -> None:
    """A question answered in its first contact, recorded as a resolved case by its owner
    on the one option "answer" (R-CMP-01/02), so that a survey can follow (R-SAT-01)."""
    case = {"case_id": case_ref}
    assigned = {
        **case,
        "owner": agent,
        "due_at": (track.now + timedelta(days=1)).isoformat(),
        "acceptance_criteria": "the customer's question is answered",
    }
    track.after(1, 60, "case.owner_assigned", "web", assigned)
    track.after(1, 30, "case.options_offered", "web", {**case, "options": ["answer"]})
    track.after(1, 30, "case.option_chosen", channel, {**case, "option": "answer"})
    track.later(1, 60)
    _resolution(track, case, channel, "answer", complaint=False)


def _closed(contact_id: str, resolved: bool) -> dict[str, Any]:
    return {"contact_id": contact_id, "resolved": resolved}


def _first_contact(
    track: Track, contact_id: str, request: CaseRequest, agent: str, verified: bool
) -> bool:
    """The first answer, mostly within the channel's target counted from the opening
    (R-RESP-01..05, R-PRI-02/03): the ring of a call, the visit to a store, the chat the
    customer opened by writing; on chat perhaps a bot first and a hand-off to a person
    within 10 s of the customer's request (R-RESP-02); then the customer's messages,
    identity verification before an account-specific answer (R-CUS-01). False when the
    customer left unanswered."""
    channel = request.channel
    contact = {"contact_id": contact_id}
    live = channel in (*IM_CHANNELS, "phone", "store")
    if track.chance(RATES.abandoned):
        if not live:
            _messages(track, contact_id, channel)
        track.after(5, 25 if live else 10 * MINUTE, "contact.abandoned", channel, contact)
        return False
    reply: dict[str, Any] = {**contact, "responder": "agent", "agent_id": agent}
    if channel in IM_CHANNELS and track.chance(RATES.bot_first):
        track.after(1, 5, "contact.replied", channel, {**contact, "responder": "bot"})
        _messages(track, contact_id, channel)
        track.after(10, 90, "contact.handoff_requested", channel, contact)
        handoff = (2, 10) if track.chance(RATES.im_reply_in_time) else (11, 60)
        track.after(*handoff, "contact.handed_off", channel, {**contact, "agent_id": agent})
        track.after(2, 20, "contact.replied", channel, reply)
    elif live:
        track.after(*_reply_delay(track, request), "contact.replied", channel, reply)
        _messages(track, contact_id, channel)
    else:
        _messages(track, contact_id, channel)
        low, high = _reply_delay(track, request)
        if track.chance(0.05):  # R-RESP-05: a reply promised, then given within 5 min
            track.after(
                low, high, "contact.reply_promised", channel, {**contact, "agent_id": agent}
            )
            low, high = (60, 290) if track.chance(0.9) else (301, 900)
        track.after(low, high, "contact.replied", channel, reply)
    if not verified and track.chance(0.35):
        method = track.rng.choice(VERIFICATIONS)
        track.after(5, 60, "contact.identity_verified", channel, {**contact, "method": method})
        verified = True
    if verified and track.chance(0.5):  # R-CUS-01: account details after verification
        account = {**reply, "account_specific": True}
        track.after(10, 120, "contact.replied", channel, account)
    return True


def _messages(track: Track, contact_id: str, channel: str) -> None:
    for n in range(track.rng.randint(0, 3)):
        message = {"contact_id": contact_id, "message_id": f"m{n + 1}"}
        track.after(5, 90, "contact.message", channel, message)


def _reply_delay(track: Track, request: CaseRequest) -> tuple[int, int]:
    """Seconds to the first human answer: in target with the channel's rate, else late."""
    channel = request.channel
    if channel in IM_CHANNELS:  # R-RESP-01: 30 s
        return (3, 28) if track.chance(RATES.im_reply_in_time) else (31, 240)
    if channel == "phone":  # R-RESP-03: 15 s in working hours
        return (2, 14) if track.chance(RATES.phone_answer_in_time) else (16, 120)
    if channel == "store":  # R-RESP-04: 30 s
        return (3, 28) if track.chance(0.95) else (31, 180)
    if request.topic == "after_sales" and request.after_sales_kind in ("quality", "damaged"):
        return (60, 14 * MINUTE) if track.chance(0.9) else (16 * MINUTE, 2 * HOUR)  # R-PRI-03
    if request.classification in ("complaint", "urgent"):  # R-PRI-02: 2 h, urgent 30 min
        target = 30 * MINUTE if request.classification == "urgent" else 2 * HOUR
        return (60, target - 60) if track.chance(0.9) else (target + 60, 3 * target)
    return (5 * MINUTE, 20 * HOUR) if track.chance(0.95) else (25 * HOUR, 40 * HOUR)


def _complaint(
    track: Track, case_ref: str, request: CaseRequest, agent: str, opened_at: datetime
) -> None:
    """A complaint's or urgent case's way to resolution, after the first answer."""
    rng = track.rng
    case = {"case_id": case_ref}
    channel = request.channel
    urgent = request.classification == "urgent" or request.major
    assigned_at = track.later(60, 30 * MINUTE)
    due = assigned_at + timedelta(days=2 if urgent else 5)
    track.add(
        "case.owner_assigned",
        "web",
        {
            **case,
            "owner": agent,
            "due_at": due.isoformat(),
            "acceptance_criteria": "the customer confirms the chosen solution was delivered",
        },
    )
    if request.classification == "complaint" and not urgent and track.chance(0.1):
        track.after(60, 15 * MINUTE, "case.priority_set", "web", {**case, "priority": "urgent"})
        urgent = True
    if request.major:  # R-CMP-05: a supervisor within 1 h
        takeover = (5 * MINUTE, 55 * MINUTE) if track.chance(0.9) else (61 * MINUTE, 3 * HOUR)
        level2 = {**case, "level": 2, "supervisor_id": rng.choice(SUPERVISORS)}
        track.after(*takeover, "case.escalated", "web", level2)
        if request.product_batch:
            recall = {
                **case,
                "recall_id": f"rc-{request.product_batch}",
                "product_batch": request.product_batch,
            }
            track.after(10 * MINUTE, 2 * HOUR, "case.recall_linked", "web", recall)
    elif track.chance(RATES.escalation):
        level2 = {**case, "level": 2, "supervisor_id": rng.choice(SUPERVISORS)}
        track.after(10 * MINUTE, 6 * HOUR, "case.escalated", "web", level2)
        if track.chance(0.2):
            level3 = {**case, "level": 3, "supervisor_id": rng.choice(SUPERVISORS)}
            track.after(HOUR, 12 * HOUR, "case.escalated", "web", level3)
    track.after(30, 10 * MINUTE, "contact.closed", channel, _closed(case_ref, False))

    # Resolution some hours or days later (ServiceNow: median 22.6 h to resolution),
    # with progress updates every 24 h, urgent every 4 h (R-CMP-03), a few of them late.
    span = rng.choice((2, 6, 12, 20, 30, 40, 48, 72, 100)) * HOUR + rng.randint(0, 2 * HOUR)
    resolve_at = track.now + timedelta(seconds=span)
    if track.chance(RATES.second_contact):
        _second_contact(track, case_ref, request, agent)
    interval = 4 * HOUR if urgent else 24 * HOUR
    last_update = opened_at  # R-CMP-03 counts from the opening, then from each update
    while True:
        in_time = track.chance(0.95)
        gap = rng.randint(interval // 2, interval - 600) if in_time else interval + 1800
        due_update = last_update + timedelta(seconds=gap)
        if due_update >= resolve_at:
            break
        last_update = track.move_to(due_update)
        track.add("case.progress_update_sent", "web", case)
    options = rng.sample(OPTIONS, rng.randint(1, 3))
    track.move_to(resolve_at - timedelta(seconds=rng.randint(HOUR, 2 * HOUR)))
    track.add("case.options_offered", "web", {**case, "options": options})
    chosen = rng.choice(options)
    if track.chance(0.8):
        track.after(60, 50 * MINUTE, "case.option_chosen", channel, {**case, "option": chosen})
    track.move_to(resolve_at)
    _resolution(track, case, channel, chosen, complaint=True)
    if track.chance(RATES.reopen):  # R-CMP-07
        reason = {**case, "reason": "the problem came back"}
        track.after(HOUR, 5 * DAY, "case.reopened", channel, reason)
        track.after(HOUR, 12 * HOUR, "case.progress_update_sent", "web", case)
        track.later(HOUR, 12 * HOUR)
        _resolution(track, case, channel, chosen, complaint=True, survey=False)


def _second_contact(track: Track, case_ref: str, request: CaseRequest, agent: str) -> None:
    """The customer comes back on another channel; the case keeps one history (R-CH-01)."""
    rng = track.rng
    channel = rng.choice([c for c in CONTACT_CHANNELS if c != request.channel])
    contact_id = f"{case_ref}-2"
    joined = {
        "contact_id": contact_id,
        "case_id": case_ref,
        "classification": request.classification,
        "topic": request.topic,
    }
    track.after(30 * MINUTE, 6 * HOUR, "contact.opened", channel, joined, version=3)
    # Opened before the customer writes: on chat, R-RESP-01 counts from this message.
    track.after(5, 60, "contact.message", channel, {"contact_id": contact_id, "message_id": "m1"})
    follow_up = CaseRequest(request.classification, request.topic, channel, request.demand)
    low, high = _reply_delay(track, follow_up)
    answer = {"contact_id": contact_id, "responder": "agent", "agent_id": agent}
    track.after(low, high, "contact.replied", channel, answer)
    track.after(30, 10 * MINUTE, "contact.closed", channel, _closed(contact_id, False))


def _resolution(
    track: Track,
    case: dict[str, Any],
    channel: str,
    chosen: str,
    *,
    complaint: bool,
    survey: bool = True,
) -> None:
    """Resolved, then confirmed by the customer or closed after the no-reply period
    (R-CMP-04); the survey runs on its own clock from the resolution (R-SAT-01)."""
    resolved_at = track.now
    track.add("case.resolved", "web", {**case, "option": chosen, "summary": f"{chosen} done"})
    if survey and track.chance(RATES.survey_sent):
        _survey(track, case["case_id"], channel, resolved_at, complaint)
    if track.chance(RATES.no_reply_close):
        track.move_to(resolved_at + timedelta(hours=72))
        track.after(60, 8 * HOUR, "case.closed_no_reply", "web", case)
    else:
        via = track.rng.choice(("sms", "online"))
        track.move_to(resolved_at)
        track.after(MINUTE, 48 * HOUR, "case.resolution_confirmed", channel, {**case, "via": via})


def _survey(
    track: Track, case_ref: str, channel: str, resolved_at: datetime, complaint: bool
) -> None:
    """Sent within 24 h of the resolution (R-SAT-01), answered by about half; a score of
    3 or less is followed up by a supervisor within 1 h (R-SAT-02)."""
    rng = track.rng
    survey = track.timeline.track(track.route, resolved_at)
    survey_id = survey.timeline.next_id("sv")
    sent = (10 * MINUTE, 23 * HOUR) if survey.chance(0.95) else (25 * HOUR, 40 * HOUR)
    survey.after(*sent, "survey.sent", "app", {"survey_id": survey_id, "case_id": case_ref})
    if not survey.chance(RATES.survey_answered):
        return
    answer = _scores(rng, SCORES_COMPLAINT if complaint else SCORES_SATISFIED)
    answer["survey_id"] = survey_id
    survey.after(10 * MINUTE, 72 * HOUR, "survey.answered", channel, answer)
    scores = (answer[name] for name in ("attitude", "efficiency", "solution", "overall"))
    if min(scores) <= 3 or answer.get("dissatisfied"):  # any score of 3 or less (R-SAT-02)
        within = (
            (5 * MINUTE, 55 * MINUTE)
            if survey.chance(RATES.low_score_followed_up)
            else (
                61 * MINUTE,
                8 * HOUR,
            )
        )
        follow_up = {"survey_id": survey_id, "supervisor_id": rng.choice(SUPERVISORS)}
        survey.after(*within, "survey.followed_up", "phone", follow_up)


def _scores(rng: Any, weights: tuple[float, ...]) -> dict[str, Any]:
    """R-SAT-01: four 1-5 scores around the overall one, an NPS answer (0-10) from it."""
    overall = rng.choices((1, 2, 3, 4, 5), weights)[0]

    def near() -> int:
        return int(min(5, max(1, overall + rng.choice((-1, 0, 0, 0, 1)))))

    nps_range = {1: (0, 3), 2: (2, 5), 3: (4, 7), 4: (7, 9), 5: (9, 10)}[overall]
    scores: dict[str, Any] = {
        "attitude": near(),
        "efficiency": near(),
        "solution": near(),
        "overall": overall,
        "nps": rng.randint(*nps_range),
    }
    if overall <= 2 and rng.random() < 0.5:
        scores["dissatisfied"] = True
        scores["comment"] = "the problem took too long to solve"
    elif overall == 5 and rng.random() < 0.3:
        scores["comment"] = "quick and friendly, thank you"
    return scores

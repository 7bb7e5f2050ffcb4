"""The customer: profile, consents, notes and erasure request of one ``customer_id``.

Owns consent for personal data (R-CUS-02) and factual notes (R-CUS-03). Identity
verification (R-CUS-01) belongs to the Contact; masking by role (R-CUS-04) is done where
personal data is read, not here.

Personal fields (name, phone, email, address, id number) are kept together in one
``personal: dict[str, str]`` in the aggregate and in its events, so that they can be
encrypted with a key per customer and erased by deleting that key (DESIGN.md "Privacy").
The customer has no SLA clocks; it still records the policy version in force at its
registration, like every journey aggregate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import Fact, JourneyAggregate, command
from domain.clocks import ClockCommand
from domain.errors import DomainError
from domain.ids import aggregate_id
from domain.notes import labels_in
from domain.policy import Policy, policy_in_force
from domain.provenance import SourceRef

PERSONAL_FIELDS = frozenset({"name", "phone", "email", "address", "id_number"})
"""The personal data a customer record may hold (R-CUS-02); encrypted per customer later."""
CONSENT_PURPOSES = frozenset({"service", "marketing", "research"})
"""What a customer can consent to (R-CUS-02)."""
SERVICE = "service"
"""Personal data is collected only with consent for this purpose (R-CUS-02)."""

_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class ConsentRequired(DomainError):
    """Personal data without recorded ``service`` consent, or after an erasure request
    (R-CUS-02)."""


class SubjectiveNote(DomainError):
    """A note that labels the customer instead of stating facts (R-CUS-03). ``labels``:
    each label as written with the vocabulary words that make it one ("difficult
    customer", "客户很难缠"), never other words of the note."""

    def __init__(self, message: str, rule: str | None = None, labels: Sequence[str] = ()) -> None:
        super().__init__(message, rule)
        self.labels = tuple(labels)


class InvalidCustomerData(DomainError):
    """A field the customer record cannot hold (unknown personal field, purpose, date)."""


class AlreadyRegistered(DomainError):
    """A second registration of the same customer (a new ``event_id``)."""


def is_month_day(value: str) -> bool:
    """``MM-DD`` of a day that exists in some year (29 February included)."""
    match = re.fullmatch(r"(\d{2})-(\d{2})", value)
    if match is None:
        return False
    month, day = int(match[1]), int(match[2])
    return 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1]


def _check_personal(personal: Mapping[str, str]) -> None:
    unknown = sorted(set(personal) - PERSONAL_FIELDS)
    if unknown:
        raise InvalidCustomerData(
            f"unknown personal field(s) {', '.join(unknown)}; known: {sorted(PERSONAL_FIELDS)}",
            "R-CUS-02",
        )
    empty = sorted(name for name, value in personal.items() if not value.strip())
    if empty:
        raise InvalidCustomerData(f"empty personal field(s) {', '.join(empty)}", "R-CUS-02")


def _check_purpose(purpose: str) -> None:
    if purpose not in CONSENT_PURPOSES:
        raise InvalidCustomerData(
            f"unknown consent purpose {purpose!r}; known: {sorted(CONSENT_PURPOSES)}",
            "R-CUS-02",
        )


def _check_birthday(birthday: str | None) -> None:
    if birthday is not None and not is_month_day(birthday):
        raise InvalidCustomerData(f"birthday {birthday!r} is not a month-day (MM-DD)")


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


class Customer(JourneyAggregate):
    started_by = "the customer's registration"

    class Registered(Aggregate.Created):
        customer_id: str
        member_id: str | None
        personal: dict[str, str]
        consents: list[str]
        birthday: str | None
        preferences: list[str]
        channel: str
        policy_version: str
        occurred_at: datetime
        source: SourceRef

    class ConsentGranted(Fact["Customer"]):
        purpose: str

        def apply_fact(self, aggregate: Customer) -> None:
            aggregate.consent_statements.append((self.occurred_at, self.purpose, True))

    class ConsentWithdrawn(Fact["Customer"]):
        purpose: str

        def apply_fact(self, aggregate: Customer) -> None:
            aggregate.consent_statements.append((self.occurred_at, self.purpose, False))

    class ProfileUpdated(Fact["Customer"]):
        """Changed fields only; ``None`` leaves preferences / birthday as they were."""

        personal: dict[str, str]
        preferences: list[str] | None
        birthday: str | None

        def apply_fact(self, aggregate: Customer) -> None:
            # Each field keeps its newest value by event time, whatever the arrival order.
            at = self.occurred_at
            for name, value in self.personal.items():
                if at >= aggregate.changed_at.get(name, at):
                    aggregate.personal[name] = value
                    aggregate.changed_at[name] = at
            if self.preferences is not None and at >= aggregate.changed_at.get("preferences", at):
                aggregate.preferences = list(self.preferences)
                aggregate.changed_at["preferences"] = at
            if self.birthday is not None and at >= aggregate.changed_at.get("birthday", at):
                aggregate.birthday = self.birthday
                aggregate.changed_at["birthday"] = at

    class NoteAdded(Fact["Customer"]):
        """``policy_version``: the policy whose vocabulary judged the note (R-CUS-03)."""

        note: str
        author: str
        policy_version: str

        def apply_fact(self, aggregate: Customer) -> None:
            aggregate.notes.append(
                {"note": self.note, "author": self.author, "at": self.occurred_at.isoformat()}
            )

    class ErasureRequested(Fact["Customer"]):
        """Administrative: stamped when an admin asked, so it never moves event time."""

        reason: str | None
        moves_event_time = False

        def apply_fact(self, aggregate: Customer) -> None:
            aggregate.erasure_requested_at = self.occurred_at
            aggregate.erasure_reason = self.reason

    @staticmethod
    def create_id(customer_id: str) -> UUID:
        return aggregate_id("customer", customer_id)

    @event(Registered)
    def __init__(
        self,
        *,
        customer_id: str,
        member_id: str | None,
        personal: dict[str, str],
        consents: list[str],
        birthday: str | None,
        preferences: list[str],
        channel: str,
        policy_version: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        self._begin(policy_version, occurred_at, source)
        self.customer_id = customer_id
        self.member_id = member_id
        self.channel = channel
        self.registered_at = occurred_at
        self.personal: dict[str, str] = dict(personal)
        self.birthday = birthday
        self.preferences: list[str] = list(preferences)
        self.changed_at: dict[str, datetime] = {
            name: occurred_at for name in [*personal, "preferences", "birthday"]
        }
        self.consent_statements: list[tuple[datetime, str, bool]] = [
            (occurred_at, purpose, True) for purpose in consents
        ]
        self.notes: list[dict[str, str]] = []
        self.erasure_requested_at: datetime | None = None
        self.erasure_reason: str | None = None

    @classmethod
    def register(
        cls,
        *,
        customer_id: str,
        member_id: str | None = None,
        personal: Mapping[str, str] | None = None,
        consents: Iterable[str] = (),
        birthday: str | None = None,
        preferences: Iterable[str] = (),
        channel: str,
        occurred_at: datetime,
        source: SourceRef,
    ) -> Customer:
        """A new customer record. Personal data needs ``service`` among the consents
        recorded with it (R-CUS-02)."""
        fields = dict(personal or {})
        purposes = _distinct(consents)
        for purpose in purposes:
            _check_purpose(purpose)
        _check_personal(fields)
        if fields and SERVICE not in purposes:
            raise ConsentRequired(_no_consent(customer_id, fields), "R-CUS-02")
        _check_birthday(birthday)
        customer = cls(
            customer_id=customer_id,
            member_id=member_id,
            personal=fields,
            consents=purposes,
            birthday=birthday,
            preferences=_distinct(preferences),
            channel=channel,
            policy_version=policy_in_force(occurred_at).version,
            occurred_at=occurred_at,
            source=source,
        )
        customer._run_clocks(customer.pending_events[-1])
        return customer

    # -- consent (R-CUS-02) -----------------------------------------------------------------

    def consents_at(self, at: datetime) -> list[str]:
        """The purposes consented to at event time ``at``: the customer's statements up to
        and including ``at``, in event-time order (ties in recording order)."""
        return self._fold_consents(at)

    @property
    def consents(self) -> list[str]:
        """The purposes consented to after every recorded statement."""
        return self._fold_consents(None)

    def _fold_consents(self, at: datetime | None) -> list[str]:
        granted: dict[str, bool] = {}
        for when, purpose, given in sorted(self.consent_statements, key=lambda s: s[0]):
            if at is None or when <= at:
                granted[purpose] = given
        return sorted(purpose for purpose, given in granted.items() if given)

    # -- commands ---------------------------------------------------------------------------

    @command
    def grant_consent(self, *, purpose: str, occurred_at: datetime, source: SourceRef) -> None:
        """Every statement of consent is recorded with its time (R-CUS-02), even one that
        repeats a consent in force: the record shows when the customer said what."""
        _check_purpose(purpose)
        self._record(self.ConsentGranted, purpose=purpose, occurred_at=occurred_at, source=source)

    @command
    def withdraw_consent(self, *, purpose: str, occurred_at: datetime, source: SourceRef) -> None:
        """Consent can be withdrawn (R-CUS-02). Withdrawing ``service`` refuses personal
        data from then on; data already held stays until erasure."""
        _check_purpose(purpose)
        self._record(self.ConsentWithdrawn, purpose=purpose, occurred_at=occurred_at, source=source)

    def _check_personal_data(self, personal: Mapping[str, str], occurred_at: datetime) -> None:
        """R-CUS-02: personal data is collected only with ``service`` consent in force at
        the data's event time, and never after the customer asked for erasure (whatever
        the data's event time: the request covers everything held about the customer)."""
        _check_personal(personal)
        if not personal:
            return
        if self.erasure_requested_at is not None:
            raise ConsentRequired(
                f"customer {self.customer_id!r} asked for erasure at"
                f" {self.erasure_requested_at.isoformat()}; personal data"
                f" ({', '.join(sorted(personal))}) is no longer collected",
                "R-CUS-02",
            )
        if SERVICE not in self.consents_at(occurred_at):
            raise ConsentRequired(_no_consent(self.customer_id, personal), "R-CUS-02")

    @command
    def update_profile(
        self,
        *,
        personal: Mapping[str, str] | None = None,
        preferences: Iterable[str] | None = None,
        birthday: str | None = None,
        occurred_at: datetime,
        source: SourceRef,
    ) -> None:
        """Personal fields need ``service`` consent (R-CUS-02); preferences and birthday
        (for callbacks, R-SAT-04) do not."""
        fields = dict(personal or {})
        if not fields and preferences is None and birthday is None:
            raise InvalidCustomerData(f"customer {self.customer_id!r}: nothing to update")
        self._check_personal_data(fields, occurred_at)
        _check_birthday(birthday)
        self._record(
            self.ProfileUpdated,
            personal=fields,
            preferences=None if preferences is None else _distinct(preferences),
            birthday=birthday,
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def add_note(
        self,
        *,
        note: str,
        author: str,
        occurred_at: datetime,
        source: SourceRef,
        stored_as: Callable[[str], str] = str,
    ) -> None:
        """R-CUS-03: notes are factual; a note that labels the customer as a person is
        refused, naming each label found (``domain.notes`` says how a note is read: "difficult
        customer" is a label, "difficult to reach by phone" a fact).

        The rule reads the text as written; ``stored_as`` turns it into what the event
        keeps (the application seals it with the customer's key, so erasure covers notes).

        The vocabulary is that of the policy in force at the note's event time
        (``policy_in_force(occurred_at)``), not the customer's recorded policy version: the
        standard applies to what is written when it is written, however long ago the
        customer registered. The version used is recorded on the note.
        """
        if not note.strip():
            raise InvalidCustomerData("a note needs text", "R-CUS-03")
        policy = policy_in_force(occurred_at)
        found = labels_in(note, policy.note_vocabularies)
        if found:
            quoted = ", ".join(f'"{label}"' for label in found)
            raise SubjectiveNote(
                f"{quoted} {'labels' if len(found) == 1 else 'label'} the customer; record"
                f" what happened instead (customer {self.customer_id!r}, policy"
                f" {policy.version})",
                "R-CUS-03",
                found,
            )
        self._record(
            self.NoteAdded,
            note=stored_as(note),
            author=author,
            policy_version=policy.version,
            occurred_at=occurred_at,
            source=source,
        )

    @command
    def request_erasure(
        self, *, reason: str | None, occurred_at: datetime, source: SourceRef
    ) -> None:
        """Records the request; from then on personal data is refused (R-CUS-02). Deleting
        the customer's key is a later step. A repeated request keeps the first one."""
        if self.erasure_requested_at is None:
            self._record(
                self.ErasureRequested, reason=reason, occurred_at=occurred_at, source=source
            )

    # -- SLA clocks -------------------------------------------------------------------------

    def clock_rules(self, fact: Any, policy: Policy) -> Iterable[ClockCommand]:
        """No SLA clocks for the customer record (R-CUS rules have no targets)."""
        return ()

    def state(self) -> dict[str, Any]:
        """The customer's facts as plain values (for tests; unmasked: R-CUS-04 is applied
        by the readers)."""
        return {
            "id": str(self.id),
            "customer_id": self.customer_id,
            "member_id": self.member_id,
            "channel": self.channel,
            "registered_at": self.registered_at.isoformat(),
            "personal": dict(sorted(self.personal.items())),
            "consents": self.consents,
            "birthday": self.birthday,
            "preferences": list(self.preferences),
            "notes": [dict(note) for note in self.notes],
            "erasure_requested_at": (
                self.erasure_requested_at.isoformat() if self.erasure_requested_at else None
            ),
            "policy_version": self.policy_version,
        }


def _no_consent(customer_id: str, personal: Mapping[str, str]) -> str:
    return (
        f"customer {customer_id!r}: personal data ({', '.join(sorted(personal))}) is collected"
        f" only with recorded consent for {SERVICE!r}"
    )

"""Customers: ``customer.*`` (profile, consents, notes, erasure).

Personal fields travel together in one ``personal`` object, so that one place holds what is
encrypted per customer (DESIGN.md "Privacy") and needs ``service`` consent (R-CUS-02).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator

from contracts.schemas.base import Data, Id, Text

Purpose = Literal["service", "marketing", "research"]  # R-CUS-02
Short = Annotated[StrictStr, Field(min_length=1, max_length=200)]

_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_day(value: str) -> str:
    month, day = int(value[:2]), int(value[3:])
    if not (1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1]):
        raise ValueError("no such day of the year")
    return value


MonthDay = Annotated[
    StrictStr,
    Field(pattern=r"^\d{2}-\d{2}$"),
    AfterValidator(_month_day),
]
Categories = Annotated[list[Id], Field(max_length=50)]

PERSONAL = "name, phone, email, address, id_number; collected only with service consent (R-CUS-02)."
BIRTHDAY = "Month and day, MM-DD, for birthday callbacks (R-SAT-04)."


class Personal(BaseModel):
    """The customer's personal fields; collected only with ``service`` consent (R-CUS-02)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Short | None = None
    phone: Short | None = None
    email: Short | None = None
    address: Text | None = None
    id_number: Short | None = None

    def fields(self) -> dict[str, str]:
        return {name: value for name, value in self.model_dump().items() if value is not None}


class CustomerRegistered(Data, event_type="customer.registered", family="customers"):
    """A customer record is created. Personal data needs ``service`` among ``consents``
    (R-CUS-02); ``birthday`` and ``preferences`` feed callbacks (R-SAT-04)."""

    member_id: Id | None = None
    personal: Personal | None = Field(default=None, description=PERSONAL)
    consents: list[Purpose] = Field(
        default_factory=list,
        max_length=3,
        description="Purposes the customer consents to with this registration (R-CUS-02).",
    )
    birthday: MonthDay | None = Field(default=None, description=BIRTHDAY)
    preferences: Categories = Field(
        default_factory=list, description="Product categories, for launch callbacks (R-SAT-04)."
    )

    example = {
        "member_id": "m-88120",
        "personal": {"name": "Li Wei", "phone": "+86 138 0000 0000"},
        "consents": ["service", "marketing"],
        "birthday": "03-14",
        "preferences": ["kitchen", "small-appliances"],
    }


class CustomerConsentGranted(Data, event_type="customer.consent_granted", family="customers"):
    """The customer consents to a purpose (R-CUS-02)."""

    purpose: Purpose
    example = {"purpose": "research"}


class CustomerConsentWithdrawn(Data, event_type="customer.consent_withdrawn", family="customers"):
    """The customer withdraws consent (R-CUS-02); without ``service`` consent no further
    personal data is collected."""

    purpose: Purpose
    example = {"purpose": "marketing"}


class CustomerProfileUpdated(Data, event_type="customer.profile_updated", family="customers"):
    """Changed profile fields. Personal fields need current ``service`` consent
    (R-CUS-02); ``preferences`` replaces the list."""

    personal: Personal | None = Field(default=None, description=PERSONAL)
    preferences: Categories | None = Field(
        default=None, description="Replaces the product categories (R-SAT-04)."
    )
    birthday: MonthDay | None = Field(default=None, description=BIRTHDAY)

    @model_validator(mode="after")
    def _something_changes(self) -> CustomerProfileUpdated:
        if not (self.personal and self.personal.fields()) and (
            self.preferences is None and self.birthday is None
        ):
            raise ValueError("nothing to update: give personal, preferences or birthday")
        return self

    example = {
        "personal": {"email": "li.wei@example.com", "address": "88 Nanjing Rd, Shanghai"},
        "preferences": ["kitchen", "outdoor"],
    }


class CustomerNoteAdded(Data, event_type="customer.note_added", family="customers"):
    """A factual note about the customer, in English, Chinese or both. R-CUS-03 refuses a
    note that labels the customer as a person ("difficult customer", "she is picky",
    "客户很难缠", "态度很差"), naming each label; negation does not help ("not difficult").
    A listed word used of a circumstance, a thing or another named party is a fact
    ("difficult to reach by phone", "picky about packaging", "对包装比较挑剔", "an annoying
    rattle", "the courier was rude"), and so are the customer's own words, reported
    ("Customer said …", "客户说…"). docs/rules.md, R-CUS-03, has every case decided."""

    note: Text = Field(
        description="What happened or what the customer wants, not what the customer is"
        " (R-CUS-03): a note that labels the customer is refused."
    )
    author: Id = Field(description="Who wrote the note, e.g. an agent id.")
    example = {
        "note": "Asked for delivery after 18:00 on weekdays; prefers SMS to calls.",
        "author": "ag-17",
    }
    example_channel = "web"


class CustomerErasureRequested(Data, event_type="customer.erasure_requested", family="customers"):
    """The customer asks for their personal data to be erased; no personal data is
    collected afterwards (R-CUS-02)."""

    reason: Text | None = None
    example = {"reason": "closing the account"}

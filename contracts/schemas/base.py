"""Building blocks of the source-event schemas (one module per family beside this one).

Every schema is strict (unknown fields are refused) and carries one valid example, which
``docs/events.md`` shows and the tests validate. A schema of a source event type says so
in its class statement, and is thereby registered (``contracts.schemas.registry``)::

    class ContactOpened(Data, event_type="contact.opened", family="contacts", version=2): ...
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)

from contracts.schemas.registry import EVENT_TYPES, Family, Upcast

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""Event times before this are refused: no channel has such records, and every event time
must have a UTC instant for SLA clocks to compare (some offsets near year 1 have none)."""


def _must_be_text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 date-time string with a UTC offset")
    return value


def _on_or_after_earliest(value: datetime) -> datetime:
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        instant = datetime.min.replace(tzinfo=UTC)
    if instant < EARLIEST:
        raise ValueError(f"must not be before {EARLIEST.isoformat()}")
    return value


Rfc3339 = Annotated[
    AwareDatetime, BeforeValidator(_must_be_text), AfterValidator(_on_or_after_earliest)
]
Id = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Text = Annotated[StrictStr, Field(min_length=1, max_length=4000)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Count = Annotated[StrictInt, Field(ge=0)]
Flag = StrictBool


class Data(BaseModel):
    """The ``data`` of one source event type at one schema version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    example: ClassVar[dict[str, Any]]
    """A valid ``data`` object, shown in docs/events.md and validated by the tests."""
    example_channel: ClassVar[str] = "app"

    event_type: ClassVar[str]
    """The source event type this schema is a version of, e.g. ``contact.opened``."""
    family: ClassVar[Family]
    """The family of the type; its topic carries the type's records."""
    schema_version: ClassVar[int]
    """The envelope's ``schema_version`` this schema validates."""

    def __init_subclass__(
        cls,
        *,
        event_type: str | None = None,
        family: Family | None = None,
        version: int = 1,
        upcast: Upcast | None = None,
        **kwargs: Any,
    ) -> None:
        """A class that names an ``event_type`` is that type's schema at ``version``, in
        ``family``; ``upcast`` turns its data into the next version's. A class that names
        none (a base for several types' fields) declares nothing and is not registered."""
        super().__init_subclass__(**kwargs)
        if event_type is None:
            if family is not None or version != 1 or upcast is not None:
                raise TypeError(f"{cls.__qualname__}: family, version, upcast need event_type")
            return
        if family is None:
            raise TypeError(f"{cls.__qualname__}: {event_type} needs a family")
        EVENT_TYPES.register(cls, event_type, family, version, upcast)
        cls.event_type = event_type
        cls.family = family
        cls.schema_version = version

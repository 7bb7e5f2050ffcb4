"""The source-event envelope (DESIGN.md) and its validation.

One function, :func:`decode`, turns the bytes of a record (from the HTTP edge or from the
log) into a :class:`SourceEvent`, or raises :class:`InvalidEvent` whose problems each name
the field at fault. The API and the ingest consumer both use it, so a record is judged the
same way wherever it enters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from contracts.attributes import problems as attribute_problems
from contracts.schemas import EVENT_TYPES
from contracts.schemas.base import Id, Rfc3339
from contracts.strict_json import not_json, strict_json

Channel = Literal["app", "mini_program", "web", "phone", "store", "social", "marketplace", "email"]
"""R-CH-01: every channel publishes into the one hub."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Envelope(_Strict):
    """Fields every source event carries, whatever its type."""

    event_id: Id
    type: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    occurred_at: Rfc3339
    channel: Channel
    customer_id: Id
    source: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    schema_version: Annotated[StrictInt, Field(ge=1)]
    data: dict[str, Any]
    correlation_id: Id | None = None
    causation_id: Id | None = None
    attributes: dict[str, Any] | None = Field(
        default=None,
        description="Source attributes: the source's own labels (contracts.attributes), at"
        " most 16, each a declared name and a short string; never personal data.",
    )


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class InvalidEvent(ValueError):
    """A record refused at the edge; each problem names its field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class SourceEvent:
    envelope: Envelope
    data: BaseModel
    raw: bytes | None = field(default=None, compare=False, repr=False)
    """The record's bytes it was decoded from (``decode``), kept with it while it is parked
    so that its dead letter carries them; None when validated from a parsed value."""

    @property
    def event_id(self) -> str:
        return self.envelope.event_id

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def customer_id(self) -> str:
        return self.envelope.customer_id

    @property
    def occurred_at(self) -> datetime:
        return self.envelope.occurred_at

    @property
    def attributes(self) -> tuple[tuple[str, str], ...]:
        """The source attributes (validated: declared names, string values), by name."""
        given = self.envelope.attributes
        return tuple(sorted(given.items())) if given else ()

    def to_json(self) -> bytes:
        body = self.envelope.model_dump(mode="json", exclude_none=True)
        body["data"] = self.data.model_dump(mode="json", exclude_none=True)
        return orjson.dumps(body)


def _problems(error: ValidationError, prefix: str = "") -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"])
        field = f"{prefix}.{path}" if prefix and path else (prefix or path or "body")
        problems.append(Problem(field, item["msg"]))
    return problems


def envelope_json_schema() -> dict[str, Any]:
    return Envelope.model_json_schema()


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 controls and DEL, but tab, line feed and carriage return (a note may hold lines).
No store needs them and PostgreSQL's text refuses NUL: a record that carries one would
stop whatever writes it, so it is refused at the edge, on every path alike."""


def control_characters(body: object) -> list[Problem]:
    """Every string (keys too) of a parsed JSON value that holds a control character, by
    its path; walked without recursion, whatever the depth."""
    problems: list[Problem] = []
    stack: list[tuple[str, object]] = [("", body)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if (found := CONTROL.search(value)) is not None:
                problems.append(
                    Problem(path or "body", f"control character U+{ord(found[0]):04X} not allowed")
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if CONTROL.search(key) is not None:
                    problems.append(Problem(path or "body", "a key holds a control character"))
                    where = f"{path}.?" if path else "?"
                stack.append((where, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value))
    return sorted(problems, key=lambda p: p.field)


def may_hold_controls(raw: bytes) -> bool:
    """False only if no string parsed from the strict JSON ``raw`` can hold a
    :data:`CONTROL` character: JSON writes C0 controls inside strings only as escapes
    (a raw one is not JSON), so without a backslash there is none but DEL, raw."""
    return b"\\" in raw or b"\x7f" in raw


def validate(
    body: object, *, now: datetime, max_future: timedelta, controls_ruled_out: bool = False
) -> SourceEvent:
    """Validate an already parsed JSON value against the envelope and its type's schema.
    ``controls_ruled_out``: the caller knows no string of ``body`` holds a control
    character (``may_hold_controls`` of its bytes), so they are not looked for again."""
    if not isinstance(body, dict):
        raise InvalidEvent([Problem("body", "expected a JSON object")])
    if not controls_ruled_out and (problems := control_characters(body)):
        raise InvalidEvent(problems)
    try:
        envelope = Envelope.model_validate(body)
    except ValidationError as error:
        raise InvalidEvent(_problems(error)) from None
    event_type = EVENT_TYPES.get(envelope.type)
    if event_type is None:
        known = ", ".join(EVENT_TYPES.names())
        raise InvalidEvent([Problem("type", f"unknown type {envelope.type!r}; known: {known}")])
    if envelope.attributes is not None:
        refused = attribute_problems(envelope.attributes, event_type.family)
        if refused:
            raise InvalidEvent([Problem(where, reason) for where, reason in refused])
    schema = event_type.versions.get(envelope.schema_version)
    if schema is None:
        raise InvalidEvent(
            [
                Problem(
                    "schema_version",
                    f"unknown version {envelope.schema_version} of {envelope.type!r};"
                    f" known: {sorted(event_type.versions)}",
                )
            ]
        )
    try:
        # Old versions are upcast, never refused for their age.
        data = event_type.to_latest(schema.model_validate(envelope.data), envelope.schema_version)
    except ValidationError as error:
        raise InvalidEvent(_problems(error, prefix="data")) from None
    version = event_type.latest
    if version != envelope.schema_version:
        upcast = data.model_dump(mode="json", exclude_none=True)
        envelope = envelope.model_copy(update={"schema_version": version, "data": upcast})
    if envelope.occurred_at > now + max_future:
        raise InvalidEvent(
            [
                Problem(
                    "occurred_at",
                    f"{envelope.occurred_at.isoformat()} is more than {max_future} after"
                    f" {now.isoformat()}",
                )
            ]
        )
    return SourceEvent(envelope, data)


def decode(raw: bytes, *, now: datetime, max_future: timedelta, max_bytes: int) -> SourceEvent:
    """Bytes of one record to a validated source event, or :class:`InvalidEvent`."""
    if len(raw) > max_bytes:
        raise InvalidEvent(
            [Problem("body", f"record is {len(raw)} bytes, over the limit of {max_bytes}")]
        )
    try:
        body = strict_json(raw)
    except ValueError as error:
        raise InvalidEvent([Problem("body", not_json(error))]) from None
    clean = not may_hold_controls(raw)
    return replace(
        validate(body, now=now, max_future=max_future, controls_ruled_out=clean), raw=raw
    )

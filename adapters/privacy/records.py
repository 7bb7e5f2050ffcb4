"""How a source record's bytes are shown to people (the dead-letter listings): JSON with its
personal fields masked, or — when the bytes cannot be masked field by field — opaque: their
shape without their content. Never in clear, to any role.

Bytes are walked only to ``MAX_DEPTH`` levels of nesting: a source event is a handful of
levels deep, and a record nested deeper (``[[[[…]]]]`` five hundred times) is shown opaque
instead of being walked without bound.
"""

from __future__ import annotations

import re
import string
from typing import Any, Literal

import orjson

from adapters.privacy.personal import SHOWN_AS_PERSONAL

MASK = "***"
MAX_DEPTH = 32
"""Levels of nesting walked to mask a record; deeper records are shown opaque."""

MASKED_FIELDS = SHOWN_AS_PERSONAL | {"note"}
"""Masked wherever they appear in a record, whatever the event type: the personal fields,
and notes (a customer's note is sealed like them; other notes are free text)."""
WHOLLY_PERSONAL = frozenset({"personal"})
"""Objects whose every value is masked, whatever its key (a misspelt personal field is
still personal data)."""

Shown = Literal["masked", "opaque", "erased"]

_CONTENT = re.compile(f"[^{re.escape(string.punctuation)}\\s]+")
"""A run of anything but ASCII punctuation and white space: letters, digits, any other
script, bytes that are not UTF-8."""


class TooDeep(ValueError):
    """Nested deeper than ``MAX_DEPTH``."""


def masked(value: Any, depth: int = 0) -> Any:
    """``value`` (parsed JSON) with the values of personal fields replaced by ``MASK``;
    ``TooDeep`` past ``MAX_DEPTH`` (the recursion is bounded by it)."""
    if depth > MAX_DEPTH:
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                out[key] = None
            elif key in MASKED_FIELDS:
                out[key] = MASK
            elif key in WHOLLY_PERSONAL and isinstance(item, dict):
                out[key] = {name: None if v is None else MASK for name, v in item.items()}
            elif key in WHOLLY_PERSONAL:
                out[key] = MASK
            else:
                out[key] = masked(item, depth + 1)
        return out
    if isinstance(value, list):
        return [masked(item, depth + 1) for item in value]
    return value


def shown(raw: bytes) -> tuple[str, Shown]:
    """The record as text for people and how it was made safe to show: JSON with personal
    fields masked; else opaque — bytes that are not JSON (or nested past the parser's own
    limit) cannot be masked field by field, and nothing ties them reliably to a customer
    (a record may have no key, or the key may not be whose data the bytes hold), so no
    role sees them in clear."""
    try:
        return orjson.dumps(masked(orjson.loads(raw))).decode(), "masked"
    except (TooDeep, orjson.JSONDecodeError):
        return opaque(raw), "opaque"


def opaque(raw: bytes) -> str:
    """The bytes' shape without their content: punctuation and white space kept, every run
    of other characters shown as ``•••`` whatever its length (``{"•••":"••• •••"``): enough
    to see where a record is broken, nothing of what it says."""
    return _CONTENT.sub("•••", raw.decode(errors="replace"))

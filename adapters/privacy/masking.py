"""Masks for roles that do not need personal data (R-CUS-04): enough to tell two records
apart on a call-back list, never enough to contact or identify the person."""

from __future__ import annotations

import re

MASK = "•"


def _word(word: str) -> str:
    return word[:1] + MASK * max(len(word) - 1, 2)


def _tail(value: str, keep: int) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) <= keep:
        return MASK * 4
    return MASK * 4 + digits[-keep:]


def mask(field: str, value: str) -> str:
    """R-CUS-04: name → initials, phone and id number → last digits, email → first letter
    and domain, address → city-free placeholder, anything else → bullets."""
    if field == "name":
        return " ".join(_word(w) for w in value.split()) or MASK * 3
    if field in {"phone", "id_number", "member_id"}:
        return _tail(value, 2)
    if field == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}{MASK * 3}@{domain}" if domain else MASK * 3
    return MASK * 3

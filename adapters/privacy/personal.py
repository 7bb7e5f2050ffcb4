"""Seal personal values on the way into the store; reveal or mask them on the way out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.privacy.cipher import Unreadable, open_sealed, seal
from adapters.privacy.keys import CustomerKeys
from adapters.privacy.masking import mask
from adapters.privacy.tokens import ERASED, is_sealed

PERSONAL_FIELDS = frozenset({"name", "phone", "email", "address", "id_number"})
"""DESIGN.md "Privacy": the fields sealed with the customer's key."""

SHOWN_AS_PERSONAL = PERSONAL_FIELDS | {"member_id", "birthday"}
"""Also masked for analysts and shown as erased after erasure (R-CUS-04); stored clear
because the rules use them (member id for R-CUS-01 identity checks, birthday for R-SAT-04
callbacks)."""


class PersonalData:
    def __init__(self, keys: CustomerKeys) -> None:
        self.keys = keys

    def is_erased(self, customer_id: str | None) -> bool:
        return customer_id is not None and self.keys.erased_at(customer_id) is not None

    def seal(self, customer_id: str, fields: Mapping[str, str]) -> dict[str, str]:
        """Personal fields sealed under the customer's key. Blank values pass unsealed so
        the domain can refuse them (R-CUS-02); for an erased customer every value becomes
        ``erased``: nothing readable is stored after an erasure."""
        personal = {name: value for name, value in fields.items() if name in PERSONAL_FIELDS}
        if not any(value.strip() for value in personal.values()):
            return dict(fields)
        sealed = dict(fields)
        for name, value in personal.items():
            if value.strip():
                sealed[name] = self.seal_text(customer_id, name, value)
        return sealed

    def seal_text(self, customer_id: str, field: str, value: str) -> str:
        """One value sealed under the customer's key (``erased`` once they are erased)."""
        if is_sealed(value):
            return value
        key = self.keys.for_writing(customer_id)
        return ERASED if key is None else seal(key, customer_id, field, value)

    def reveal(self, customer_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Clear values, or ``erased`` for every personal value of an erased customer."""
        key = self.keys.for_reading(customer_id)
        erased = key is None and self.keys.erased_at(customer_id) is not None
        shown: dict[str, Any] = {}
        for name, value in fields.items():
            if name in SHOWN_AS_PERSONAL and value is not None and erased:
                shown[name] = ERASED
            elif is_sealed(value):
                shown[name] = self._open(key, customer_id, name, value)
            else:
                shown[name] = value
        return shown

    def present(self, customer_id: str, fields: Mapping[str, Any], clear: bool) -> dict[str, Any]:
        """What a caller sees: clear values for roles that need them, masked otherwise
        (R-CUS-04); ``erased`` stays ``erased`` either way."""
        shown = self.reveal(customer_id, fields)
        if clear:
            return shown
        return {
            name: mask(name, value)
            if name in SHOWN_AS_PERSONAL and isinstance(value, str) and value != ERASED
            else value
            for name, value in shown.items()
        }

    @staticmethod
    def _open(key: bytes | None, customer_id: str, name: str, token: str) -> str:
        if key is None:
            return ERASED
        try:
            return open_sealed(key, customer_id, name, token)
        except Unreadable:
            return ERASED


def present_profile(
    personal: PersonalData, customer_id: str, profile: Mapping[str, Any], clear: bool
) -> dict[str, Any]:
    """A customer 360 profile as a caller sees it: its personal values opened or masked,
    and ``erased`` after an erasure (R-CUS-04, DESIGN.md "Privacy")."""
    top = {name: profile[name] for name in SHOWN_AS_PERSONAL if name in profile}
    return {
        **profile,
        **personal.present(customer_id, top, clear),
        "personal": personal.present(customer_id, profile.get("personal") or {}, clear),
    }

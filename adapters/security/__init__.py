"""Who may call the API: API keys bound to a role, a rate limit per key, and the log of
reads of clear personal data. Standard library and the read store only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["channel", "analyst", "auditor", "admin"]
"""``channel`` publishes; ``analyst`` reads the read models, masked; ``auditor`` reads case
histories and the read models with personal data in clear; ``admin`` rebuilds, erases,
manages keys, reads the access log, and may read everything."""

ROLES: tuple[Role, ...] = get_args(Role)

_CLEAR = frozenset({"auditor", "admin"})


@dataclass(frozen=True)
class Principal:
    """The caller behind an authenticated request."""

    key_id: str
    role: Role
    source: str | None = None
    """A channel key's publishing system: the ``source`` its events carry, whose dead
    letters it may list (None: a key that names none)."""


def sees_clear_personal_data(role: Role) -> bool:
    """Auditors and admins see personal fields in clear (their reads are recorded in the
    access log); everyone else sees them masked (R-CUS-04)."""
    return role in _CLEAR

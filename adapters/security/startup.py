"""What ``journey serve`` does about keys before it serves.

Embedded mode (embedded log and SQLite store, i.e. ``make run`` on a laptop): on the first
start, when no active key exists, one development key per role is created and shown once.
Any other deployment refuses to start until an admin key exists: keys are made there with
``journey keys create --role admin``, never by the server.
"""

from __future__ import annotations

from adapters.security import ROLES
from adapters.security.apikeys import ApiKeys, IssuedKey


class NoAdminKey(Exception):
    def __init__(self) -> None:
        super().__init__(
            "no active admin API key: create one with `journey keys create --role admin`"
            " (outside embedded mode the server never makes keys itself)"
        )


def keys_at_start(keys: ApiKeys, *, embedded: bool) -> list[IssuedKey]:
    """The development keys created now (to show once), or [] if keys existed already.

    Raises NoAdminKey outside embedded mode when no active admin key exists."""
    if embedded:
        return keys.create_if_none_active(ROLES)
    if not keys.has_active("admin"):
        raise NoAdminKey
    return []

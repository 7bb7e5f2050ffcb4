"""API keys in the read store: plain tables (not a projection; never rebuilt).

A key is presented as ``jk_<key_id>_<secret>``. Only the SHA-256 of the secret is stored;
the secret is shown once, when the key is created. The secret is 32 random bytes, so a
plain hash (no slow KDF) is enough: it cannot be guessed, only stolen with the key text.
Every request looks its key up by primary key, with no cache, so a revocation applies at once.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from adapters.readstore import Cursor, ReadStore
from adapters.security import ROLES, Principal, Role

PREFIX = "jk"
TABLE = "api_keys"


def wall_clock_utc() -> datetime:
    """Operational records (when a key was made or revoked) use the wall clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    role: Role
    secret_text: str
    """The full key to present (``jk_<key_id>_<secret>``); shown once, never stored."""
    label: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    role: Role
    label: str | None
    created_at: str
    revoked_at: str | None
    source: str | None = None
    """A channel key's publishing system (``Principal.source``)."""

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(presented: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a presented key, or None if it has not our shape."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret or len(presented) > 200:
        return None
    return key_id, secret


class ApiKeys:
    def __init__(self, store: ReadStore, clock: Callable[[], datetime] = wall_clock_utc) -> None:
        self.store = store
        self._clock = clock

    def create_tables(self) -> None:
        with self.store.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                " key_id TEXT PRIMARY KEY,"
                " role TEXT NOT NULL,"
                " label TEXT,"
                " secret_sha256 TEXT NOT NULL,"
                " created_at TEXT NOT NULL,"
                " revoked_at TEXT,"
                " source TEXT)"
            )
        self._add_source_column()

    def _add_source_column(self) -> None:
        """Tables made before channel keys named their source gain the column (empty)."""
        if self.store.dialect == "postgres":
            with self.store.transaction() as cursor:
                cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS source TEXT")
            return
        columns = self.store.query(f"SELECT name FROM pragma_table_info('{TABLE}')")
        if "source" not in {row["name"] for row in columns}:
            with self.store.transaction() as cursor:
                cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN source TEXT")

    def create(self, role: Role, label: str | None = None, source: str | None = None) -> IssuedKey:
        """A new key. Only a channel key may name a ``source``: the publishing system its
        events carry and whose dead letters it lists (ValueError otherwise)."""
        with self.store.transaction() as cursor:
            return self._insert(cursor, role, label, source)

    def create_if_none_active(self, roles: Iterable[Role]) -> builtins.list[IssuedKey]:
        """One key per role, if (and only if) no active key exists; in one transaction, so
        processes starting together do not both create them."""
        with self.store.transaction() as cursor:
            cursor.execute(f"SELECT count(*) AS n FROM {TABLE} WHERE revoked_at IS NULL")
            if cursor.fetchall()[0]["n"]:
                return []
            return [self._insert(cursor, role, "development key") for role in roles]

    def _insert(
        self, cursor: Cursor, role: Role, label: str | None, source: str | None = None
    ) -> IssuedKey:
        if role not in ROLES:
            raise ValueError(f"role: one of {', '.join(ROLES)}, not {role!r}")
        if source is not None and (role != "channel" or not source.strip()):
            raise ValueError("source: only a channel key names a source, and not a blank one")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        cursor.execute(
            f"INSERT INTO {TABLE} (key_id, role, label, secret_sha256, created_at, source)"
            " VALUES (:key_id, :role, :label, :digest, :at, :source)",
            {
                "key_id": key_id,
                "role": role,
                "label": label,
                "digest": _digest(secret),
                "at": self._clock().isoformat(),
                "source": source,
            },
        )
        return IssuedKey(key_id, role, f"{PREFIX}_{key_id}_{secret}", label, source)

    @property
    def lookup_is_local(self) -> bool:
        """Whether ``authenticate`` reads a local file only (``ReadStore.local_reads``)."""
        return self.store.local_reads

    def authenticate(self, presented: str) -> Principal | None:
        """The key's principal, or None for a malformed, unknown or revoked key."""
        parts = parse(presented)
        if parts is None:
            return None
        key_id, secret = parts
        rows = self.store.query(
            f"SELECT role, secret_sha256, revoked_at, source FROM {TABLE} WHERE key_id = :key_id",
            {"key_id": key_id},
        )
        # Hash even when the key is unknown, so timing tells nothing about which ids exist.
        digest = _digest(secret)
        stored = rows[0]["secret_sha256"] if rows else _digest("")
        if not hmac.compare_digest(digest, stored) or not rows or rows[0]["revoked_at"]:
            return None
        return Principal(key_id, cast(Role, rows[0]["role"]), rows[0]["source"])

    def list(self) -> builtins.list[KeyInfo]:
        rows = self.store.query(
            f"SELECT key_id, role, label, created_at, revoked_at, source FROM {TABLE}"
            " ORDER BY created_at, key_id"
        )
        return [KeyInfo(**row) for row in rows]

    def revoke(self, key_id: str) -> bool:
        """True if the key was active and is now revoked."""
        with self.store.transaction() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET revoked_at = :at WHERE key_id = :key_id"
                " AND revoked_at IS NULL",
                {"key_id": key_id, "at": self._clock().isoformat()},
            )
            return cursor.rowcount == 1

    def has_active(self, role: Role | None = None) -> bool:
        sql = f"SELECT count(*) AS n FROM {TABLE} WHERE revoked_at IS NULL"
        if role is None:
            return bool(self.store.query(sql)[0]["n"])
        return bool(self.store.query(sql + " AND role = :role", {"role": role})[0]["n"])

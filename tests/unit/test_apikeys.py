"""API keys: only a hash is stored, a revoked or altered key is refused, and the start-up
rule (development keys in embedded mode, an admin key required elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.readstore import SQLiteReadStore
from adapters.security import ROLES, Principal, sees_clear_personal_data
from adapters.security.apikeys import ApiKeys, parse
from adapters.security.startup import NoAdminKey, keys_at_start


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[ApiKeys]:
    store = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    made = ApiKeys(store)
    made.create_tables()
    yield made
    store.close()


def test_only_the_hash_of_a_secret_is_stored(keys: ApiKeys) -> None:
    issued = keys.create("auditor", "Ana, internal audit")
    _, secret = parse(issued.secret_text) or ("", "")
    [row] = keys.store.query("SELECT * FROM api_keys")
    assert secret
    assert len(secret) >= 40
    stored = " ".join(str(value) for value in row.values())
    assert secret not in stored
    assert issued.secret_text not in stored
    assert row["secret_sha256"] != secret
    assert len(row["secret_sha256"]) == 64
    assert (row["key_id"], row["role"], row["label"]) == (issued.key_id, "auditor", issued.label)


def test_a_key_authenticates_as_its_role_until_revoked(keys: ApiKeys) -> None:
    issued = keys.create("analyst")
    other = keys.create("admin")
    assert keys.authenticate(issued.secret_text) == Principal(issued.key_id, "analyst")
    assert keys.revoke(issued.key_id) is True
    assert keys.authenticate(issued.secret_text) is None
    assert keys.revoke(issued.key_id) is False  # already revoked
    assert keys.revoke("no-such-key") is False
    assert keys.authenticate(other.secret_text) == Principal(other.key_id, "admin")
    listed = {info.key_id: info for info in keys.list()}
    assert not listed[issued.key_id].active
    assert listed[issued.key_id].revoked_at
    assert listed[other.key_id].active


def test_another_keys_secret_does_not_open_this_key(keys: ApiKeys) -> None:
    one, two = keys.create("channel"), keys.create("admin")
    _, two_secret = parse(two.secret_text) or ("", "")
    assert keys.authenticate(f"jk_{one.key_id}_{two_secret}") is None


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(presented=st.text(max_size=120) | st.from_regex(r"jk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}"))
def test_nothing_but_an_issued_key_authenticates(keys: ApiKeys, presented: str) -> None:
    if not keys.list():
        keys.create("admin")
    assert keys.authenticate(presented) is None


def test_an_unknown_role_is_refused(keys: ApiKeys) -> None:
    with pytest.raises(ValueError, match="role"):
        keys.create("superuser")  # type: ignore[arg-type]


def test_embedded_first_start_makes_one_key_per_role_once(keys: ApiKeys) -> None:
    issued = keys_at_start(keys, embedded=True)
    assert sorted(k.role for k in issued) == sorted(ROLES)
    assert all(keys.authenticate(k.secret_text) for k in issued)
    assert keys_at_start(keys, embedded=True) == []  # second start: nothing new
    assert len(keys.list()) == len(ROLES)


def test_embedded_start_with_keys_made_by_hand_makes_none(keys: ApiKeys) -> None:
    keys.create("channel")
    assert keys_at_start(keys, embedded=True) == []


def test_outside_embedded_mode_an_active_admin_key_is_required(keys: ApiKeys) -> None:
    with pytest.raises(NoAdminKey, match="journey keys create --role admin"):
        keys_at_start(keys, embedded=False)
    keys.create("analyst")
    with pytest.raises(NoAdminKey):
        keys_at_start(keys, embedded=False)
    admin = keys.create("admin")
    assert keys_at_start(keys, embedded=False) == []
    keys.revoke(admin.key_id)
    with pytest.raises(NoAdminKey):
        keys_at_start(keys, embedded=False)
    assert len(keys.list()) == 2  # the server never makes keys outside embedded mode


def test_auditors_and_admins_see_personal_data_in_clear() -> None:
    assert {role for role in ROLES if sees_clear_personal_data(role)} == {"auditor", "admin"}


def test_a_channel_key_names_its_source_and_only_a_channel_key(keys: ApiKeys) -> None:
    issued = keys.create("channel", "web portal", source="web-portal")
    assert keys.authenticate(issued.secret_text) == Principal(
        issued.key_id, "channel", "web-portal"
    )
    assert [k.source for k in keys.list()] == ["web-portal"]
    for role, source in (("admin", "web-portal"), ("analyst", "x"), ("channel", " ")):
        with pytest.raises(ValueError, match="source"):
            keys.create(role, None, source=source)  # type: ignore[arg-type]


def test_keys_made_before_sources_keep_working(tmp_path: Path) -> None:
    store = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    with store.transaction() as cursor:  # the table as it was
        cursor.execute(
            "CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, role TEXT NOT NULL, label TEXT,"
            " secret_sha256 TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)"
        )
    old = ApiKeys(store)
    with store.transaction() as cursor:
        cursor.execute(
            "INSERT INTO api_keys VALUES ('k1', 'channel', NULL, :d, '2026-01-01', NULL)",
            {"d": "0" * 64},
        )
    old.create_tables()
    old.create_tables()  # twice: harmless
    assert [(k.key_id, k.source) for k in old.list()] == [("k1", None)]
    made = old.create("channel", source="app")
    assert old.authenticate(made.secret_text) == Principal(made.key_id, "channel", "app")
    store.close()

"""Personal data sealed per customer, revealed, masked (R-CUS-04) and erased (DESIGN.md
"Privacy"). The key-store contract runs on the in-memory fake and on the SQLite store."""

from __future__ import annotations

import base64
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from adapters.privacy.cipher import Unreadable, new_key, open_sealed, seal
from adapters.privacy.keys import CustomerKeys, InMemoryCustomerKeys, StoredCustomerKeys
from adapters.privacy.masking import mask
from adapters.privacy.master import MasterKeyMissing, load_master_key, parse_master_key
from adapters.privacy.personal import PersonalData
from adapters.privacy.tokens import ERASED, is_sealed
from adapters.readstore import SQLiteReadStore

T = datetime(2026, 3, 1, 12, tzinfo=UTC)
LI = {"name": "Li Wei", "phone": "+86 138 0000 1234", "email": "li.wei@example.com"}


@given(st.text(min_size=1, max_size=300), st.sampled_from(["name", "address"]))
def test_a_sealed_value_opens_only_for_its_customer_and_field(value: str, field: str) -> None:
    key = new_key()
    token = seal(key, "c-1", field, value)
    assert is_sealed(token)
    assert token != value
    assert open_sealed(key, "c-1", field, token) == value
    with pytest.raises(Unreadable):
        open_sealed(key, "c-2", field, token)  # moved to another customer
    with pytest.raises(Unreadable):
        open_sealed(key, "c-1", "phone", token)  # moved to another field
    with pytest.raises(Unreadable):
        open_sealed(new_key(), "c-1", field, token)  # another key


@pytest.fixture(params=["memory", "sqlite"])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerKeys]:
    if request.param == "memory":
        yield InMemoryCustomerKeys()
        return
    store = SQLiteReadStore(tmp_path / "keys.sqlite")
    stored = StoredCustomerKeys(store, new_key())
    stored.create_tables()
    yield stored
    store.close()


def test_one_key_per_customer_made_on_first_write(keys: CustomerKeys) -> None:
    assert keys.for_reading("c-1") is None
    first = keys.for_writing("c-1")
    assert first is not None
    assert len(first) == 32
    assert keys.for_writing("c-1") == first == keys.for_reading("c-1")
    assert keys.for_writing("c-2") not in (None, first)


def test_erasure_deletes_the_key_for_good(keys: CustomerKeys) -> None:
    keys.for_writing("c-1")
    erasure = keys.erase("c-1", T)
    assert erasure.had_key
    assert erasure.erased_at == T
    assert keys.for_reading("c-1") is None
    assert keys.for_writing("c-1") is None  # a tombstone: no new key after erasure
    again = keys.erase("c-1", T.replace(hour=13))
    assert not again.had_key
    assert again.erased_at == T == keys.erased_at("c-1")
    never = keys.erase("c-never", T)  # a customer without sealed data can be erased too
    assert not never.had_key
    assert keys.for_writing("c-never") is None


def test_personal_fields_are_sealed_and_revealed(keys: CustomerKeys) -> None:
    personal = PersonalData(keys)
    sealed = personal.seal("c-1", {**LI, "city_hint": "not personal"})
    assert all(is_sealed(sealed[name]) for name in LI)
    assert sealed["city_hint"] == "not personal"
    assert personal.reveal("c-1", sealed) == {**LI, "city_hint": "not personal"}
    assert personal.seal("c-1", {"name": "  "}) == {"name": "  "}  # left for R-CUS-02 refusal


def test_after_erasure_every_personal_value_reads_erased(keys: CustomerKeys) -> None:
    personal = PersonalData(keys)
    sealed = personal.seal("c-1", LI)
    keys.erase("c-1", T)
    shown = {**sealed, "member_id": "m-1", "birthday": "03-14", "preferences": ["toys"]}
    assert personal.reveal("c-1", shown) == {
        "name": ERASED,
        "phone": ERASED,
        "email": ERASED,
        "member_id": ERASED,
        "birthday": ERASED,
        "preferences": ["toys"],
    }
    for clear in (True, False):
        assert set(personal.present("c-1", sealed, clear).values()) == {ERASED}
    # Arriving after the erasure (before its event is applied): stored as erased.
    assert personal.seal("c-1", {"phone": "+1 555"}) == {"phone": ERASED}


def test_r_cus_04_analysts_see_masks_auditors_clear_values(keys: CustomerKeys) -> None:
    personal = PersonalData(keys)
    sealed = personal.seal("c-1", {**LI, "address": "88 Nanjing Rd", "id_number": "110105"})
    assert personal.present("c-1", sealed, clear=True)["name"] == "Li Wei"
    masked = personal.present("c-1", {**sealed, "member_id": "m-88120"}, clear=False)
    assert masked == {
        "name": "L•• W••",
        "phone": "••••34",
        "email": "l•••@example.com",
        "address": "•••",
        "id_number": "••••05",
        "member_id": "••••20",
    }


masks: list[tuple[str, Callable[[str], bool]]] = [
    ("name", lambda v: len(v.replace(" ", "")) >= 2),
    ("phone", lambda v: sum(c.isdigit() for c in v) >= 3),
    ("email", lambda v: "@" in v and len(v.partition("@")[0]) >= 2),
    ("address", lambda v: len(v) >= 4),
    ("id_number", lambda v: sum(c.isdigit() for c in v) >= 3),
]


@pytest.mark.parametrize(("field", "long_enough"), masks)
@given(value=st.text(min_size=1, max_size=60))
def test_r_cus_04_a_mask_never_shows_the_whole_value(
    field: str, long_enough: Callable[[str], bool], value: str
) -> None:
    # A value already made of the mask's own dots ('0••') reads the same masked: nothing of
    # it is shown, but it cannot differ. Hypothesis found that one; it says nothing here.
    assume("•" not in value)
    if long_enough(value.strip()):
        assert mask(field, value.strip()) != value.strip()


def test_master_key_from_settings_or_made_once_in_embedded_mode(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyMissing, match="outside embedded mode"):
        load_master_key(None, tmp_path, embedded=False)
    with pytest.raises(MasterKeyMissing, match="placeholder"):
        parse_master_key(base64.b64encode(b"\0" * 32).decode())
    with pytest.raises(MasterKeyMissing, match="32 random bytes"):
        parse_master_key(base64.b64encode(b"changeme").decode())
    with pytest.raises(MasterKeyMissing, match="base64"):
        parse_master_key("changeme!")
    made = load_master_key(None, tmp_path, embedded=True)
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    assert load_master_key(None, tmp_path, embedded=True) == made
    configured = base64.b64encode(new_key()).decode()
    assert load_master_key(configured, tmp_path, embedded=False) == parse_master_key(configured)


def test_a_wrong_master_key_cannot_open_stored_keys(tmp_path: Path) -> None:
    store = SQLiteReadStore(tmp_path / "keys.sqlite")
    try:
        StoredCustomerKeys(store, new_key()).create_tables()
        StoredCustomerKeys(store, new_key()).for_writing("c-1")
        rows = store.query("SELECT wrapped_key FROM customer_keys")
        assert rows
        assert is_sealed(rows[0]["wrapped_key"])
        with pytest.raises(Unreadable):
            StoredCustomerKeys(store, new_key()).for_reading("c-1")
    finally:
        store.close()

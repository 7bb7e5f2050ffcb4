"""AES-256-GCM through the ``cryptography`` package: data keys per customer, wrapped by a
master key. Nonces are random (96 bits): a key seals few values (one customer's fields)."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.privacy.tokens import PREFIX

KEY_BYTES = 32
_NONCE = 12


class Unreadable(Exception):
    """A sealed value or wrapped key that does not open under the key given."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _aad(customer_id: str, field: str) -> bytes:
    return f"{customer_id}\x1f{field}".encode()


def seal(key: bytes, customer_id: str, field: str, value: str) -> str:
    nonce = os.urandom(_NONCE)
    box = AESGCM(key).encrypt(nonce, value.encode(), _aad(customer_id, field))
    return PREFIX + base64.urlsafe_b64encode(nonce + box).decode()


def open_sealed(key: bytes, customer_id: str, field: str, token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
        clear = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(customer_id, field))
    except (InvalidTag, ValueError) as error:
        raise Unreadable(f"{field} of customer {customer_id!r} does not open") from error
    return clear.decode()


def wrap(master: bytes, customer_id: str, key: bytes) -> str:
    """A customer's data key sealed under the master key, as text for any SQL store."""
    return seal(master, customer_id, "data-key", base64.b64encode(key).decode())


def unwrap(master: bytes, customer_id: str, wrapped: str) -> bytes:
    return base64.b64decode(open_sealed(master, customer_id, "data-key", wrapped))

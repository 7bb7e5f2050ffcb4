"""What a sealed personal value looks like in stored events and read models.

``pii:1:<base64url(nonce ‖ ciphertext ‖ tag)>`` — AES-256-GCM under the customer's key,
with the customer id and the field name as associated data, so a sealed value cannot be
moved to another customer or field without failing to open.
"""

from __future__ import annotations

PREFIX = "pii:1:"
ERASED = "erased"
"""What every route shows in place of a personal value whose customer was erased."""


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)

"""The master key that wraps every customer's data key.

Scaled mode takes it from ``JOURNEY_MASTER_KEY`` (32 random bytes, base64) and refuses to
start without one; embedded mode (``make run``) makes one on first start in the data folder,
readable by its owner only.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from adapters.privacy.cipher import KEY_BYTES, new_key


class MasterKeyMissing(Exception):
    """No usable master key: the service must not start."""


def parse_master_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyMissing("JOURNEY_MASTER_KEY: not base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyMissing(
            f"JOURNEY_MASTER_KEY: {len(key)} bytes; it must be {KEY_BYTES} random bytes,"
            " base64 (e.g. `python -c 'import os,base64;print(base64.b64encode(os.urandom(32))"
            ".decode())'`)"
        )
    if len(set(key)) < 8:
        raise MasterKeyMissing("JOURNEY_MASTER_KEY: a placeholder, not random bytes")
    return key


def load_master_key(configured: str | None, data_dir: Path, embedded: bool) -> bytes:
    if configured:
        return parse_master_key(configured)
    if not embedded:
        raise MasterKeyMissing(
            "JOURNEY_MASTER_KEY must be set outside embedded mode: it wraps every customer's"
            " key (32 random bytes, base64)"
        )
    path = data_dir / "master.key"
    if not path.exists():
        # Written whole to a private file, then linked into place: a process starting at
        # the same moment either finds no file or a complete one, and only one key wins.
        draft = data_dir / f".master.key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(new_key()).decode())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return parse_master_key(path.read_text())

"""R-KPI-07: quality inspection samples 10 % of conversations per agent group, at random
but reproducibly.

Each conversation (contact) gets a rank: a BLAKE2b hash of its aggregate id keyed by the
seed. A group's sample is the 10 % (rounded up) of its conversations of the period with
the smallest ranks. The rank depends on nothing but the seed and the contact, so the same
seed over the same conversations gives the same sample whatever order they arrived in,
and another seed gives another sample.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from projections.kpis.metrics import sample_size

QA_SHARE = 0.10


def rank(seed: int, contact: str) -> str:
    """The contact's place in the seed's random order (hex, compares as a number)."""
    key = seed.to_bytes(16, "big", signed=True)
    return hashlib.blake2b(contact.encode(), key=key, digest_size=16).hexdigest()


def sample(
    conversations: Iterable[dict[str, Any]], seed: int, share: float = QA_SHARE
) -> list[dict[str, Any]]:
    """The sampled conversations of each agent group (``agent_group`` of each row, the
    contact's aggregate id in ``subject_id``), by group and rank."""
    groups: dict[Any, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for row in conversations:
        groups[row["agent_group"]].append((rank(seed, row["subject_id"]), row))
    picked = []
    for group in sorted(groups, key=lambda g: (g is not None, g or "")):
        members = sorted(groups[group], key=lambda item: item[0])
        for position, (order, row) in enumerate(members[: sample_size(len(members), share)]):
            picked.append({**row, "rank": order, "position": position, "population": len(members)})
    return picked

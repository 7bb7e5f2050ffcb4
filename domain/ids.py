"""Aggregate ids derived from external ids, so a consumer needs no lookup table: the same
external id always names the same aggregate, on every replay and in every process."""

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("5b0f2a6e-3c1d-4f7e-9a51-2d8c7e4b9f10")


@lru_cache(maxsize=65_536)  # pure, and asked for several times per source event
def aggregate_id(kind: str, external_id: str) -> UUID:
    return uuid5(NAMESPACE, f"{kind}:{external_id}")

"""What a log must answer for records it placed (the log contract and the async publisher
share it): each record in its key's partition, offsets dense from 0 in each partition, and
the log's end offsets counting exactly those records."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.sourcelog.base import Coordinates, Log, TopicPartition
from adapters.sourcelog.embedded import partition_for


def assert_placed_densely(
    log: Log, topic: str, partitions: int, placed: Sequence[Coordinates], keys: Sequence[bytes]
) -> None:
    """``placed`` are the coordinates of records with ``keys``, sent in that order to a
    fresh ``topic`` of ``partitions`` partitions."""
    assert [c.partition for c in placed] == [partition_for(k, partitions) for k in keys]
    for partition in range(partitions):
        offsets = [c.offset for c in placed if c.partition == partition]
        assert offsets == list(range(len(offsets)))
    admin = log.admin()
    try:
        ends = admin.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    finally:
        admin.close()
    assert sum(ends.values()) == len(keys)

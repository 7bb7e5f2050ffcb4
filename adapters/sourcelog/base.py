"""The source-log contract shared by the embedded SQLite log and Apache Kafka.

Both implementations give the same guarantees to the code above them:

- a topic has a fixed number of partitions; a record's partition is chosen from its key
  with Kafka's murmur2 partitioner, so one customer's records stay in order on one
  partition whichever log carries them;
- offsets within a partition start at 0 and grow by one per record;
- a consumer in a group is assigned partitions; on assignment the caller decides where to
  resume (``seek``), because the event store, not the log, holds the truth of what has been
  applied; ``commit`` only reports progress (lag monitoring);
- delivery is at least once: after a restart a consumer may see records again.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, order=True)
class TopicPartition:
    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}"


def describe_partitions(partitions: Iterable[TopicPartition]) -> str:
    """Partitions in one short phrase, by topic with runs of numbers joined:
    ``journey.contacts[0-5], journey.orders[0-2,4]``."""
    by_topic: dict[str, list[int]] = {}
    for tp in sorted(set(partitions)):
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return ", ".join(f"{topic}[{_runs(numbers)}]" for topic, numbers in by_topic.items())


def _runs(numbers: list[int]) -> str:
    """Sorted distinct numbers as runs: ``[0, 1, 2, 4]`` → ``0-2,4``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


@dataclass(frozen=True, order=True)
class Coordinates:
    """Where a record landed: enough to find it again and to wait for it."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> Coordinates:
        """``topic:partition:offset`` (topic names hold no colon); ValueError otherwise."""
        try:
            topic, partition, offset = text.rsplit(":", 2)
            if topic and int(partition) >= 0 and int(offset) >= 0:
                return cls(topic, int(partition), int(offset))
        except ValueError:
            pass
        raise ValueError(f"not topic:partition:offset: {text!r}")

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = ()


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers
    timestamp_ms: int
    """The log's time of the record (Kafka: the broker's append time on our topics); any
    integer a record can carry, so readers must check its range."""
    null_value: bool = False
    """A Kafka tombstone: the record's value is null (``value`` is then empty)."""

    @property
    def coordinates(self) -> Coordinates:
        return Coordinates(self.topic, self.partition, self.offset)

    def header(self, name: str) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: tuple[tuple[str, str], ...] = ()
    """Kafka topic configs the topic must hold (``retention.ms``, the timestamp type…); the
    embedded log takes its retention from the same setting and stamps its own time."""


class LogUnavailable(Exception):
    """The log could not be reached or did not acknowledge in time."""


class LogAdmin(ABC):
    @abstractmethod
    def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        """Create the topics that do not exist yet; return the names created."""

    def align_configs(self, specs: Sequence[TopicSpec]) -> list[str]:
        """Give existing topics the configs their specs name; return the topics changed."""
        return []

    @abstractmethod
    def partitions_for(self, topic: str) -> int:
        """Number of partitions of an existing topic."""

    @abstractmethod
    def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        """The offset the next record of each partition will get."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class LogPublisher(ABC):
    @abstractmethod
    def publish_many(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        """Publish records durably (acknowledged by the log) and return where each landed,
        in the order given."""

    async def publish_many_async(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        """``publish_many`` for a caller on an event loop, which must not block it: the
        same records, acknowledgements, order and errors. By default ``publish_many`` on a
        worker thread; a log whose client acknowledges by callback awaits those instead."""
        return await asyncio.to_thread(self.publish_many, records)

    def publish(self, record: OutgoingRecord) -> Coordinates:
        return self.publish_many([record])[0]

    def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and release connections."""


AssignmentCallback = Callable[[list[TopicPartition]], None]


class LogConsumer(ABC):
    """One member of a consumer group."""

    @abstractmethod
    def subscribe(
        self,
        topics: Sequence[str],
        on_assigned: AssignmentCallback,
        on_revoked: AssignmentCallback,
    ) -> None:
        """Join the group for these topics. ``on_assigned`` is called (from inside
        ``poll``) with newly assigned partitions before any of their records are returned;
        it is the place to ``seek``."""

    @abstractmethod
    def poll(self, timeout_s: float, max_records: int) -> dict[TopicPartition, list[Record]]:
        """Records fetched since the last poll, grouped by partition, in offset order."""

    @abstractmethod
    def seek(self, partition: TopicPartition, offset: int) -> None:
        """The next poll returns records of ``partition`` from ``offset`` on."""

    @abstractmethod
    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Report progress: ``offsets`` are the next offsets to read."""

    @abstractmethod
    def assignment(self) -> list[TopicPartition]:
        """Partitions currently assigned to this member."""

    @abstractmethod
    def close(self) -> None:
        """Leave the group."""


class Log(ABC):
    """A log implementation: hands out its admin, publishers and group consumers."""

    @abstractmethod
    def admin(self) -> LogAdmin: ...

    @abstractmethod
    def publisher(self) -> LogPublisher: ...

    @abstractmethod
    def consumer(self, group_id: str) -> LogConsumer: ...

    def forget(  # noqa: B027 - optional hook
        self,
        keys: Collection[bytes],
        applied: Mapping[TopicPartition, int],
        unbounded: Collection[str],
    ) -> None:
        """Blank erased customers' records where the log keeps them itself: their value
        becomes ``REDACTED``; offsets, keys and headers stay.

        ``keys`` (customer ids) join the keys the log remembers as erased, and their
        records — keyed by them, or naming them as a JSON string — are blanked on the
        partitions of ``applied`` below the offset given (what the event store applied:
        a record in flight is left for the ingest to apply), and anywhere on the
        ``unbounded`` topics (dead letters, never applied). Called again without keys (after
        each batch the ingest stored, with that partition's next offset), it blanks the
        records keyed by any remembered key that were applied, or written to the
        ``unbounded`` topics, since.

        A log whose records only age out by its own retention (Kafka: the broker's
        ``retention.ms``) blanks nothing."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the log holds."""


REDACTED = b'{"redacted":"its customer was erased"}'
"""The value of a record blanked by ``Log.forget``."""

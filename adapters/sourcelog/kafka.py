"""Apache Kafka behind the contract of ``adapters.sourcelog.base``, with kafka-python."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    TopicAlreadyExistsError,
)
from kafka.structs import OffsetAndMetadata

from adapters.sourcelog.base import (
    AssignmentCallback,
    Coordinates,
    Log,
    LogAdmin,
    LogConsumer,
    LogPublisher,
    LogUnavailable,
    OutgoingRecord,
    Record,
    TopicPartition,
    TopicSpec,
)
from adapters.sourcelog.kafka_acks import acknowledged
from adapters.sourcelog.kafka_wire import lenient_batches

logger = logging.getLogger(__name__)

_ACK_TIMEOUT_S = 30.0

CONNECT_TIMEOUT_S = 5.0
"""How long a client waits for the bootstrap address's first answer, unless told."""

_Client = TypeVar("_Client")


@contextmanager
def _answering(bootstrap: str, timeout_s: float) -> Iterator[None]:
    """Kafka's errors as :class:`LogUnavailable`, naming the address asked."""
    try:
        yield
    except (KafkaTimeoutError, KafkaConnectionError) as error:
        raise LogUnavailable(
            f"Kafka at {bootstrap} is not reachable (no answer within {timeout_s:g} s;"
            " JOURNEY_KAFKA_BOOTSTRAP)"
        ) from error
    except KafkaError as error:
        raise LogUnavailable(f"Kafka at {bootstrap}: {error}") from error


def _connect(bootstrap: str, timeout_s: float, make: Callable[[], _Client]) -> _Client:
    """A client made by ``make``, which asks the bootstrap address for the cluster's
    metadata first; :class:`LogUnavailable` when no answer comes within ``timeout_s``."""
    with _answering(bootstrap, timeout_s):
        return make()


def _ours(tp: Any) -> TopicPartition:
    return TopicPartition(tp.topic, tp.partition)


def _theirs(tp: TopicPartition) -> KafkaTopicPartition:
    return KafkaTopicPartition(tp.topic, tp.partition)


class KafkaAdmin(LogAdmin):
    def __init__(self, bootstrap: str, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self._client = _connect(
            bootstrap,
            connect_timeout_s,
            lambda: KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="journey-admin",
                bootstrap_timeout_ms=int(connect_timeout_s * 1000),
            ),
        )
        self._bootstrap = bootstrap
        self._timeout_s = connect_timeout_s

    def _answering(self) -> AbstractContextManager[None]:
        return _answering(self._bootstrap, self._timeout_s)

    def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        with self._answering():
            return self._create_topics(specs)

    def _create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        existing = set(self._client.list_topics())
        created = []
        for spec in specs:
            if spec.name in existing:
                continue
            try:
                self._client.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            num_partitions=spec.partitions,
                            replication_factor=1,
                            topic_configs=dict(spec.configs) or None,
                        )
                    ]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass  # created concurrently by another process: that is the goal
        return created

    def align_configs(self, specs: Sequence[TopicSpec]) -> list[str]:
        """Checked at every start: a topic made before (by hand, or by an older version)
        whose configs differ gets ours, changed in place (incremental: its other configs
        stay as they are)."""
        with self._answering():
            return self._align_configs(specs)

    def _align_configs(self, specs: Sequence[TopicSpec]) -> list[str]:
        changed = []
        for spec in (s for s in specs if s.configs):
            current = self._configs(spec.name, [k for k, _ in spec.configs])
            differ = {k: v for k, v in spec.configs if current[k] != v}
            if differ:
                self._client.alter_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=differ)],
                    incremental=True,
                )
                changed.append(spec.name)
        return changed

    def _configs(self, topic: str, keys: list[str]) -> dict[str, str]:
        """The topic's values of ``keys``; a topic just made may not describe its configs
        (nor accept changes) for a moment: asked again until it does."""
        deadline = time.monotonic() + METADATA_WAIT_S
        while True:
            dynamic = (
                self._client.describe_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="dynamic"
                )
                .get("topic", {})
                .get(topic, {})
            )
            if all(key in dynamic for key in keys):
                return {key: dynamic[key]["value"] for key in keys}
            if time.monotonic() > deadline:
                raise LogUnavailable(f"topic {topic} does not describe its configs {keys}")
            time.sleep(0.1)  # a moment for the broker, not a busy loop of requests

    def partitions_for(self, topic: str) -> int:
        with self._answering():
            description = self._client.describe_topics([topic])
        return len(description[0]["partitions"])

    def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        consumer = _connect(
            self._bootstrap,
            self._timeout_s,
            lambda: KafkaConsumer(
                bootstrap_servers=self._bootstrap,
                bootstrap_timeout_ms=int(self._timeout_s * 1000),
            ),
        )
        try:
            # Just after topics are created the client's metadata may not list them yet, and
            # end_offsets then fails with a KeyError: ask until every topic is known.
            deadline = time.monotonic() + METADATA_WAIT_S
            wanted = {tp.topic for tp in partitions}
            while missing := wanted - consumer.topics():  # topics() refreshes the metadata
                if time.monotonic() > deadline:
                    raise LogUnavailable(f"not in the cluster's metadata: {sorted(missing)}")
            with self._answering():
                ends = consumer.end_offsets([_theirs(tp) for tp in partitions])
            return {_ours(tp): int(offset) for tp, offset in ends.items()}
        finally:
            consumer.close()

    def close(self) -> None:
        self._client.close()


METADATA_WAIT_S = 30.0


class KafkaPublisher(LogPublisher):
    """Idempotent producer, ``acks=all``: a record acknowledged here is on the broker once."""

    def __init__(
        self,
        bootstrap: str,
        client_id: str = "journey-publisher",
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self._producer = _connect(
            bootstrap,
            connect_timeout_s,
            lambda: KafkaProducer(
                bootstrap_servers=bootstrap,
                client_id=client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                bootstrap_timeout_ms=int(connect_timeout_s * 1000),
            ),
        )

    def _send(self, records: Sequence[OutgoingRecord]) -> list[Any]:
        """kafka-python's futures of ``records``, sent (in the producer's buffer)."""
        try:
            return [
                self._producer.send(r.topic, key=r.key, value=r.value, headers=list(r.headers))
                for r in records
            ]
        except KafkaError as error:
            raise _unacknowledged(error) from error

    def publish_many(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        futures = self._send(records)
        try:
            # Wait for these records' acknowledgements only (linger_ms bounds the wait): a
            # flush() would also wait for every other caller's records on this producer.
            placed = [f.get(timeout=_ACK_TIMEOUT_S) for f in futures]
        except KafkaError as error:
            raise _unacknowledged(error) from error
        return [Coordinates(m.topic, m.partition, m.offset) for m in placed]

    async def publish_many_async(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        """Sends on the caller's loop and awaits the records' own acknowledgements, which
        kafka-python's I/O thread reports by callback (no worker thread waits on them).
        A record whose topic the producer has no metadata for yet goes the thread way:
        ``send`` would block until the metadata came."""
        if not all(self._knows(r.topic) for r in records):
            return await super().publish_many_async(records)
        futures = self._send(records)
        try:
            placed = await acknowledged(futures, _ACK_TIMEOUT_S)
        except KafkaError as error:
            raise _unacknowledged(error) from error
        return [Coordinates(m.topic, m.partition, m.offset) for m in placed]

    def _knows(self, topic: str) -> bool:
        """Whether ``send`` to ``topic`` returns at once: the producer holds its partitions
        (kafka-python's cluster metadata, the one place that says so)."""
        return self._producer._metadata.partitions_for_topic(topic) is not None

    def close(self) -> None:
        self._producer.close(timeout=_ACK_TIMEOUT_S)


def _unacknowledged(error: KafkaError) -> LogUnavailable:
    return LogUnavailable(f"Kafka did not acknowledge: {error}")


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_assigned: AssignmentCallback, on_revoked: AssignmentCallback) -> None:
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked

    def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            self._on_revoked(sorted(_ours(tp) for tp in revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            self._on_assigned(sorted(_ours(tp) for tp in assigned))


def record_of(fetched: Any) -> Record:
    """Our record of one kafka-python ``ConsumerRecord``: whatever shape a producer gave
    it (a null value is a tombstone, a header's null value is empty; its timestamp any
    integer, for the reader to check)."""
    return Record(
        topic=fetched.topic,
        partition=fetched.partition,
        offset=fetched.offset,
        key=fetched.key,
        value=b"" if fetched.value is None else fetched.value,
        headers=tuple((k, b"" if v is None else v) for k, v in (fetched.headers or ())),
        timestamp_ms=fetched.timestamp,
        null_value=fetched.value is None,
    )


class KafkaLogConsumer(LogConsumer):
    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        client_id: str = "journey-ingest",
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        # A header name that is not UTF-8 must not stop a partition (kafka_wire).
        lenient_batches()
        self._latest: dict[Any, OffsetAndMetadata] = {}
        """The latest offsets committed of each partition (kafka-python's keys)."""
        self._consumer = _connect(
            bootstrap,
            connect_timeout_s,
            lambda: KafkaConsumer(
                bootstrap_servers=bootstrap,
                group_id=group_id,
                client_id=client_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                # A member killed without leaving holds its partitions until its session
                # times out; kafka-python's default (45 s) stalls recovery after a crash
                # that long.
                session_timeout_ms=10_000,
                heartbeat_interval_ms=3_000,
                bootstrap_timeout_ms=int(connect_timeout_s * 1000),
            ),
        )

    def subscribe(
        self,
        topics: Sequence[str],
        on_assigned: AssignmentCallback,
        on_revoked: AssignmentCallback,
    ) -> None:
        def revoked(partitions: list[TopicPartition]) -> None:
            for partition in partitions:
                self._latest.pop(_theirs(partition), None)
            on_revoked(partitions)

        self._consumer.subscribe(list(topics), listener=_Listener(on_assigned, revoked))

    def poll(self, timeout_s: float, max_records: int) -> dict[TopicPartition, list[Record]]:
        fetched = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        return {_ours(tp): [record_of(r) for r in records] for tp, records in fetched.items()}

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._consumer.seek(_theirs(partition), offset)

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Sent without waiting for the coordinator's answer (a round trip per partition
        batch was 7 % of the ingest, issue 18): the store holds the truth, the log's
        committed offsets only report progress. ``close`` commits the latest ones again,
        waiting, so a member that leaves leaves them current."""
        theirs = {_theirs(tp): OffsetAndMetadata(off, "", -1) for tp, off in offsets.items()}
        self._latest.update(theirs)
        try:
            self._consumer.commit_async(theirs, callback=_commit_failed)
        except KafkaError as error:
            _commit_failed(theirs, error)

    def assignment(self) -> list[TopicPartition]:
        return sorted(_ours(tp) for tp in self._consumer.assignment())

    def close(self) -> None:
        latest = {tp: off for tp, off in self._latest.items() if tp in self._consumer.assignment()}
        if latest:
            try:
                self._consumer.commit(latest, timeout_ms=_CLOSE_COMMIT_TIMEOUT_MS)
            except KafkaError as error:
                _commit_failed(latest, error)
        self._consumer.close(autocommit=False)


_CLOSE_COMMIT_TIMEOUT_MS = 5_000
"""How long a leaving member waits to commit its latest offsets (lag reporting only)."""


def _commit_failed(offsets: Any, outcome: Any) -> None:
    """kafka-python's callback of an asynchronous commit (also told of successes)."""
    if isinstance(outcome, Exception):
        # The store holds the truth; a failed commit only delays lag reporting.
        logger.warning("kafka offset commit failed (lag only): %s", outcome)


class KafkaLog(Log):
    def __init__(self, bootstrap: str, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.bootstrap = bootstrap
        self.connect_timeout_s = connect_timeout_s

    def admin(self) -> KafkaAdmin:
        return KafkaAdmin(self.bootstrap, self.connect_timeout_s)

    def publisher(self) -> KafkaPublisher:
        return KafkaPublisher(self.bootstrap, connect_timeout_s=self.connect_timeout_s)

    def consumer(self, group_id: str) -> KafkaLogConsumer:
        return KafkaLogConsumer(self.bootstrap, group_id, connect_timeout_s=self.connect_timeout_s)

"""Produce a raw record — whatever shape a producer can give it — on a runtime's log.

One interface, one implementation per log:

- :class:`KafkaRawProducer` writes Kafka's wire format itself (a record batch per record,
  a produce request to the partition's leader, ``acks=all``), so it writes what
  kafka-python's producer refuses and other clients write: a null value (a tombstone)
  beside a null key, headers with null values and names of any bytes, any timestamp.
- :class:`EmbeddedRawProducer` appends with ``EmbeddedLog.append``, the embedded log's
  lowest write. Its schema holds less than Kafka's wire, so some shapes cannot be written
  there at all (``cannot_carry`` says which, and why): a null value (``value BLOB NOT
  NULL``: a tombstone means nothing on a log that is never compacted), a header's null
  value (header values are bytes) and a header name that is not UTF-8 (names are text,
  kept as JSON). A producer's timestamp is not carried either — the embedded log stamps
  each record with its own append time — but that is what our Kafka ingress topics do too
  (``message.timestamp.type=LogAppendTime``), so such a record is written and stamped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from kafka import KafkaAdminClient
from kafka.net.compat import KafkaNetClient
from kafka.protocol.producer import ProduceRequest

from adapters.sourcelog.base import Coordinates, OutgoingRecord
from adapters.sourcelog.embedded import EmbeddedLog, partition_for
from journey.bootstrap import Runtime
from tests.builders.raw_records import RawRecord, wire_batch

_TIMEOUT_MS = 30_000


class RawProducer(ABC):
    @abstractmethod
    def cannot_carry(self, record: RawRecord) -> str | None:
        """Why this log cannot hold ``record``'s shape; None when it can."""

    @abstractmethod
    def produce(self, topic: str, partition: int, record: RawRecord) -> Coordinates:
        """Write ``record`` to ``partition`` of ``topic``, acknowledged; where it landed."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class KafkaRawProducer(RawProducer):
    def __init__(self, bootstrap: str) -> None:
        self._admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        self._client = KafkaNetClient(bootstrap_servers=bootstrap)
        self._client.check_version()
        self._leaders: dict[tuple[str, int], int] = {}

    def cannot_carry(self, record: RawRecord) -> str | None:
        return None

    def _leader(self, topic: str, partition: int) -> int:
        if (topic, partition) not in self._leaders:
            (described,) = self._admin.describe_topics([topic])
            for p in described["partitions"]:
                self._leaders[topic, p["partition_index"]] = p["leader_id"]
        return self._leaders[topic, partition]

    def produce(self, topic: str, partition: int, record: RawRecord) -> Coordinates:
        data = ProduceRequest.TopicProduceData
        request = ProduceRequest(
            transactional_id=None,
            acks=-1,
            timeout_ms=_TIMEOUT_MS,
            topic_data=[
                data(
                    name=topic,
                    partition_data=[
                        data.PartitionProduceData(index=partition, records=wire_batch([record]))
                    ],
                )
            ],
            min_version=3,
            max_version=9,
        )
        response = self._client.send_and_receive(
            self._leader(topic, partition), request, timeout_ms=_TIMEOUT_MS
        )
        (answer,) = response.responses[0].partition_responses
        assert answer.error_code == 0, f"the broker refused {record}: {answer}"
        return Coordinates(topic, partition, answer.base_offset)

    def close(self) -> None:
        self._client.close()
        self._admin.close()


class EmbeddedRawProducer(RawProducer):
    def __init__(self, log: EmbeddedLog) -> None:
        self._log = log

    def cannot_carry(self, record: RawRecord) -> str | None:
        if record.value is None:
            return "a null value: its records hold bytes (value BLOB NOT NULL)"
        if any(value is None for _, value in record.headers):
            return "a header's null value: its header values are bytes"
        try:
            for name, _ in record.headers:
                name.decode("utf-8")
        except UnicodeDecodeError:
            return "a header name that is not UTF-8: its header names are text"
        return None

    def produce(self, topic: str, partition: int, record: RawRecord) -> Coordinates:
        why = self.cannot_carry(record)
        assert why is None, f"the embedded log cannot hold {why}"
        assert record.value is not None  # for mypy: cannot_carry said so
        placed = partition_for(record.key, self._log.partitions_for(topic))
        assert placed == partition, f"its key places {record.key!r} on {placed}, not {partition}"
        headers = tuple((name.decode(), value or b"") for name, value in record.headers)
        (landed,) = self._log.append([OutgoingRecord(topic, record.key, record.value, headers)])
        return landed


def raw_producer(runtime: Runtime) -> RawProducer:
    if isinstance(runtime.log, EmbeddedLog):
        return EmbeddedRawProducer(runtime.log)
    return KafkaRawProducer(runtime.settings.kafka_bootstrap)

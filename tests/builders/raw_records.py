"""Records as any producer may write them, in Kafka's own wire format (record batch v2).

Our publisher never writes a null value, a header without a value or a header name that is
not UTF-8, and kafka-python's producer refuses them too; Kafka's protocol carries them all,
and other clients write them (Java: null header values; librdkafka: a header name is any
bytes). The hostile-input suites write these shapes (tests/integration/raw_producers.py on
a broker, tests/unit/test_record_decoder.py parsed in memory).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from kafka.record.default_records import DefaultRecordBatch
from kafka.record.memory_records import MemoryRecordsBuilder
from kafka.record.util import calc_crc32c

Header = tuple[bytes, bytes | None]
"""A header as the wire carries it: a name of any bytes, a value or null."""


@dataclass(frozen=True)
class RawRecord:
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    timestamp_ms: int | None = None
    """The producer's timestamp (None: its clock's now); any 64-bit integer."""


class _WireName(str):
    """A header name written as the bytes given. kafka-python's builder encodes each name
    with ``str.encode``; this one answers with its raw bytes, so the builder writes what a
    client that takes names as bytes writes."""

    raw: bytes

    def __new__(cls, raw: bytes) -> _WireName:
        name = super().__new__(cls, raw.decode("latin-1"))
        name.raw = raw
        return name

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.raw


def wire_batch(records: Sequence[RawRecord], *, log_append_time: bool = False) -> bytes:
    """One uncompressed record batch holding ``records`` at offsets 0, 1, ...; with
    ``log_append_time`` the batch says the log stamped it (as a broker does on a topic with
    ``message.timestamp.type=LogAppendTime``)."""
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 30)
    for record in records:
        headers = [(_WireName(name), value) for name, value in record.headers]
        builder.append(record.timestamp_ms, record.key, record.value, headers)
    builder.close()
    batch = bytearray(builder.buffer())
    if log_append_time:
        low_byte = DefaultRecordBatch.ATTRIBUTES_OFFSET + 1  # attributes: a big-endian int16
        batch[low_byte] |= DefaultRecordBatch.TIMESTAMP_TYPE_MASK
        crc = calc_crc32c(memoryview(batch)[DefaultRecordBatch.ATTRIBUTES_OFFSET :])
        struct.pack_into(">I", batch, DefaultRecordBatch.CRC_OFFSET, crc)
    return bytes(batch)

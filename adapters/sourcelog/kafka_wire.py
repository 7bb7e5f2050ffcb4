"""kafka-python made to read every record a broker accepts.

kafka-python parses a header name as strict UTF-8. The broker takes any bytes there (its
own Java parser reads malformed UTF-8 as U+FFFD) and clients that take names as bytes
(librdkafka) write them. One such record made kafka-python raise ``CorruptRecordError`` for
its whole batch, and a batch is parsed from its start whatever offset a consumer seeks to:
the partition stopped for good, the ingest failing again at every restart.

``lenient_batches()`` has kafka-python build the batches it reads as :class:`LenientBatch`:
a record is parsed by kafka-python's own code, and only one whose header name is not UTF-8
is read again here, its names decoded as Java's client decodes them. Its body is judged as
any other record's (a header carries nothing the ingest relies on).
"""

from __future__ import annotations

from typing import Any

from kafka.errors import CorruptRecordError
from kafka.record import memory_records
from kafka.record.default_records import ControlRecord, DefaultRecord, DefaultRecordBatch
from kafka.record.util import decode_varint


def _nullable_bytes(buffer: Any, pos: int) -> tuple[bytes | None, int]:
    """Kafka's ``Bytes``/``NULLABLE_BYTES``: a varint length (negative: null), the bytes."""
    length, pos = decode_varint(buffer, pos)
    if length < 0:
        return None, pos
    return bytes(buffer[pos : pos + length]), pos + length


class LenientBatch(DefaultRecordBatch):  # type: ignore[misc]
    """A record batch (format v2) whose records never fail on a header name."""

    _buffer: bytearray
    _pos: int

    def _read_msg(self, decode_varint: Any = decode_varint) -> Any:
        try:
            return super()._read_msg(decode_varint)
        except UnicodeDecodeError:  # raised before kafka-python moved past the record
            return self._read_with_names_replaced()

    def _read_with_names_replaced(self) -> Any:
        """The record at the batch's position, as kafka-python's ``_read_msg`` reads it
        (Kafka's record format v2) but for its header names: not UTF-8 is U+FFFD."""
        buffer = self._buffer
        length, pos = decode_varint(buffer, self._pos)
        start = pos
        _, pos = decode_varint(buffer, pos)  # attributes: unused
        timestamp_delta, pos = decode_varint(buffer, pos)
        if self.timestamp_type == self.LOG_APPEND_TIME:
            timestamp = self.max_timestamp
        else:
            timestamp = self.first_timestamp + timestamp_delta
        offset_delta, pos = decode_varint(buffer, pos)
        key, pos = _nullable_bytes(buffer, pos)
        value, pos = _nullable_bytes(buffer, pos)
        count, pos = decode_varint(buffer, pos)
        headers = []
        for _ in range(count):
            name, pos = _nullable_bytes(buffer, pos)
            if name is None:
                raise CorruptRecordError("a header without a name")
            header_value, pos = _nullable_bytes(buffer, pos)
            headers.append((name.decode("utf-8", "replace"), header_value))
        if pos - start != length:
            raise CorruptRecordError(f"record of {length} bytes read as {pos - start}")
        self._pos = pos
        made = ControlRecord if self.is_control_batch else DefaultRecord
        return made(
            length,
            self.base_offset + offset_delta,
            timestamp,
            self.timestamp_type,
            key,
            value,
            headers,
        )


def lenient_batches() -> None:
    """From now on, kafka-python reads fetched v2 batches as :class:`LenientBatch` (the
    name its ``MemoryRecords`` builds them by). Idempotent."""
    memory_records.DefaultRecordBatch = LenientBatch

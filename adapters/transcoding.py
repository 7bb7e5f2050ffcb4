"""How the event store encodes what the domain records: eventsourcing's JSON transcoder
with our own transcodings (source references, durations), decoding with orjson."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from domain.provenance import SourceRef


class SourceRefAsDict(Transcoding):
    type = SourceRef
    name = "source_ref"

    def encode(self, obj: SourceRef) -> dict[str, Any]:
        encoded: dict[str, Any] = {
            "event_id": obj.event_id,
            "topic": obj.topic,
            "partition": obj.partition,
            "offset": obj.offset,
        }
        if obj.attributes:  # absent when none: such events are stored as before
            encoded["attributes"] = dict(obj.attributes)
        return encoded

    def decode(self, data: dict[str, Any]) -> SourceRef:
        attributes = data.pop("attributes", None)
        if attributes:
            return SourceRef(**data, attributes=tuple(sorted(attributes.items())))
        return SourceRef(**data)


_C_DECODERS: dict[type, Callable[[Any], Any]] = {
    DatetimeAsISO: datetime.fromisoformat,
    UUIDAsHex: UUID,
    DecimalAsStr: Decimal,
}
"""eventsourcing's own transcodings whose ``decode`` is one call of a C function."""

_BEYOND_64_BITS = 2.0**63
"""orjson reads an integer beyond 64 bits as a float at least this large: any float that
large is left to the stdlib decoder (which reads such an integer exactly)."""


class _NotPlain(Exception):
    """A value the fast encoder leaves to the stdlib encoder."""


class FastJSONTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, decoding faster. The stdlib decoder calls the
    ``object_hook`` once per JSON object (about five per stored event); here orjson parses
    the whole document and one walk turns each ``{"_type_", "_data_"}`` object into its
    value, innermost first, as the hook does. Whatever orjson would read differently (NaN,
    an integer beyond 64 bits) or the walk cannot decode goes to the stdlib decoder, so
    what decodes, to what, and what fails is exactly as before.

    Encoding gives the parent's bytes, faster: one walk turns each value of a registered
    type into its ``{"_type_", "_data_"}`` object, as the parent's ``default`` hook does,
    then orjson writes the document (compact, UTF-8, as the parent's encoder is set up).
    A value orjson might write differently from the stdlib (a float, a subclass of a
    JSON type, a non-string key, an integer beyond 64 bits) sends the whole event to the
    parent: the stored format does not change (``tests/unit/test_fast_encoding.py``)."""

    def __init__(self) -> None:
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self._datetime_name: str | None = None
        super().__init__()

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = _C_DECODERS.get(type(transcoding), transcoding.decode)
        if transcoding.type is datetime:
            # eventsourcing's own writes ``isoformat()``: inlined (two a stored event).
            is_iso = type(transcoding) is DatetimeAsISO
            self._datetime_name = transcoding.name if is_iso else None

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_NotPlain, orjson.JSONEncodeError, RecursionError):
            return super().encode(obj)

    def _plain(self, obj: Any) -> Any:
        """``obj`` with every value of a registered type replaced as the parent's hook
        replaces it; raises ``_NotPlain`` where orjson could write other bytes."""
        kind = type(obj)
        if kind is str or kind is int or kind is bool or obj is None:
            return obj
        if kind is dict:
            return self._plain_dict(obj)
        if kind is list or kind is tuple:
            return [self._plain(value) for value in obj]
        transcoding = self.types.get(kind)
        if transcoding is None:  # a float, a subclass, an unknown type: the parent decides
            raise _NotPlain
        return {"_type_": transcoding.name, "_data_": self._plain(transcoding.encode(obj))}

    def _plain_dict(self, obj: dict[Any, Any]) -> dict[str, Any]:
        """``_plain`` of a dict, its flat values inline (most of a stored event's)."""
        plain = {}
        for key, value in obj.items():
            if type(key) is not str:
                raise _NotPlain
            kind = type(value)
            if kind is str or value is None or kind is bool or kind is int:
                plain[key] = value
            elif kind is datetime and self._datetime_name is not None:
                plain[key] = {"_type_": self._datetime_name, "_data_": value.isoformat()}
            else:
                plain[key] = self._plain(value)
        return plain

    def decode(self, data: bytes) -> Any:
        try:
            return self.fast_decode(data)
        except Exception:
            return super().decode(data)

    def fast_decode(self, data: bytes) -> Any:
        """The decoded value, or an exception where the stdlib decoder must decide."""
        value = orjson.loads(data)
        kind = type(value)
        if kind is dict:
            return self._dict(value)
        if kind is list:
            return self._list(value)
        if kind is float and abs(value) >= _BEYOND_64_BITS:
            raise LookupError("maybe an integer beyond 64 bits")
        return value

    def _dict(self, obj: dict[str, Any]) -> Any:
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                data = value.get("_data_", value) if len(value) == 2 else value
                if (type(data) is str or type(data) is int) and "_type_" in value:
                    # A registered value with flat data (a time, an id, an amount, a
                    # duration: most nested dicts of a stored event), decoded here as the
                    # call below would, without the call.
                    obj[key] = self._decoders[value["_type_"]](data)
                else:
                    obj[key] = self._dict(value)
            elif kind is list:
                obj[key] = self._list(value)
            elif kind is float and abs(value) >= _BEYOND_64_BITS:
                raise LookupError("maybe an integer beyond 64 bits")
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self._decoders[obj["_type_"]](obj["_data_"])
        return obj

    def _list(self, items: list[Any]) -> list[Any]:
        for index, value in enumerate(items):
            kind = type(value)
            if kind is dict:
                items[index] = self._dict(value)
            elif kind is list:
                items[index] = self._list(value)
            elif kind is float and abs(value) >= _BEYOND_64_BITS:
                raise LookupError("maybe an integer beyond 64 bits")
        return items


class TimedeltaAsMicroseconds(Transcoding):
    """Durations (SLA targets and actuals) stored exactly, as whole microseconds."""

    type = timedelta
    name = "timedelta_us"

    def encode(self, obj: timedelta) -> int:
        return (obj.days * 86_400 + obj.seconds) * 1_000_000 + obj.microseconds

    def decode(self, data: int) -> timedelta:
        return timedelta(microseconds=data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Our transcodings, beside eventsourcing's own."""
    transcoder.register(SourceRefAsDict())
    transcoder.register(TimedeltaAsMicroseconds())

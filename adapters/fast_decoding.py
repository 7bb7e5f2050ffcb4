"""Domain events from stored events as eventsourcing's mapper builds them, with fewer
steps: for the projections' reading of the notification log and for loading many
aggregates at once (``application.aggregate_loading``)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, cast

from eventsourcing.persistence import Mapper, StoredEvent, find_id_convertor
from eventsourcing.utils import resolve_topic

from adapters.transcoding import FastJSONTranscoder


class FastDecoder:
    """Builds a stored event's domain event as the mapper does, with fewer steps: the
    application's ``FastJSONTranscoder`` decodes the state (orjson), the event class and
    id conversion are looked up once per topic. Only for a mapper without cipher or
    compressor; anything else (an event class with versions to upcast, a state the fast
    transcoder leaves to the stdlib decoder, an unknown topic) raises, and the caller asks
    the mapper, so what decodes and what fails is exactly what the mapper says."""

    def __init__(self, transcoder: FastJSONTranscoder) -> None:
        self._transcoder = transcoder
        self._classes: dict[str, tuple[type, Callable[[Any], Any]]] = {}

    @classmethod
    def for_mapper(cls, mapper: Mapper) -> FastDecoder | None:  # type: ignore[type-arg]
        transcoder = mapper.transcoder
        if mapper.cipher or mapper.compressor or not isinstance(transcoder, FastJSONTranscoder):
            return None
        return cls(transcoder)

    def event(self, stored: StoredEvent) -> Any:
        known = self._classes.get(stored.topic)
        if known is None:
            event_class = resolve_topic(stored.topic)
            if getattr(event_class, "class_version", 1) != 1:
                raise LookupError("an event class with versions: the mapper upcasts")
            id_type = cast(Hashable, type(stored.originator_id))
            known = (event_class, find_id_convertor(event_class, id_type))
            self._classes[stored.topic] = known
        event_class, id_convertor = known
        state = self._transcoder.fast_decode(stored.state)
        if "class_version" in state:
            raise LookupError("a versioned event: the mapper upcasts")
        state["originator_id"] = id_convertor(stored.originator_id)
        state["originator_version"] = stored.originator_version
        event: Any = object.__new__(event_class)
        object.__setattr__(event, "__dict__", state)
        return event


def decoder_of(mapper: Mapper) -> Callable[[StoredEvent], Any]:  # type: ignore[type-arg]
    """The domain event of a stored event: ``FastDecoder``'s where it can, else the
    mapper's (whose errors are raised as they come)."""
    fast = FastDecoder.for_mapper(mapper)
    if fast is None:
        return mapper.to_domain_event

    def decode(stored: StoredEvent) -> Any:
        try:
            return fast.event(stored)
        except Exception:
            return mapper.to_domain_event(stored)

    return decode

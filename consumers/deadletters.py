"""Refused records go to the dead-letter topic with their original bytes, the reason
naming the field or the rule, and the coordinates they came from.

They are read back by a consumer of its own (``consumers.deadletter_reading``: a fresh
group that never commits, so the ingest group is never disturbed), listed with personal
fields masked, and replayed: their original bytes go back to their source topic with
their key, so they keep their ``event_id``. A replayed letter that is still invalid is
simply dead-lettered again; one whose ``event_id`` was applied meanwhile has no effect.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import orjson

from adapters.privacy.records import Shown, shown
from adapters.privacy.tokens import ERASED
from adapters.sourcelog.base import (
    REDACTED,
    Coordinates,
    Headers,
    LogPublisher,
    OutgoingRecord,
    Record,
)
from application.deadletter_query import DeadLetterFilter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    reason: str


REASON_SHOWN = 300
"""Characters of a refusal's reason a log line carries (the dead letter holds it whole)."""


def log_dead_letter(letter: DeadLetter) -> None:
    """One WARNING per refused record: where it was, what it claimed to be, why refused.
    Its value is not logged (personal data); ``journey deadletters list`` shows it masked."""
    record = letter.record
    event_id, event_type = record.header("event_id"), record.header("type")
    logger.warning(
        "dead-lettered %s",
        record.coordinates,
        extra={
            "source": str(record.coordinates),
            "event_id": event_id.decode(errors="replace") if event_id else None,
            "event_type": event_type.decode(errors="replace") if event_type else None,
            "reason": letter.reason[:REASON_SHOWN],
        },
    )


class DeadLetterSink:
    """Publishes dead letters durably. ``counted(source topic, reasons)``, when given, is
    told of each letter once published: the clock timer's sink counts the letters it writes
    for expired parked events into ``journey_dead_letters_published`` (the ingest counts
    its own after each batch)."""

    def __init__(
        self,
        publisher: LogPublisher,
        topic: str,
        counted: Callable[[str, Iterable[str]], None] | None = None,
    ) -> None:
        self._publisher = publisher
        self._topic = topic
        self._counted = counted
        self.count = 0

    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Publish durably; returns once the log has acknowledged every letter."""
        if not letters:
            return
        self._publisher.publish_many(
            [
                OutgoingRecord(
                    topic=self._topic,
                    key=letter.record.key,
                    value=letter.record.value,
                    headers=(
                        ("reason", letter.reason.encode()),
                        ("source_topic", letter.record.topic.encode()),
                        ("source_partition", str(letter.record.partition).encode()),
                        ("source_offset", str(letter.record.offset).encode()),
                    ),
                )
                for letter in letters
            ]
        )
        self.count += len(letters)
        for letter in letters:
            log_dead_letter(letter)
            if self._counted is not None:
                self._counted(letter.record.topic, [letter.reason])


def _text(coordinates: Coordinates) -> str:
    return f"{coordinates.topic}:{coordinates.partition}:{coordinates.offset}"


_NAME = re.compile(r"[A-Za-z0-9_.\[\]-]+")
"""A field path (``data.items[0].sku``) or a rule id (``R-CUS-02``)."""


def named_in(reason: str) -> list[str]:
    """The fields and rule ids a reason names: each of its ``; ``-separated problems that
    starts with one followed by ``: `` (``data.consents: …``, ``R-CUS-02: …``)."""
    names = []
    for problem in reason.split("; "):
        head, colon, _ = problem.partition(": ")
        if colon and _NAME.fullmatch(head) and head not in names:
            names.append(head)
    return names


def _never_erased(_: str) -> bool:
    return False


@dataclass(frozen=True)
class StoredDeadLetter:
    """A record of the dead-letter topic, read back."""

    record: Record

    @property
    def source(self) -> Coordinates | None:
        """Where the refused record was, from the headers the sink wrote."""
        topic = self.record.header("source_topic")
        partition = self.record.header("source_partition")
        offset = self.record.header("source_offset")
        if topic is None or partition is None or offset is None:
            return None
        return Coordinates(topic.decode(), int(partition), int(offset))

    @property
    def reason(self) -> str:
        return (self.record.header("reason") or b"").decode(errors="replace")

    @property
    def original(self) -> bytes:
        return self.record.value

    @cached_property
    def _envelope(self) -> dict[str, Any] | None:
        try:
            body = orjson.loads(self.record.value)
        except orjson.JSONDecodeError:
            return None
        return body if isinstance(body, dict) else None

    def _field(self, name: str) -> str | None:
        value = (self._envelope or {}).get(name)
        return value if isinstance(value, str) else None

    @property
    def event_id(self) -> str | None:
        return self._field("event_id")

    @property
    def type(self) -> str | None:
        return self._field("type")

    @property
    def customer_id(self) -> str | None:
        """Whose record it was: the record key (channels key by customer), else the
        envelope's ``customer_id``."""
        ids = self.customer_ids
        return ids[0] if ids else None

    @property
    def customer_ids(self) -> tuple[str, ...]:
        """Every customer the record names: its key and its envelope's ``customer_id``
        (they differ only in a record its channel keyed wrongly)."""
        key = self.record.key.decode(errors="replace") if self.record.key else None
        named = self._field("customer_id")
        return tuple(dict.fromkeys(c for c in (key, named) if c))

    @property
    def published_by(self) -> str | None:
        """The publishing system: the envelope's ``source``, when the bytes tell it."""
        return self._field("source")

    @property
    def named(self) -> list[str]:
        """The fields and rule ids its reason names."""
        return named_in(self.reason)

    @property
    def dead_lettered_at(self) -> datetime:
        return datetime.fromtimestamp(self.record.timestamp_ms / 1000, UTC)

    def matches(self, where: DeadLetterFilter) -> bool:
        source = self.source
        rule = where.rule
        return (
            (where.topic is None or (source is not None and source.topic == where.topic))
            and (where.type is None or self.type == where.type)
            and (where.customer is None or where.customer in self.customer_ids)
            and (where.published_by is None or self.published_by == where.published_by)
            and (where.since is None or self.dead_lettered_at >= where.since)
            and (where.until is None or self.dead_lettered_at < where.until)
            and (
                rule is None
                or any(n == rule or n.startswith((f"{rule}.", f"{rule}[")) for n in self.named)
            )
        )

    @property
    def schema_version(self) -> int | None:
        value = (self._envelope or {}).get("schema_version")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def display(self, limit: int = 500, erased: bool = False) -> tuple[str, Shown, bool]:
        """The original bytes as text for people, cut at ``limit`` characters; how they were
        made safe to show (``adapters.privacy.records``: personal fields masked, or opaque
        when nested too deep to walk); and whether the text was cut. Nothing of the original
        is shown once its customer is ``erased``, nor of bytes the log blanked (``REDACTED``:
        its customer was erased)."""
        if erased or self.record.value == REDACTED:
            return ERASED, "erased", False
        text, how = shown(self.record.value)
        return (text[:limit], how, True) if len(text) > limit else (text, how, False)

    def replay_record(self) -> OutgoingRecord:
        """The original bytes, to their source topic, with their key; headers as a channel
        publishing them sets them, where the bytes tell them."""
        source = self.source
        if source is None:
            raise ValueError(f"dead letter {_text(self.record.coordinates)} has no source")
        headers: Headers = tuple(
            (name, value.encode())
            for name, value in (
                ("event_id", self.event_id),
                ("type", self.type),
                (
                    "schema_version",
                    None if self.schema_version is None else str(self.schema_version),
                ),
            )
            if value is not None
        )
        return OutgoingRecord(source.topic, self.record.key, self.record.value, headers)

    def as_json(
        self, limit: int = 500, *, is_erased: Callable[[str], bool] = _never_erased
    ) -> dict[str, Any]:
        """What people see of it; nothing of the original once a customer it names is
        erased (``is_erased``)."""
        erased = any(is_erased(customer) for customer in self.customer_ids)
        original, how, truncated = self.display(limit, erased)
        source = self.source
        return {
            "dead_letter": _text(self.record.coordinates),
            "dead_lettered_at": self.dead_lettered_at.isoformat(),
            "source": None if source is None else _text(source),
            "source_topic": None if source is None else source.topic,
            "source_partition": None if source is None else source.partition,
            "source_offset": None if source is None else source.offset,
            "published_by": self.published_by,
            "customer_id": self.customer_id,
            "event_id": self.event_id,
            "type": self.type,
            "reason": self.reason,
            "named": self.named,
            "original": original,
            "original_shown": how,
            "original_bytes": len(self.record.value),
            "truncated": truncated,
        }


def select(
    letters: Iterable[StoredDeadLetter],
    *,
    sources: Sequence[Coordinates] = (),
    all_from: str | None = None,
) -> list[StoredDeadLetter]:
    """The letters of the given source coordinates, or every letter from ``all_from``,
    one per source record (dead letters are at least once: a record may have several).
    Letters the log blanked (their customer was erased) have nothing to replay. Raises
    ``LookupError`` naming the coordinates that have no such letter."""
    first: dict[Coordinates, StoredDeadLetter] = {}
    for letter in letters:
        source = letter.source
        if source is not None and source not in first and letter.original != REDACTED:
            first[source] = letter
    if all_from is not None:
        return [letter for source, letter in first.items() if source.topic == all_from]
    missing = [_text(s) for s in sources if s not in first]
    if missing:
        raise LookupError(f"no dead letter comes from {', '.join(missing)}")
    return [first[s] for s in dict.fromkeys(sources)]


def replay(
    letters: Sequence[StoredDeadLetter], publisher: LogPublisher, ingress: Collection[str]
) -> list[Coordinates]:
    """Publish the letters' original bytes back to their source topics (ingress topics
    only); returns where each landed, in order."""
    records = [letter.replay_record() for letter in letters]
    outside = sorted({r.topic for r in records} - set(ingress))
    if outside:
        raise ValueError(f"not an ingress topic: {', '.join(outside)}")
    return publisher.publish_many(records)


def replayed(
    letters: Sequence[StoredDeadLetter], placed: Sequence[Coordinates]
) -> list[dict[str, Any]]:
    """What a replay did, one item per letter: its source, event id, type and where its
    original bytes landed (``journey deadletters replay --json``, the replay route)."""
    return [
        {
            "source": letter.as_json()["source"],
            "event_id": letter.event_id,
            "type": letter.type,
            "replayed_to": str(c),
        }
        for letter, c in zip(letters, placed, strict=True)
    ]

"""Refused records go to the dead-letter topic with their original bytes, the reason
naming the field or the rule, and the coordinates they came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from journey.log.base import LogPublisher, OutgoingRecord, Record


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    reason: str


class DeadLetterSink:
    def __init__(self, publisher: LogPublisher, topic: str) -> None:
        self._publisher = publisher
        self._topic = topic
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

"""One customer's simulated steps, journey by journey, each journey with its own clock.

A journey (``Track``) is the story of one aggregate and of the aggregates that must follow
it: a case with its contacts and survey; an order with its returns and after-delivery
callbacks; a customer record; a standalone callback. Its steps never go back in time,
and all of them travel on the topic of the journey's first step (``route``), chosen by
``Topics.for_type`` like the API chooses it: the log keeps order only within a partition
of one topic, so a step that the domain checks against another aggregate (a survey
against its resolved case, a return against its delivered order) rides with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Any


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    route: str
    """The type of the journey's first step: its topic is the journey's topic."""
    type: str
    channel: str
    data: dict[str, Any]
    version: int = 1


class Timeline:
    """Every step of one customer, in the order generated; ids counted per customer."""

    def __init__(self, rng: Random, customer_id: str) -> None:
        self.rng = rng
        self.customer_id = customer_id
        self.steps: list[Step] = []
        self._counters: dict[str, int] = {}

    def next_id(self, kind: str) -> str:
        """``<customer>-<kind><n>``: unique in the stream, the same for the same seed."""
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        return f"{self.customer_id}-{kind}{n}"

    def track(self, route: str, start: datetime) -> Track:
        """A journey starting at ``start`` (to the whole second, as channels send times)."""
        return Track(self, route, start.replace(microsecond=0))


class Track:
    """The steps of one journey; ``now`` is its clock."""

    def __init__(self, timeline: Timeline, route: str, start: datetime) -> None:
        self.timeline = timeline
        self.rng = timeline.rng
        self.route = route
        self.now = start

    def later(self, low_s: float, high_s: float) -> datetime:
        """Move the clock on by a random whole number of seconds in [low_s, high_s]."""
        self.now += timedelta(seconds=self.rng.randint(int(low_s), int(high_s)))
        return self.now

    def move_to(self, at: datetime) -> datetime:
        """Move the clock to ``at`` (never back)."""
        self.now = max(self.now, at)
        return self.now

    def add(self, event_type: str, channel: str, data: dict[str, Any], version: int = 1) -> None:
        """A step at the clock's time."""
        at = self.now.replace(microsecond=0)  # whole seconds, as channels send them
        self.timeline.steps.append(Step(at, self.route, event_type, channel, dict(data), version))

    def after(
        self,
        low_s: float,
        high_s: float,
        event_type: str,
        channel: str,
        data: dict[str, Any],
        version: int = 1,
    ) -> datetime:
        """A step ``low_s``..``high_s`` seconds after the previous one."""
        at = self.later(low_s, high_s)
        self.add(event_type, channel, data, version)
        return at

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


MINUTE = 60
HOUR = 3600
DAY = 86400

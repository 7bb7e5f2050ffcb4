"""What importers produce: steps (one source event each), built journey by journey.

A journey is the story of one aggregate (an order, a case and its contact, a survey with
the case it follows) in event-time order. The domain refuses a fact older than one it must
follow, so a step dated before the step it follows (bad or coarse source data) is moved to
that step's time and counted; a journey's times therefore never go backwards, and equal
times keep the order the steps were added in.

Event ids are ``<journey prefix>:<step name>``: the same row always gives the same ids, so
importing a file again publishes records the ingest recognises as already applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.attributes import CONTACT_LIKE, MAX_VALUE
from tools.importers.summary import ImportSummary


@dataclass(frozen=True, slots=True)
class Step:
    """One source event to publish (the envelope of DESIGN.md without its ``source``)."""

    at: datetime
    customer_id: str
    type: str
    channel: str
    data: dict[str, Any]
    event_id: str
    attributes: dict[str, str] | None = None
    """Source attributes: the source's own labels (``contracts.attributes``)."""


class Journey:
    """The steps of one customer's journey through one aggregate, in order."""

    def __init__(self, summary: ImportSummary, prefix: str, customer_id: str, channel: str) -> None:
        self.summary = summary
        self.prefix = prefix
        self.customer_id = customer_id
        self.channel = channel
        self.steps: list[Step] = []
        self.last_at: datetime | None = None

    def add(
        self,
        event_type: str,
        name: str,
        at: datetime,
        data: dict[str, Any],
        channel: str | None = None,
        attributes: dict[str, str | None] | None = None,
    ) -> datetime:
        """Add a step named ``name`` (unique in the journey); returns its event time,
        ``at`` or the previous step's time when ``at`` is earlier. ``attributes``: the
        source's own values (empty ones left out, each cut to the attribute length
        limit)."""
        at = self.clamp(event_type, at)
        self.last_at = at
        self.steps.append(
            Step(
                at=at,
                customer_id=self.customer_id,
                type=event_type,
                channel=channel or self.channel,
                data=data,
                event_id=f"{self.prefix}:{name}",
                attributes=labels(attributes, self.summary),
            )
        )
        return at

    def clamp(self, event_type: str, at: datetime) -> datetime:
        """The time a step of ``event_type`` dated ``at`` gets: ``at``, or the previous
        step's time when ``at`` is earlier (counted)."""
        if self.last_at is None or at >= self.last_at:
            return at
        self.summary.times_adjusted[
            f"{event_type} dated before the step it follows: moved to that step's time"
        ] += 1
        return self.last_at


def text(*parts: str, limit: int = 4000) -> str | None:
    """Non-empty parts joined by ": ", cut to the catalog's free-text limit; None if empty."""
    joined = ": ".join(part.strip() for part in parts if part and part.strip())
    return joined[:limit] or None


def labels(
    attributes: dict[str, str | None] | None, summary: ImportSummary
) -> dict[str, str] | None:
    """Source attributes as an envelope carries them: empty values left out, each value
    cut to the limit (``contracts.attributes.MAX_VALUE``), a value that looks like contact
    data left off (counted), so that the step itself is never refused for one; None when
    none is left."""
    kept: dict[str, str] = {}
    for name, value in (attributes or {}).items():
        if value is None or not value.strip():
            continue
        if CONTACT_LIKE.search(value):
            summary.attributes_dropped[f"{name}: looks like contact data"] += 1
            continue
        kept[name] = value.strip()[:MAX_VALUE]
    return kept or None

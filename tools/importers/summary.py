"""What an import did: rows read, journeys built, events published, and every row skipped,
step dropped, step added or time moved, each counted under its reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportSummary:
    kind: str
    dataset: str = ""
    """The data set's name; also the ``source`` of every envelope it publishes."""
    files: list[str] = field(default_factory=list)
    unit: str = "row"
    """What one journey of this data set stands for (order, complaint, incident)."""
    rows_read: Counter[str] = field(default_factory=Counter)
    """Rows read, by file name."""
    units: int = 0
    """Journeys built (orders, complaints, incidents)."""
    events_published: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    rows_skipped: Counter[str] = field(default_factory=Counter)
    """Rows left out entirely, by reason."""
    steps_dropped: Counter[str] = field(default_factory=Counter)
    """Single source events left out of a journey (the domain would refuse them), by reason."""
    steps_added: Counter[str] = field(default_factory=Counter)
    """Synthetic source events added so that the domain accepts a journey, by reason."""
    times_adjusted: Counter[str] = field(default_factory=Counter)
    """Event times moved (e.g. a step earlier than the one it must follow), by reason."""
    attributes_dropped: Counter[str] = field(default_factory=Counter)
    """Source attributes left off a step (a value the catalogue would refuse as contact
    data: the step is kept without it), by reason."""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dataset": self.dataset,
            "files": list(self.files),
            "unit": self.unit,
            "rows_read": dict(sorted(self.rows_read.items())),
            "units": self.units,
            "events_published": self.events_published,
            "events_by_type": dict(sorted(self.events_by_type.items())),
            "rows_skipped": dict(self.rows_skipped.most_common()),
            "steps_dropped": dict(self.steps_dropped.most_common()),
            "steps_added": dict(self.steps_added.most_common()),
            "times_adjusted": dict(self.times_adjusted.most_common()),
            "attributes_dropped": dict(self.attributes_dropped.most_common()),
            "seconds": round(self.seconds, 3),
        }

    def render(self) -> str:
        """The summary as text for a terminal."""
        lines = [
            f"import {self.kind}: {self.dataset}",
            f"  files: {', '.join(self.files)}",
            "  rows read: "
            + ", ".join(f"{name} {count:,}" for name, count in sorted(self.rows_read.items())),
            f"  {self.unit}s imported: {self.units:,}",
            f"  events published: {self.events_published:,} in {self.seconds:.1f} s",
        ]
        for event_type, count in sorted(self.events_by_type.items()):
            lines.append(f"    {event_type:<28} {count:>9,}")
        for title, counts in (
            ("rows skipped", self.rows_skipped),
            ("steps dropped", self.steps_dropped),
            ("synthetic steps added", self.steps_added),
            ("times adjusted", self.times_adjusted),
            ("source attributes left off", self.attributes_dropped),
        ):
            lines.append(f"  {title}: {sum(counts.values()):,}")
            lines += [f"    {count:>9,}  {reason}" for reason, count in counts.most_common()]
        return "\n".join(lines)

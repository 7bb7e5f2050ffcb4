"""CPython's cycle collector in a process that runs workers (issue 18).

With CPython's default thresholds (700, 10, 10) a batch's short-lived objects (records,
envelopes, decoded events, their stored forms, the rows a read model touches) set off a
young collection every 700 allocations, and every hundred or so young ones a full
collection over everything alive: the cached aggregates of an ingest, the 5,000 decoded
events of a projection batch. That was about a quarter of the ingest's CPU, and
10.7 s of 50.6 s of CPU when the read models applied 20,000 CFPB complaints' 305,359
stored events (docs/BENCHMARKS.md).

Nothing the workers build per event needs the collector to be freed promptly (they make no
cycles per event), so each worker's loop raises the thresholds when it starts
(:func:`tune_collector`); the collector still runs. A process whose start-up built
long-lived objects (the runtime, the API app) moves them out of the collector's sight once
(:func:`freeze_start_up`), so the full collections that remain scan only what work made.
"""

from __future__ import annotations

import gc

COLLECTOR_THRESHOLDS = (10_000, 50, 100)
"""The least thresholds while a worker runs: a young collection per 10,000 net
allocations of container objects, a full one after 100 middle ones at most."""


def tune_collector() -> None:
    """Raise the collector's thresholds to at least :data:`COLLECTOR_THRESHOLDS` (never
    lower what the process set)."""
    current = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(current, COLLECTOR_THRESHOLDS, strict=True)))


def freeze_start_up() -> None:
    """Collect once, then move every object alive into the permanent generation: what
    start-up built lives as long as the process, and a full collection no longer scans it."""
    gc.collect()
    gc.freeze()

"""The read-side benchmark's event store: filled once with ``bench/readside_events.py``'s
stream, then reused while nothing it depends on changes.

The fill goes through the application exactly as the ingest does after a poll
(``contracts.envelope.decode`` of each record's bytes, ``JourneyApplication.prepare_batch``
per log partition, ``commit()`` of the new events with the partition's next offset), only
without Kafka: records are assigned to the six partitions of their topic by their key, in
event-time order, 2,000 at a time. It stops after the first commit that brings the
notification log to the target number of stored events.

A filled store lives in ``.run/bench/readside/<target>-<key>/`` with a ``manifest.json``
written last. The key hashes everything that decides which events get stored: the seed,
the target, the shape of the fill (``FORMAT``, partitions, chunk, stream length), the
generators (``bench/events.py``, ``bench/readside_events.py``), the domain, the envelope
and contracts, the handlers, the application, and the eventsourcing version. A
store of the same target under another key is removed when a new one is filled.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import sqlite3
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import IO

from adapters.sourcelog.base import TopicPartition
from adapters.topics import Topics
from application.service import JourneyApplication
from bench.events import SourceRecord
from bench.readside_events import LONG_CASE_REF, readside_stream
from contracts.envelope import SourceEvent, decode
from domain.case import Case
from domain.provenance import SourceRef
from journey.bootstrap import event_store_env
from journey.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".run" / "bench" / "readside"
FORMAT = 1
"""Bump when the layout of a cached store or its manifest changes."""
INPUTS = (
    "bench/events.py",
    "bench/readside_events.py",
    "domain",
    "application/service.py",
    "contracts/envelope.py",
    "contracts/schemas",
    "application/handlers",
)
PARTITIONS = 6
CHUNK = 2000
"""Source records per round of batches (about what a few polls bring)."""
STORED_PER_SOURCE = 2.0
"""Stored events per source event in this mix (measured: 2.01 at 54,000 stored events)."""
CONTACT_SHARE = 0.745
"""Share of contact and case events in the mix (the rest: registrations, orders)."""
HEADROOM = 1.1
"""The stream is generated this much longer than the target needs; the fill stops early."""
NOW = datetime(2030, 1, 1, tzinfo=UTC)
"""Validation's 'now': after every event time of the stream."""
LONG_CASE_MIN_EVENTS = 200


class FillError(Exception):
    """The stream was refused, ran out, or lacks the long case."""


@dataclass(frozen=True)
class Manifest:
    key: str
    target: int
    seed: int
    stored_events: int
    source_events: int
    contact_events_generated: int
    customers: int
    long_case_ref: str
    long_case_events: int
    generate_s: float
    fill_s: float
    filled_at: str
    commit: str

    @property
    def fill_rate(self) -> float:
        return self.source_events / self.fill_s if self.fill_s else 0.0


def cache_key(target: int, seed: int) -> str:
    fill_shape = f"{FORMAT}:{target}:{seed}:{PARTITIONS}:{CHUNK}:{_contact_events(target)}"
    digest = hashlib.sha256(fill_shape.encode())
    digest.update(metadata.version("eventsourcing").encode())
    for name in INPUTS:
        path = REPO / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(REPO)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def _contact_events(target: int) -> int:
    """The length of ``bench.events.stream`` that, with the other families, makes a stream
    a little longer than the target needs."""
    return int(target / STORED_PER_SOURCE * CONTACT_SHARE * HEADROOM) + 100


def settings_for(folder: Path) -> Settings:
    """An embedded runtime on the store in ``folder`` (explicit values: the environment's
    ``JOURNEY_*`` must not point the benchmark at another store)."""
    return Settings(
        data_dir=folder,
        store_backend="sqlite",
        log_backend="embedded",
        topic_prefix="bench.",
        topic_partitions=PARTITIONS,
    )


def load(target: int, seed: int) -> tuple[Path, Manifest] | None:
    key = cache_key(target, seed)
    folder = CACHE / f"{target}-{key}"
    try:
        raw = json.loads((folder / "manifest.json").read_text())
        return folder, Manifest(**raw)
    except (OSError, ValueError, TypeError):
        return None


def _partition(topics: Topics, record: SourceRecord) -> TopicPartition:
    return TopicPartition(
        topics.for_type(record.type), zlib.crc32(record.key.encode()) % PARTITIONS
    )


def load_any(target: int, seed: int) -> tuple[Path, Manifest] | None:
    """The newest cached store of ``target`` events and ``seed``, whatever its key."""
    found: list[tuple[str, Path, Manifest]] = []
    for folder in CACHE.glob(f"{target}-*"):
        try:
            manifest = Manifest(**json.loads((folder / "manifest.json").read_text()))
        except (OSError, ValueError, TypeError):
            continue
        if manifest.seed == seed and manifest.target == target:
            found.append((manifest.filled_at, folder, manifest))
    if not found:
        return None
    _, folder, manifest = max(found, key=lambda item: item[0])
    return folder, manifest


def fill(
    target: int,
    seed: int,
    commit: str,
    say: Callable[[str], None],
    reuse_stale: bool = False,
) -> tuple[Path, Manifest, bool]:
    """A store of at least ``target`` stored events: the cached one when its key matches
    (then the flag is True), else a new one. With ``reuse_stale``, a cached store of the
    same target and seed is used even when an input has changed since it was filled
    (the caller says so in its report): for changes known to leave the stored events as
    they were.

    Runs of the benchmark in other processes (``make bench`` of another session, say) fill
    one at a time: the cache's lock file is held from the look-up to the new manifest, so
    a second run waits and then finds the store the first one filled, instead of deleting
    the folder the first one is filling."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "fill.lock").open("a") as lock:
        if not _try_lock(lock):
            say(f"  waiting for another run filling {CACHE} …")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _fill(target, seed, commit, say, reuse_stale)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _fill(
    target: int, seed: int, commit: str, say: Callable[[str], None], reuse_stale: bool
) -> tuple[Path, Manifest, bool]:
    cached = load(target, seed)
    if cached is not None:
        return (*cached, True)
    if reuse_stale:
        reusable = load_any(target, seed)
        if reusable is not None:
            folder, manifest = reusable
            say(
                f"  reusing {folder.name} (filled at commit {manifest.commit}) although its"
                f" key is not the current one ({cache_key(target, seed)}): --reuse-store"
            )
            return folder, manifest, True
    key = cache_key(target, seed)
    for stale in CACHE.glob(f"{target}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = CACHE / f"{target}-{key}"
    building = CACHE / f"{target}-{key}.filling"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)

    began = time.perf_counter()
    contact_events = _contact_events(target)
    records = readside_stream(contact_events, seed)
    generate_s = time.perf_counter() - began
    say(
        f"  generated {len(records):,} source records ({contact_events:,} contact and case"
        f" events + registrations, orders, the long case) in {generate_s:.1f} s"
    )
    app = JourneyApplication(env=event_store_env(settings_for(building)))
    topics = Topics("bench.", PARTITIONS)
    offsets: dict[TopicPartition, int] = {}
    used, stored, customers = 0, 0, set()
    max_future = timedelta(minutes=5)
    began = time.perf_counter()
    next_report = began + 30
    try:
        for start in range(0, len(records), CHUNK):
            batches: dict[TopicPartition, list[tuple[SourceRef, SourceEvent]]] = {}
            for record in records[start : start + CHUNK]:
                tp = _partition(topics, record)
                offset = offsets.get(tp, 0)
                offsets[tp] = offset + 1
                event = decode(record.value, now=NOW, max_future=max_future, max_bytes=1 << 20)
                ref = SourceRef(record.event_id, tp.topic, tp.partition, offset)
                batches.setdefault(tp, []).append((ref, event))
                customers.add(record.key)
            for tp, batch in batches.items():
                pending = app.prepare_batch(tp, batch, offsets[tp])
                if pending.refusals:
                    source, error = pending.refusals[0]
                    raise FillError(
                        f"{len(pending.refusals)} refused, first {source.event_id}: {error}"
                    )
                pending.commit()
            used = min(start + CHUNK, len(records))
            stored = app.recorder.max_notification_id() or 0
            if time.perf_counter() > next_report:
                next_report += 30
                elapsed = time.perf_counter() - began
                say(f"  … {stored:,} stored events from {used:,} source events in {elapsed:.0f} s")
            if stored >= target:
                break
        else:
            raise FillError(f"the stream ran out at {stored:,} stored events of {target:,}")
        fill_s = time.perf_counter() - began
        long_events = len(list(app.recorder.select_events(Case.create_id(LONG_CASE_REF))))
    finally:
        app.close()
    if long_events < LONG_CASE_MIN_EVENTS:
        raise FillError(f"the long case {LONG_CASE_REF} has {long_events} events, not ≥ 200")
    manifest = Manifest(
        key=key,
        target=target,
        seed=seed,
        stored_events=stored,
        source_events=used,
        contact_events_generated=contact_events,
        customers=len(customers),
        long_case_ref=LONG_CASE_REF,
        long_case_events=long_events,
        generate_s=round(generate_s, 2),
        fill_s=round(fill_s, 2),
        filled_at=datetime.now(UTC).isoformat(timespec="seconds"),
        commit=commit,
    )
    (building / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2))
    building.rename(folder)
    return folder, manifest, False


def stored_event_width(folder: Path) -> int:
    """Average bytes of a stored event's state: the width of the raw-insert baseline's rows."""
    with sqlite3.connect(f"file:{folder / 'events.sqlite'}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT AVG(LENGTH(state)) FROM stored_events").fetchone()
    return int(row[0] or 0)


def stored_mix(folder: Path) -> tuple[Counter[str], Counter[str]]:
    """Stored events by aggregate (Case, Contact, Order, Customer…) and by kind (facts, and
    the SLA clock decisions derived from them)."""
    by_aggregate: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    with sqlite3.connect(f"file:{folder / 'events.sqlite'}?mode=ro", uri=True) as conn:
        for topic, count in conn.execute(
            "SELECT topic, COUNT(*) FROM stored_events GROUP BY topic"
        ):
            aggregate, _, event = str(topic).rpartition(":")[2].partition(".")
            by_aggregate[aggregate] += count
            by_kind["clock decisions" if event.startswith("Deadline") else "facts"] += count
    return by_aggregate, by_kind

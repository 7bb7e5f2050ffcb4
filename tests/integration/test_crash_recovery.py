"""Crash: ``kill -9`` the ingest process at random points of a long stream, restart it each
time; every good event is applied exactly once in effect and nothing is lost.

A stream of more than 20,000 good source events (contacts of many customers opening cases,
contacts joining them on other channels, replies by agents and bots, and owners, escalations,
options, choices and resolutions of cases), with bad records and re-sent duplicates among
them, is published to a real Kafka broker. ``journey ingest`` runs as a subprocess and is
killed with SIGKILL each time the event store's positions have passed a number of records
drawn from a seeded random generator (one seed per kill), at a moment of the next batch
drawn from the same seed, then started again, until the store holds the
end offset of every partition. ``journey project`` follows the store meanwhile.

Then, on a SQLite and on a PostgreSQL event store:

- the stored facts, as (fact type, source ``event_id``), equal the multiset computed from the
  published events and the domain rules (``StreamBuilder``), each fact carrying the
  coordinates of the record that caused it;
- the complaint ledger has one row per case, with the number of contacts each must count;
- every bad record is on the dead-letter topic with its reason (dead letters are at least
  once, so they are counted by distinct source coordinates), and nothing else is.

Restarts after a kill join a fresh consumer group: a member killed without leaving its group
keeps its partitions until its session times out (kafka-python's default, 45 s), so a restart
in the same group first waits that long. Resuming in a fresh group, which has no committed
offsets at all, also shows that the store's positions, not the log's, decide where to resume.
On the SQLite store the final restart rejoins the killed member's group instead
(``RESTART_IN_SAME_GROUP``), so the realistic path, where the group's committed offsets
may lag the store's, is covered too; doing it once keeps the file within its time budget.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.sourcelog.base import Coordinates
from journey.bootstrap import Runtime
from tests.factories import unique
from tests.integration.processes import (
    SCALED_STORES,
    JourneyProcesses,
    Stream,
    StreamBuilder,
    dead_letters,
    end_offsets,
    ingress_partitions,
    positions,
    publish_stream,
    runtime_for,
    scaled_env,
    source_coordinates,
    stored_facts,
)

GOOD_EVENTS = 20_000
BAD_RECORDS = 150
DUPLICATES = 100
PARTITIONS = 6
STREAM_SEED = 7
KILL_SEEDS = (11, 23, 37, 41, 59)
RESTART_IN_SAME_GROUP = {"sqlite": True, "postgres": False}
"""Per event store: whether the final restart rejoins the killed member's consumer group
(and waits out its 45 s session) rather than a fresh one; once per file keeps it in budget."""


@pytest.fixture(params=SCALED_STORES)
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[tuple[Runtime, JourneyProcesses]]:
    env = scaled_env(request, request.param, settings_env, PARTITIONS)
    processes = JourneyProcesses(env, tmp_path / "logs")
    with runtime_for(env) as runtime:
        try:
            yield runtime, processes
        finally:
            processes.close()
            print(processes.output(tail_chars=20_000))


def published_stream(runtime: Runtime, seed: int) -> Stream:
    plans, cases = StreamBuilder(seed).build(GOOD_EVENTS, BAD_RECORDS, DUPLICATES)
    stream = publish_stream(runtime, plans, cases)
    assert len(stream.good) >= GOOD_EVENTS
    return stream


def test_kill_9_at_random_points_applies_every_good_event_exactly_once(
    deployment: tuple[Runtime, JourneyProcesses],
) -> None:
    runtime, processes = deployment
    began = time.monotonic()
    stream = published_stream(runtime, STREAM_SEED)
    partitions = ingress_partitions(runtime)
    ends = end_offsets(runtime, partitions)
    total = sum(ends.values())
    assert total == len(stream.records)
    busy = [tp for tp, end in ends.items() if end > 0]

    def applied() -> int:
        return sum(positions(runtime.app, busy).values())

    def passed(target: int) -> Callable[[], bool]:
        return lambda: applied() >= target

    processes.start("project", "project")
    group = ""
    kills: list[str] = []
    for number, seed in enumerate(KILL_SEEDS):
        before = applied()
        # Leave work for the kills still to come, and for the final run.
        room = (total - before) // (len(KILL_SEEDS) - number + 2)
        rng = random.Random(seed)
        target = before + rng.randrange(1, room)
        group = unique("crash-group-")
        processes.start("ingest", "ingest", JOURNEY_CONSUMER_GROUP=group)
        processes.wait_until(
            passed(target),
            f"the store's positions add up to {target} (seed {seed})",
        )
        # A random moment of the batch cycle that follows (poll, decode, apply, dead
        # letters, store commit, log commit), drawn from the same seed.
        processes.hold(rng.uniform(0, 0.6))
        processes.kill("ingest")
        at = applied()
        kills.append(f"seed {seed}: target {target}, killed at {at} of {total}")
        assert at < total, f"the kill came after the end of the stream: {kills}"

    # The last run, until the store holds the end offset of every partition.
    same_group = RESTART_IN_SAME_GROUP[runtime.settings.store_backend]
    final_group = group if same_group else unique("crash-group-")
    processes.start("ingest", "ingest", JOURNEY_CONSUMER_GROUP=final_group)
    processes.wait_until(
        lambda: all(runtime.app.next_offset(tp) >= end for tp, end in ends.items()),
        "the store holds the end offset of every partition",
        timeout_s=180,
    )
    processes.stop("ingest")
    ingested = time.monotonic() - began

    # Exactly once in effect, each fact carrying its source record's coordinates.
    facts = stored_facts(runtime.app)
    assert sorted((f.type, f.event_id) for f in facts) == stream.expected_facts(), kills
    coordinates = {p.plan.event_id: p.at for p in stream.good}
    assert all(
        Coordinates(f.topic, f.partition, f.offset) == coordinates[f.event_id] for f in facts
    )

    # The read model: one row per case, each with its contacts.
    last = runtime.app.process_recorder.max_notification_id() or 0
    processes.wait_until(lambda: runtime.ledger.position() >= last, "the ledger caught up")
    processes.stop("project")
    rows = runtime.ledger.page(1_000_000)
    assert {r["case_ref"]: (r["customer_id"], r["contacts"]) for r in rows} == stream.cases
    opened = Counter(fact for fact, _ in stream.expected_facts())["Contact.Opened"]
    assert sum(r["contacts"] for r in rows) == opened

    # Every bad record dead-lettered (at least once), with its reason, and nothing else.
    letters = dead_letters(runtime)
    expected = {p.at: p for p in stream.bad}
    by_source = Counter(source_coordinates(letter) for letter in letters)
    assert set(by_source) == set(expected)
    for letter in letters:
        placed = expected[source_coordinates(letter)]
        assert letter.value == placed.plan.body
        reason = (letter.header("reason") or b"").decode()
        assert placed.plan.refused is not None
        assert placed.plan.refused in reason, reason
    print(
        f"{len(stream.records)} records ({len(stream.good)} good, {len(stream.bad)} bad),"
        f" {len(facts)} facts, {len(rows)} cases; {len(letters)} dead letters for"
        f" {len(by_source)} bad records; ingested with {len(kills)} kills in {ingested:.1f}s;"
        f" kills: {kills}"
    )

"""Crash: ``kill -9`` the ingest while source events are parked and while they are let in
(issue 13); every event is applied exactly once in effect, nothing stays parked.

A seeded stream of journeys of many customers (``tests/integration/parked_journeys.py``)
is published to a real Kafka broker in two phases. **Phase 1** is every event that depends
on something not yet published — callbacks after an order's delivery and their
completions, surveys after a case's resolution and their answers, returns of an order, their
approvals and refunds, contacts joining a case — so every one of them is parked. ``journey
ingest`` runs as a subprocess and is killed with SIGKILL once the store's positions (every
record of phase 1 parks, so: the records parked) passed a number drawn from a seeded
generator, at a moment of the next batch drawn from the same seed, then started again; the
phase is cut into a slot per kill and one for the last run, which parks the rest, and is
killed once more with everything parked. Checked then: nothing was applied, each event was
parked exactly once, the parked index (``journey_parked_events``) counts them all, nothing
was dead-lettered.

**Phase 2** publishes the orders and the cases (and some joining contacts just ahead of
their case's opening, parked and let in by one batch). Each delivery, opening and
resolution lets events in, in the batch that brings it; the ingest is killed at seeded
points of the phase again, at some of the kills the read models' process (which keeps the
parked index) and the clock timer (which tries lots and expires what waits) with it, and
restarted. A last record
moves the event-time watermark past every window, so the timer dead-letters the callbacks
whose order never came.

Then, on a SQLite and on a PostgreSQL event store:

- the stored facts, as (fact type, source ``event_id``), equal the multiset computed from
  the published events and the domain rules, each fact carrying the coordinates of its own
  source record (a released event keeps those it was parked with);
- no parking lot holds a waiting event, each parked event left its lot exactly once, and the
  parked index counts none;
- the dead letters are exactly the callbacks scheduled before their order's delivery
  (R-SAT-04, sent from their lots) and those whose order never came (expired), with their
  original bytes: no event whose prerequisite arrived within its window is among them;
- the complaint ledger caught up: one row per case, with the contacts each must count;
- no worker of the processes the kills left failed (their supervisors logged no failure).

Restarts after a kill mid-batch join a fresh consumer group (``test_crash_recovery.py`` says
why), so the store's positions, not the log's, decide where the ingest resumes; the restart
after the kill with everything parked rejoins the killed member's group instead.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.sourcelog.base import Coordinates, TopicPartition
from domain.parking import ParkingLot
from journey.bootstrap import Runtime
from tests.factories import unique
from tests.integration.parked_journeys import (
    EXPIRED,
    ParkedJourneys,
    ParkedStream,
    Planned,
    lot_history,
    publish,
)
from tests.integration.processes import (
    SCALED_STORES,
    JourneyProcesses,
    dead_letters,
    end_offsets,
    ingress_partitions,
    positions,
    runtime_for,
    scaled_env,
    source_coordinates,
    stored_facts,
)

Kills = tuple[tuple[int, tuple[str, ...]], ...]

RECORDS = 3500
PARTITIONS = 4
POLL_MAX_RECORDS = 100
"""Smaller batches than the default 500, so that a kill lands at a finer point of a phase."""
STREAM_SEED = 13
PARKING_KILLS: Kills = ((3, ()), (17, ()), (19, ()))
RELEASE_KILLS: Kills = ((29, ()), (31, ("project",)), (43, ("timer",)), (47, ("project", "timer")))
"""Per kill: its seed, and the processes killed with the ingest and restarted at once (the
read models', which keeps the parked index; the clock timer, which also lets events in)."""


@pytest.fixture(params=SCALED_STORES)
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[tuple[Runtime, JourneyProcesses]]:
    env = scaled_env(request, request.param, settings_env, PARTITIONS)
    env["JOURNEY_POLL_MAX_RECORDS"] = str(POLL_MAX_RECORDS)
    processes = JourneyProcesses(env, tmp_path / "logs")
    with runtime_for(env) as runtime:
        try:
            yield runtime, processes
        finally:
            processes.close()
            print(processes.output(tail_chars=20_000))


class Chaos:
    """The ingest (and now and then the other processes) killed at seeded points."""

    def __init__(self, runtime: Runtime, processes: JourneyProcesses) -> None:
        self.runtime = runtime
        self.processes = processes
        self.partitions = ingress_partitions(runtime)
        self.busy: list[TopicPartition] = []
        self.kills: list[str] = []
        self.group = ""

    def publish(self, stream: ParkedStream, plans: list[Planned]) -> None:
        publish(self.runtime, stream, plans)
        ends = end_offsets(self.runtime, self.partitions)
        self.busy = [tp for tp, end in ends.items() if end > 0]

    def applied(self) -> int:
        """Records the store holds the positions of (over the partitions written to: it is
        asked twenty times a second)."""
        return sum(positions(self.runtime.app, self.busy).values())

    def passed(self, target: int) -> Callable[[], bool]:
        return lambda: self.applied() >= target

    def ingest(self, group: str | None = None) -> None:
        """Start the ingest, in a fresh consumer group unless ``group`` is given."""
        self.group = group or unique("park-group-")
        self.processes.start("ingest", "ingest", JOURNEY_CONSUMER_GROUP=self.group)

    def caught_up(self) -> Callable[[], bool]:
        """Whether the store holds the log's end offsets, as they are now, of every
        partition."""
        ends = end_offsets(self.runtime, self.partitions)
        return lambda: all(self.runtime.app.next_offset(tp) >= end for tp, end in ends.items())

    def kill_at_random_points(
        self, kills: Kills, end: int, phase: str, group: str | None = None
    ) -> None:
        """Kill the ingest once per kill, from ``begin`` (the store's positions now) to
        ``end``: the phase is cut into one slot per kill and one for the final run; for
        each kill, start the ingest (the first time in ``group``, when given), wait until
        the store passed a target drawn from the kill's seed in the first half of its slot,
        let a moment drawn from the same seed pass, kill it, and kill and restart the
        others."""
        begin = self.applied()
        for number, (seed, others) in enumerate(kills):
            rng = random.Random(seed)
            slot = (number + rng.random() / 2) / (len(kills) + 1)
            target = begin + int((end - begin) * slot)
            self.ingest(group if number == 0 else None)
            self.processes.wait_until(
                self.passed(target),
                f"the store's positions add up to {target} (seed {seed})",
            )
            # A moment within a few polls (each of POLL_MAX_RECORDS): an ingest at 3,000+
            # records/s passed the whole rest of a phase within 0.2 s.
            self.processes.hold(rng.uniform(0, 0.05))
            self.processes.kill("ingest")
            for name in others:
                self.processes.kill(name)
                self.processes.start(name, name)
            at = self.applied()
            parked = self.runtime.parked.count()
            self.kills.append(
                f"{phase} seed {seed}: target {target}, killed at {at} of {end}"
                f" ({parked} parked as indexed){''.join(f', and {n}' for n in others)}"
            )
            assert at < end, f"the kill came after the end of {phase}: {self.kills}"

    def run_until_caught_up(self) -> None:
        self.ingest()
        self.processes.wait_until(
            self.caught_up(), "the store holds the end offset of every partition", 120
        )

    def indexed(self, condition: Callable[[int], bool], what: str) -> None:
        """Wait until the parked index, caught up with the store, counts as ``condition``
        wants."""
        runtime = self.runtime

        def holds() -> bool:
            last = runtime.app.process_recorder.max_notification_id() or 0
            return runtime.parked.position() >= last and condition(runtime.parked.count())

        self.processes.wait_until(holds, what)


def test_kill_9_while_events_are_parked_and_while_they_are_let_in(
    deployment: tuple[Runtime, JourneyProcesses],
) -> None:
    runtime, processes = deployment
    began = time.monotonic()
    took: dict[str, float] = {}

    def lap(stage: str) -> None:
        took[stage] = round(time.monotonic() - began - sum(took.values()), 1)

    journeys = ParkedJourneys(STREAM_SEED)
    stream = journeys.build(RECORDS)
    first, second = stream.phase(1), stream.phase(2)
    chaos = Chaos(runtime, processes)
    processes.start("project", "project")

    # Phase 1: every record waits for what phase 2 brings.
    chaos.publish(stream, first)
    chaos.kill_at_random_points(PARKING_KILLS, len(first), "parking")
    chaos.run_until_caught_up()
    chaos.indexed(lambda n: n == len(first), f"the parked index counts {len(first)}")
    processes.kill("ingest")  # idle, everything parked
    parked_group = chaos.group
    lap("parked")

    assert stored_facts(runtime.app) == [], chaos.kills
    history = lot_history(runtime.app)
    assert history.parked == Counter(p.event_id for p in first), chaos.kills
    assert history.released == history.expired == Counter()
    assert dead_letters(runtime) == []
    lap("checked parked")

    # Phase 2: the orders and cases let them in.
    processes.start("timer", "timer")
    chaos.publish(stream, second)
    total = len(first) + len(second)
    # The first run rejoins the group of the member killed with everything parked, and
    # waits out its session (10 s): the realistic path, where the group's committed
    # offsets, not only the store's positions, are there to mislead it.
    chaos.kill_at_random_points(RELEASE_KILLS, total, "letting in", group=parked_group)
    chaos.run_until_caught_up()
    lap("let in")
    expiring = [p for p in stream.refused if p.plan.refused == EXPIRED]
    chaos.indexed(lambda n: n == len(expiring), f"only the {len(expiring)} orphans wait")
    # The watermark moves past every window: the orphans expire.
    chaos.publish(stream, [journeys.advance()])
    processes.wait_until(chaos.caught_up(), "the store holds the last record")
    chaos.indexed(lambda n: n == 0, "nothing is parked")
    lap("expired")
    last = runtime.app.process_recorder.max_notification_id() or 0
    processes.wait_until(lambda: runtime.ledger.position() >= last, "the ledger caught up")
    for name in ("ingest", "timer", "project"):
        processes.stop(name)
    lap("stopped")

    check_the_end(runtime, stream, chaos.kills)
    # A kill is the only fault here: no worker of the processes it left failed.
    assert worker_failures(processes) == [], chaos.kills
    lap("checked the end")
    print(
        f"{len(stream.placed)} records ({len(first)} parked first, {len(second)} after);"
        f" seconds: {took}; kills: {chaos.kills}"
    )


def worker_failures(processes: JourneyProcesses) -> list[str]:
    """The lines where a process's supervisor caught its worker failing."""
    return [
        f"{path.name}: {line[:500]}"
        for path in sorted(processes.logs.glob("*.log"))
        for line in path.read_text(errors="replace").splitlines()
        if "failed; retrying" in line
    ]


def check_the_end(runtime: Runtime, stream: ParkedStream, kills: list[str]) -> None:
    # Exactly once in effect, each fact carrying its own source record's coordinates.
    facts = stored_facts(runtime.app)
    assert sorted((f.type, f.event_id) for f in facts) == stream.expected_facts(), kills
    coordinates = {p.plan.event_id: p.at for p in stream.placed}
    assert all(
        Coordinates(f.topic, f.partition, f.offset) == coordinates[f.event_id] for f in facts
    )

    # Nothing waits, in the store (every lot) and in the index; each parked event left its
    # lot once: let in (applied or refused), or expired.
    history = lot_history(runtime.app)
    for lot_id in history.lots:
        lot: ParkingLot = runtime.app.repository.get(lot_id)
        assert lot.waiting == {}, f"still parked: {list(lot.waiting)}; {kills}"
    parked = {p.event_id for p in stream.waiting()}
    assert set(history.parked) == parked
    assert history.released + history.expired == Counter(parked), kills
    expired = {p.plan.event_id for p in stream.refused if p.plan.refused == EXPIRED}
    assert set(history.expired) == expired
    assert runtime.parked.count() == 0

    # Dead letters: exactly the refused (at least once each), from their own coordinates.
    letters = dead_letters(runtime)
    expected = {p.at: p for p in stream.refused}
    assert set(map(source_coordinates, letters)) == set(expected), kills
    for letter in letters:
        placed = expected[source_coordinates(letter)]
        assert (letter.key, letter.value) == (placed.plan.customer.encode(), placed.plan.body)
        assert placed.plan.refused is not None
        assert placed.plan.refused in (letter.header("reason") or b"").decode()

    # The read model caught up: one row per case, each with its contacts.
    rows = runtime.ledger.page(1_000_000)
    assert {r["case_ref"]: (r["customer_id"], r["contacts"]) for r in rows} == stream.cases

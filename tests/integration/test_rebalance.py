"""Rebalance: three ``journey ingest`` processes in one consumer group over six partitions;
one is stopped (SIGTERM) mid-stream and started again. At the end nothing is lost (every
good event applied), nothing has a double effect (each fact once), and each customer's
events were applied in order (a customer's facts, in notification order, come from
increasing source offsets of the customer's partition).

On Kafka with a SQLite event store (one file shared by the three processes, a legitimate
deployment on one machine) and with PostgreSQL.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from journey.bootstrap import Runtime
from tests.integration.processes import (
    SCALED_STORES,
    GroupView,
    JourneyProcesses,
    StoredFact,
    StreamBuilder,
    end_offsets,
    ingress_partitions,
    positions,
    publish_stream,
    runtime_for,
    scaled_env,
    stored_facts,
)

GOOD_EVENTS = 24_000
DUPLICATES = 100
PARTITIONS = 6
MEMBERS = ("ingest-a", "ingest-b", "ingest-c")
STOPPED = "ingest-b"


@pytest.fixture(params=SCALED_STORES)
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[tuple[Runtime, JourneyProcesses, GroupView]]:
    env = scaled_env(request, request.param, settings_env, PARTITIONS)
    processes = JourneyProcesses(env, tmp_path / "logs")
    with runtime_for(env) as runtime:
        group = GroupView(env["JOURNEY_KAFKA_BOOTSTRAP"], env["JOURNEY_CONSUMER_GROUP"])
        try:
            yield runtime, processes, group
        finally:
            group.close()
            processes.close()
            print(processes.output(tail_chars=20_000))


def out_of_order(facts: list[StoredFact], customer_of: dict[str, str]) -> dict[str, list[int]]:
    """Customers whose facts, in notification order, do not follow their records' order."""
    offsets: dict[str, list[int]] = defaultdict(list)
    for fact in facts:
        offsets[customer_of[fact.event_id]].append(fact.offset)
    return {c: seen for c, seen in offsets.items() if seen != sorted(seen)}


def test_a_member_leaving_and_rejoining_mid_stream_loses_nothing_and_doubles_nothing(
    deployment: tuple[Runtime, JourneyProcesses, GroupView],
) -> None:
    runtime, processes, group = deployment
    began = time.monotonic()
    plans, cases = StreamBuilder(seed=3).build(GOOD_EVENTS, duplicates=DUPLICATES)
    # Three parts, published around the membership changes, so that each change happens
    # with records still to apply however fast the machine is: the first before the
    # members start, the second just before one leaves, the last once it is back.
    third = len(plans) // 3
    parts = [plans[:third], plans[third : 2 * third], plans[2 * third :]]
    topic = runtime.topics.for_type("contact.opened")
    partitions = ingress_partitions(runtime)
    ingress = [tp for tp in partitions if tp.topic == topic]

    def applied() -> int:
        return sum(positions(runtime.app, ingress).values())

    def balanced(members: int, then_applied: int) -> Callable[[], bool]:
        """The group is stable with ``members`` members sharing the partitions, and the
        store has then passed ``then_applied``."""

        def check() -> bool:
            shares = group.assignment(topic)
            return (
                shares is not None
                and len(shares) == members
                and sorted(p for share in shares for p in share) == list(range(PARTITIONS))
                and all(shares)
                and applied() >= then_applied
            )

        return check

    phases: list[str] = []

    def phase(what: str, condition: Callable[[], bool]) -> None:
        waited = processes.wait_until(condition, what)
        phases.append(f"{what}: {applied()} after {waited:.1f}s")

    stream = publish_stream(runtime, parts[0], cases)
    for name in MEMBERS:
        processes.start(name, "ingest")
    phase("three members share the partitions", balanced(3, 0))
    # A quarter of the first part, counted from zero: the target never exceeds what was
    # published, however much the members applied before this line runs.
    phase("the three members made progress", balanced(3, len(parts[0]) // 4))
    publish_stream(runtime, parts[1], cases, onto=stream)
    at_stop = applied()
    processes.stop(STOPPED)
    phases.append(f"{STOPPED} stopped: {applied()}")
    phase("two members share the partitions", balanced(2, 0))
    published = len(parts[0]) + len(parts[1])
    phase("the two members made progress", balanced(2, min(at_stop + 1, published)))
    processes.start(STOPPED, "ingest")
    phase("the restarted member has partitions again", balanced(3, 0))
    at_rejoin = positions(runtime.app, ingress)
    publish_stream(runtime, parts[2], cases, onto=stream)
    ends = end_offsets(runtime, partitions)
    total = sum(ends[tp] for tp in ingress)
    assert len(stream.records) == total, f"{len(stream.records)} published, log holds {total}"
    processes.wait_until(
        lambda: all(runtime.app.next_offset(tp) >= end for tp, end in ends.items()),
        "the store holds the end offset of every partition",
        timeout_s=180,
    )
    # Every partition had work after the rejoin, so the three members, the restarted one
    # among them, applied records from where the store said the group had got to.
    assert all(runtime.app.next_offset(tp) > at_rejoin[tp] for tp in ingress), phases
    for name in MEMBERS:
        processes.stop(name)
    ingested = time.monotonic() - began

    facts = stored_facts(runtime.app)
    # No loss and no double effect: each expected fact exactly once.
    assert sorted((f.type, f.event_id) for f in facts) == stream.expected_facts()
    # Each customer's events applied in the order of the customer's records.
    customer_of = {p.plan.event_id or "": p.plan.customer for p in stream.records}
    assert out_of_order(facts, customer_of) == {}
    print(f"{total} records, {len(facts)} facts; ingested in {ingested:.1f}s; {phases}")

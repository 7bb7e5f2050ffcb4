"""``journey`` processes in integration tests, the streams they consume, and what the tests
observe of them.

- :class:`JourneyProcesses` runs ``journey <command>`` subprocesses that share one settings
  environment (``JOURNEY_*``), each incarnation logging to its own file, shown when a wait
  fails (and printed by the tests' fixtures at teardown, which pytest shows for a failed
  test). It stops a process gracefully (SIGTERM) or kills it (SIGKILL), and waits for a
  condition on the stores with a deadline while checking that every process it runs is
  still alive. :func:`scaled_env` and :func:`runtime_for` give the settings of the scaled
  deployment (real Kafka, SQLite or PostgreSQL) and the test's own view of it.
- :class:`StreamBuilder` writes a seeded stream of valid journeys for many customers, with
  bad records and duplicates among them, and computes from the domain rules alone (not
  from the code under test) the facts each record must produce.
- :func:`positions`, :func:`stored_facts`, :func:`dead_letters` and :class:`GroupView` read
  what the event store, the dead-letter topic and the broker's consumer group hold.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from unittest.mock import patch

import orjson
import pytest
from kafka import KafkaAdminClient

from adapters.sourcelog.base import Coordinates, OutgoingRecord, Record, TopicPartition
from application.service import JourneyApplication
from domain.aggregate import is_fact
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.factories import unique
from tests.services import PostgresServer

# How often a waiting test looks at the stores again. The pause is spent waiting on the
# processes themselves, so a process that dies is noticed at once.
POLL_INTERVAL_S = 0.05


class ProcessFailed(AssertionError):
    pass


@dataclass
class _Incarnation:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


class JourneyProcesses:
    """``journey`` subprocesses sharing one settings environment."""

    def __init__(self, env: Mapping[str, str], logs: Path) -> None:
        self.env = {**os.environ, **env}
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self._running: dict[str, _Incarnation] = {}
        self._started = 0

    def start(self, name: str, *command: str, **extra_env: str) -> subprocess.Popen[bytes]:
        """Start ``journey <command>`` (default: ``ingest``) under ``name``."""
        assert name not in self._running, f"{name} is already running"
        self._started += 1
        log = self.logs / f"{self._started:03d}-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "journey.cli", *(command or ("ingest",))],
                env={**self.env, **extra_env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._running[name] = _Incarnation(name, process, log)
        return process

    def kill(self, name: str) -> None:
        """SIGKILL: no batch is finished, nothing is committed, the group is not left."""
        incarnation = self._running.pop(name)
        incarnation.process.send_signal(signal.SIGKILL)
        incarnation.process.wait(30)

    def stop(self, name: str, timeout_s: float = 60) -> None:
        """SIGTERM, then wait for a clean exit (the batch finished, the group left)."""
        incarnation = self._running.pop(name)
        incarnation.process.send_signal(signal.SIGTERM)
        try:
            code = incarnation.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            incarnation.process.kill()
            incarnation.process.wait(30)
            raise ProcessFailed(
                f"{name} did not exit within {timeout_s}s of SIGTERM\n{self.output()}"
            ) from None
        if code != 0:
            raise ProcessFailed(f"{name} exited with {code} after SIGTERM\n{self.output()}")

    def running(self) -> list[str]:
        return sorted(self._running)

    def check_alive(self, names: Iterable[str] | None = None) -> None:
        for name in self._running if names is None else names:
            code = self._running[name].process.poll()
            if code is not None:
                raise ProcessFailed(f"{name} exited early with {code}\n{self.output()}")

    def wait_until(
        self,
        condition: Callable[[], bool],
        what: str,
        timeout_s: float = 120,
    ) -> float:
        """Wait until ``condition`` holds, while every running process stays alive; returns
        the seconds waited."""
        began = time.monotonic()
        deadline = began + timeout_s
        while not condition():
            self.check_alive()
            if time.monotonic() > deadline:
                raise ProcessFailed(
                    f"timed out after {timeout_s}s waiting until {what}\n{self.output()}"
                )
            self._pause()
        return time.monotonic() - began

    def hold(self, seconds: float) -> None:
        """Let the processes run for ``seconds`` (to pick a moment, never to synchronise),
        failing at once if one of them exits."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.check_alive()
            self._pause(min(left, POLL_INTERVAL_S))
        self.check_alive()

    def _pause(self, seconds: float = POLL_INTERVAL_S) -> None:
        """Spend the poll interval waiting on a running process (returns early if it ends)."""
        if not self._running:
            time.sleep(seconds)
            return
        first = next(iter(self._running.values()))
        with suppress(subprocess.TimeoutExpired):
            first.process.wait(seconds)

    def output(self, tail_chars: int = 6000) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-tail_chars:]}"
            for path in sorted(self.logs.glob("*.log"))
        )

    def close(self) -> None:
        """Kill whatever is still running (teardown after a failure)."""
        for name in list(self._running):
            self.kill(name)


# -- the scaled deployment: Kafka and a SQLite or PostgreSQL event store -----------------------

SCALED_STORES = [
    pytest.param("sqlite", id="kafka-sqlite", marks=pytest.mark.kafka),
    pytest.param("postgres", id="kafka-postgres", marks=[pytest.mark.kafka, pytest.mark.postgres]),
]


def scaled_env(
    request: pytest.FixtureRequest, store: str, base: Mapping[str, str], partitions: int
) -> dict[str, str]:
    """``base`` (unique topics, group and data folder) on the real Kafka broker, with the
    event store and read models in SQLite files or in a fresh PostgreSQL schema."""
    env = dict(
        base,
        JOURNEY_LOG_BACKEND="kafka",
        JOURNEY_KAFKA_BOOTSTRAP=request.getfixturevalue("kafka_bootstrap"),
        JOURNEY_TOPIC_PARTITIONS=str(partitions),
    )
    if store == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        env |= server.settings_env(request.getfixturevalue("postgres_schema"))
    return env


@contextmanager
def runtime_for(env: Mapping[str, str]) -> Iterator[Runtime]:
    """The test's own view of the deployment (publisher, stores), topics created."""
    with patch.dict(os.environ, env):
        made = build(Settings())
    try:
        made.create_topics()
        yield made
    finally:
        made.close()


class GroupView:
    """What the Kafka broker says about a consumer group: which member has which partitions."""

    def __init__(self, bootstrap: str, group: str) -> None:
        self.group = group
        self._admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=unique("view-"))

    def assignment(self, topic: str) -> list[list[int]] | None:
        """Per member, its partitions of ``topic``, when the group is stable; else None."""
        description = self._admin.describe_groups([self.group])[self.group]
        if description["group_state"] != "Stable":
            return None
        members = []
        for member in description["members"]:
            assigned = member["member_assignment"]["assigned_partitions"]
            members.append(
                sorted(p for a in assigned if a["topic"] == topic for p in a["partitions"])
            )
        return sorted(members)

    def close(self) -> None:
        self._admin.close()


# -- what the stores hold ----------------------------------------------------------------------


def ingress_partitions(runtime: Runtime) -> list[TopicPartition]:
    return [
        TopicPartition(topic, p)
        for topic in runtime.topics.ingress
        for p in range(runtime.settings.topic_partitions)
    ]


def end_offsets(
    runtime: Runtime, partitions: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    admin = runtime.log.admin()
    try:
        return admin.end_offsets(partitions)
    finally:
        admin.close()


def positions(
    app: JourneyApplication, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """The next offset the event store says is still to be applied, per partition."""
    return {tp: app.next_offset(tp) for tp in partitions}


class StoredFact(NamedTuple):
    """A stored fact with the source record it came from."""

    notification_id: int
    type: str
    event_id: str
    topic: str
    partition: int
    offset: int
    originator_id: str


def stored_facts(app: JourneyApplication, page: int = 5000) -> list[StoredFact]:
    """Every stored fact in notification order (clock decisions left out)."""
    facts: list[StoredFact] = []
    start: int | None = None
    while True:
        notifications = app.process_recorder.select_notifications(
            start=start, limit=page, inclusive_of_start=start is None
        )
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            if is_fact(event):
                source = event.source  # type: ignore[attr-defined]
                facts.append(
                    StoredFact(
                        notification.id,
                        type(event).__qualname__,
                        source.event_id,
                        source.topic,
                        source.partition,
                        source.offset,
                        str(event.originator_id),
                    )
                )
        if len(notifications) < page:
            return facts
        start = notifications[-1].id


def dead_letters(runtime: Runtime) -> list[Record]:
    """Every record on the dead-letter topic, read to its end offsets."""
    topic = runtime.topics.dead_letters
    partitions = [TopicPartition(topic, p) for p in range(runtime.settings.topic_partitions)]
    ends = {tp: end for tp, end in end_offsets(runtime, partitions).items() if end > 0}
    consumer = runtime.log.consumer(unique("dlq-reader-"))
    consumer.subscribe([topic], lambda _: None, lambda _: None)
    got: list[Record] = []
    seen = dict.fromkeys(ends, 0)
    deadline = time.monotonic() + 60
    try:
        while any(seen[tp] < end for tp, end in ends.items()):
            assert time.monotonic() < deadline, f"timed out reading {topic}: {seen} of {ends}"
            for tp, records in consumer.poll(0.5, 5000).items():
                got.extend(records)
                seen[tp] = max(seen.get(tp, 0), records[-1].offset + 1)
    finally:
        consumer.close()
    return got


def source_coordinates(letter: Record) -> Coordinates:
    def header(name: str) -> str:
        value = letter.header(name)
        assert value is not None, f"dead letter without {name}: {letter}"
        return value.decode()

    return Coordinates(
        header("source_topic"), int(header("source_partition")), int(header("source_offset"))
    )


# -- a stream of journeys, and what it must produce -------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One record to publish: its bytes, and what the domain must make of it."""

    customer: str
    body: bytes
    event_id: str | None
    facts: tuple[str, ...] = ()
    """Fact types it must store, each once, each carrying its ``event_id``."""
    refused: str | None = None
    """For a bad record: a fragment its dead-letter reason must contain."""
    duplicate: bool = False


@dataclass
class Placed:
    """A planned record and where the log put it."""

    plan: Planned
    at: Coordinates


@dataclass
class Stream:
    records: list[Placed] = field(default_factory=list)
    cases: dict[str, tuple[str, int]] = field(default_factory=dict)
    """case_ref → (customer, contacts it must count)."""

    @property
    def good(self) -> list[Placed]:
        return [p for p in self.records if p.plan.refused is None and not p.plan.duplicate]

    @property
    def bad(self) -> list[Placed]:
        return [p for p in self.records if p.plan.refused is not None]

    def expected_facts(self) -> list[tuple[str, str]]:
        return sorted((fact, p.plan.event_id or "") for p in self.good for fact in p.plan.facts)


class StreamBuilder:
    """Valid journeys of many customers, interleaved across customers in a seeded random
    order while each customer's own records keep their order (the key is the customer).

    Each customer opens cases by ``contact.opened``; later contacts join them on other
    channels; agents and bots reply; some cases get an owner, an escalation, options, a
    choice and a resolution. Event times grow per customer, ten to twenty days before now.
    The facts each record must produce follow from docs/events.md and the domain rules:
    a contact that opens its own case → Contact.Opened + Case.Opened; one that names a case →
    Contact.Opened + Case.ContactJoined; a reply → Contact.Replied, plus Case.Responded for
    the first reply by a person on the case; each ``case.*`` command here → its one fact.
    """

    def __init__(self, seed: int, prefix: str | None = None) -> None:
        self.rng = random.Random(seed)
        self.prefix = prefix or unique("s")
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
        self.cases: dict[str, tuple[str, int]] = {}

    def _envelope(
        self, customer: str, event_type: str, at: datetime, data: dict[str, Any], channel: str
    ) -> tuple[str, bytes]:
        event_id = f"{self.prefix}-ev-{unique('')}"
        body = {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": at.isoformat(),
            "channel": channel,
            "customer_id": customer,
            "source": "stream-builder",
            "schema_version": 1,
            "data": data,
        }
        if event_type == "contact.opened":
            body["schema_version"] = 2
        return event_id, orjson.dumps(body)

    def journey(self, customer: str, size: int) -> list[Planned]:
        """About ``size`` good records of one customer, in order."""
        rng = self.rng
        at = self.base + timedelta(minutes=rng.randrange(0, 60 * 24 * 10))
        planned: list[Planned] = []

        def add(event_type: str, data: dict[str, Any], facts: tuple[str, ...], ch: str) -> None:
            nonlocal at
            at += timedelta(minutes=rng.randrange(1, 30))
            event_id, body = self._envelope(customer, event_type, at, data, ch)
            planned.append(Planned(customer, body, event_id, facts))

        n_case = 0
        while len(planned) < size:
            n_case += 1
            case = f"{customer}-case-{n_case}"
            contacts = [case]
            responded = False
            add(
                "contact.opened",
                {
                    "contact_id": case,
                    "classification": rng.choice(["complaint", "inquiry", "service"]),
                    "topic": rng.choice(["order", "product", "logistics"]),
                    "store_id": f"store-{rng.randrange(20)}",
                    "agent_group": rng.choice(["after-sales-a", "after-sales-b"]),
                },
                ("Contact.Opened", "Case.Opened"),
                rng.choice(["app", "web", "mini_program"]),
            )
            for _ in range(rng.randrange(0, 4)):
                contact = f"{case}-contact-{len(contacts)}"
                contacts.append(contact)
                add(
                    "contact.opened",
                    {
                        "contact_id": contact,
                        "case_id": case,
                        "classification": "complaint",
                        "topic": "order",
                    },
                    ("Contact.Opened", "Case.ContactJoined"),
                    rng.choice(["phone", "store", "email", "app"]),
                )
            for _ in range(rng.randrange(1, 4)):
                responder = rng.choice(["agent", "bot"])
                facts: tuple[str, ...] = ("Contact.Replied",)
                if responder == "agent" and not responded:
                    facts += ("Case.Responded",)
                    responded = True
                data: dict[str, Any] = {"contact_id": rng.choice(contacts), "responder": responder}
                if responder == "agent":
                    data["agent_id"] = f"ag-{rng.randrange(50)}"
                add("contact.replied", data, facts, "app")
            if rng.random() < 0.5:
                add(
                    "case.owner_assigned",
                    {
                        "case_id": case,
                        "owner": f"ag-{rng.randrange(50)}",
                        "due_at": (at + timedelta(days=2)).isoformat(),
                        "acceptance_criteria": "the customer confirms the fix",
                    },
                    ("Case.OwnerAssigned",),
                    "web",
                )
                if rng.random() < 0.3:
                    add(
                        "case.escalated",
                        {"case_id": case, "level": 2, "supervisor_id": "sup-3"},
                        ("Case.Escalated",),
                        "web",
                    )
                options = rng.sample(
                    ["replace", "refund", "repair", "voucher"], rng.randrange(1, 4)
                )
                add(
                    "case.options_offered",
                    {"case_id": case, "options": options},
                    ("Case.OptionsOffered",),
                    "web",
                )
                option = rng.choice(options)
                add(
                    "case.option_chosen",
                    {"case_id": case, "option": option},
                    ("Case.OptionChosen",),
                    "app",
                )
                add(
                    "case.resolved",
                    {"case_id": case, "option": option, "summary": "done"},
                    ("Case.Resolved",),
                    "web",
                )
            self.cases[case] = (customer, len(contacts))
        return planned

    def bad_record(self, customer: str, case: str) -> Planned:
        """A record the ingest must refuse, of a random kind, and the reason it must give."""
        at = (self.base + timedelta(days=15)).isoformat()
        kind = self.rng.choice(["not json", "wrong field", "unknown type", "rule"])
        if kind == "not json":
            return Planned(customer, b"{not json " + customer.encode(), None, refused="body")
        event_id = f"{self.prefix}-bad-{unique('')}"
        body: dict[str, Any] = {
            "event_id": event_id,
            "type": "contact.opened",
            "occurred_at": at,
            "channel": "app",
            "customer_id": customer,
            "source": "stream-builder",
            "schema_version": 2,
            "data": {"contact_id": f"{event_id}-c", "classification": "angry", "topic": "order"},
        }
        if kind == "wrong field":
            return Planned(customer, orjson.dumps(body), event_id, refused="data.classification")
        if kind == "unknown type":
            body["type"] = "contact.teleported"
            return Planned(customer, orjson.dumps(body), event_id, refused="type")
        # A choice never offered, on the customer's first case, while it is still open.
        body |= {"type": "case.option_chosen", "schema_version": 1}
        body["data"] = {"case_id": case, "option": "teleportation"}
        return Planned(customer, orjson.dumps(body), event_id, refused="R-CMP-01")

    def build(
        self, good_events: int, bad: int = 0, duplicates: int = 0
    ) -> tuple[list[Planned], dict[str, tuple[str, int]]]:
        """At least ``good_events`` good records of as many customers as that takes, with
        ``bad`` refused records and ``duplicates`` re-sent ones among them; returns the
        plans in publishing order and the cases they must leave in the ledger."""
        journeys: dict[str, list[Planned]] = {}
        count = 0
        while count < good_events:
            customer = f"{self.prefix}-cust-{len(journeys)}"
            journeys[customer] = self.journey(customer, self.rng.randrange(2, 10))
            count += len(journeys[customer])
        names = list(journeys)
        for customer in self.rng.sample(names, bad):
            # Right after the first contact: its case exists and is still open.
            journeys[customer].insert(1, self.bad_record(customer, f"{customer}-case-1"))
        for customer in self.rng.sample(names, duplicates):
            plans = journeys[customer]
            original = self.rng.choice([p for p in plans if p.refused is None])
            plans.append(Planned(customer, original.body, original.event_id, duplicate=True))
        order = [c for c in names for _ in journeys[c]]
        self.rng.shuffle(order)
        cursors = dict.fromkeys(names, 0)
        plans = []
        for customer in order:
            plans.append(journeys[customer][cursors[customer]])
            cursors[customer] += 1
        return plans, dict(self.cases)


def publish_stream(
    runtime: Runtime,
    plans: Sequence[Planned],
    cases: dict[str, tuple[str, int]],
    chunk: int = 5000,
    onto: Stream | None = None,
) -> Stream:
    """Publish the plans to the contacts topic keyed by customer, in order; ``onto`` a
    stream already partly published, when given."""
    topic = runtime.topics.for_type("contact.opened")
    stream = onto if onto is not None else Stream(cases=cases)
    for begin in range(0, len(plans), chunk):
        part = plans[begin : begin + chunk]
        placed = runtime.publisher.publish_many(
            [OutgoingRecord(topic, p.customer.encode(), p.body) for p in part]
        )
        stream.records += [Placed(p, at) for p, at in zip(part, placed, strict=True)]
    return stream

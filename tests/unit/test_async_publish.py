"""Publishing without a thread that waits (issue 18): ``LogPublisher.publish_many_async``
and the acknowledgements the Kafka publisher awaits by callback (``kafka_acks``), and
``POST /v1/events`` over a publisher of that interface: its answer, and a log that does
not acknowledge as the 503 problem. The same against a real broker:
``tests/integration/test_async_publish.py``."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Sequence

import pytest
from fastapi.testclient import TestClient
from kafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from kafka.future import Future

from adapters.sourcelog.base import Coordinates, LogPublisher, LogUnavailable, OutgoingRecord
from adapters.sourcelog.kafka_acks import acknowledged
from api.main import create_api
from api.schemas import AcceptedListOut
from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique

# -- kafka_acks.acknowledged -------------------------------------------------------------------


def later(*steps: tuple[Future, object]) -> threading.Thread:
    """Settle each future from another thread, as kafka-python's I/O thread does."""

    def run() -> None:
        for future, outcome in steps:
            if isinstance(outcome, BaseException):
                future.failure(outcome)
            else:
                future.success(outcome)

    return threading.Thread(target=run)


def test_the_values_come_in_the_futures_order_whatever_order_they_settle_in() -> None:
    futures = [Future() for _ in range(4)]
    futures[2].success("c")  # already done when awaited

    async def main() -> list[object]:
        settling = later((futures[3], "d"), (futures[0], "a"), (futures[1], "b"))
        settling.start()
        try:
            return await acknowledged(futures, 10)
        finally:
            settling.join()

    assert asyncio.run(main()) == ["a", "b", "c", "d"]
    assert asyncio.run(acknowledged([], 10)) == []


def test_the_first_failure_is_raised_and_what_settles_after_it_is_ignored() -> None:
    futures = [Future() for _ in range(3)]
    first = MessageSizeTooLargeError("first")

    async def main() -> None:
        settling = later(
            (futures[0], "a"),
            (futures[1], first),
            (futures[2], MessageSizeTooLargeError("second")),
        )
        settling.start()
        try:
            with pytest.raises(MessageSizeTooLargeError) as raised:
                await acknowledged(futures, 10)
            assert raised.value is first
        finally:
            settling.join()

    asyncio.run(main())


def test_no_acknowledgement_in_time_is_kafkas_timeout_and_a_late_one_is_harmless() -> None:
    futures = [Future(), Future()]
    futures[0].success("a")

    async def main() -> None:
        with pytest.raises(KafkaTimeoutError, match=r"Timeout after waiting for 0\.05 secs"):
            await acknowledged(futures, 0.05)
        futures[1].success("b")  # the callback still runs; the future it would settle is gone
        await asyncio.sleep(0)

    asyncio.run(main())


# -- the port's default -------------------------------------------------------------------------


class Placing(LogPublisher):
    """A publisher with ``publish_many`` only: the port runs it on a worker thread."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.threads: list[int] = []

    def publish_many(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        self.threads.append(threading.get_ident())
        if self.error is not None:
            raise self.error
        return [Coordinates(r.topic, 0, n) for n, r in enumerate(records)]


RECORDS = [OutgoingRecord("t", b"k", b"v1"), OutgoingRecord("u", b"k", b"v2")]


def test_by_default_publish_many_async_is_publish_many_on_a_worker_thread() -> None:
    publisher = Placing()

    async def main() -> list[Coordinates]:
        return await publisher.publish_many_async(RECORDS)

    assert asyncio.run(main()) == [Coordinates("t", 0, 0), Coordinates("u", 0, 1)]
    assert publisher.threads
    assert publisher.threads[0] != threading.get_ident()
    refusing = Placing(LogUnavailable("down"))
    with pytest.raises(LogUnavailable, match="down"):
        asyncio.run(refusing.publish_many_async(RECORDS))


# -- POST /v1/events over a publisher of that interface -------------------------------------


class Awaited(LogPublisher):
    """Answers ``publish_many_async`` only (the route must not block the loop)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.awaited: list[OutgoingRecord] = []

    def publish_many(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        raise AssertionError("the route blocked on publish_many")

    async def publish_many_async(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        await asyncio.sleep(0)
        if self.error is not None:
            raise self.error
        self.awaited.extend(records)
        return [Coordinates(r.topic, 3, 40 + n) for n, r in enumerate(records)]


def serve(runtime: Runtime, publisher: LogPublisher) -> TestClient:
    return TestClient(create_api(dataclasses.replace(runtime, _publisher=publisher)))


def channel(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {runtime.api_keys.create('channel').secret_text}"}


def test_an_accepted_batch_is_answered_with_where_each_event_landed(runtime: Runtime) -> None:
    publisher = Awaited()
    events = [contact_opened(customer_id=unique("cust-")) for _ in range(2)]
    with serve(runtime, publisher) as client:
        answer = client.post("/v1/events", json=events, headers=channel(runtime))
    assert answer.status_code == 202
    assert answer.headers["content-type"] == "application/json"
    assert {"ratelimit-limit", "ratelimit-remaining", "x-request-id"} <= set(answer.headers)
    body = answer.json()
    assert body == AcceptedListOut.model_validate(body).model_dump(mode="json")
    topic = runtime.topics.for_type("contact.opened")
    assert body["accepted"] == [
        {
            "event_id": event["event_id"],
            "topic": topic,
            "partition": 3,
            "offset": 40 + n,
            "position": f"{topic}:3:{40 + n}",
        }
        for n, event in enumerate(events)
    ]
    assert [r.key for r in publisher.awaited] == [e["customer_id"].encode() for e in events]


def test_a_log_that_does_not_acknowledge_is_the_503_problem(runtime: Runtime) -> None:
    publisher = Awaited(LogUnavailable("Kafka did not acknowledge: KafkaTimeoutError"))
    with serve(runtime, publisher) as client:
        answer = client.post("/v1/events", json=contact_opened(), headers=channel(runtime))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["error"] == "log_unavailable"
    assert answer.json()["instance"] == "/v1/events"

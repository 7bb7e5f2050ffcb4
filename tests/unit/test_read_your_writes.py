"""Read-your-writes (issue 13, item 8): a read with ``consistent_with`` waits without
holding a worker thread, so reads waiting on a position that is not coming leave the API
free to serve everything else (a channel's publish among it); and one API key may have
only so many reads waiting at once (429 beyond, with Retry-After).

Real concurrency: an httpx AsyncClient over the ASGI app, every request a task in one event
loop, as uvicorn serves them. The test waits for conditions (the requests in flight, the
waits held), never for a length of time."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any
from unittest.mock import patch

import httpx
import orjson
import pytest
from fastapi import FastAPI

from adapters.sourcelog.base import OutgoingRecord
from api.consistency import WaitSlots
from api.main import create_api
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything, project_everything

READS = 60
"""As in the issue: more than the thread pool's 40 workers."""
PER_KEY = 16
PUBLISH_BOUND_S = 1.0


@pytest.fixture
def make_runtime(settings_env: dict[str, str]) -> Iterator[Callable[[float], Runtime]]:
    made: list[Runtime] = []

    def make(wait_max_s: float) -> Runtime:
        env = {
            **settings_env,
            "JOURNEY_CONSISTENCY_WAIT_MAX_S": str(wait_max_s),
            "JOURNEY_CONSISTENCY_WAITS_PER_KEY": str(PER_KEY),
            "JOURNEY_RATE_LIMIT_PER_S": "100000",
            "JOURNEY_RATE_LIMIT_BURST": "100000",
        }
        with patch.dict(os.environ, env):
            runtime = build(Settings())
        runtime.create_topics()
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def bearer(runtime: Runtime, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {runtime.api_keys.create(role).secret_text}"}  # type: ignore[arg-type]


def not_ingested(runtime: Runtime) -> str:
    """The position of a record published while no ingest worker runs: it is not coming."""
    customer = unique("cust-")
    record = OutgoingRecord(
        runtime.topics.for_type("contact.opened"),
        customer.encode(),
        orjson.dumps(contact_opened(customer_id=customer, contact_id=unique("case-"))),
    )
    return str(runtime.publisher.publish_many([record])[0])


def run(scenario: Callable[[httpx.AsyncClient], Coroutine[Any, Any, None]], app: FastAPI) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            await scenario(client)

    asyncio.run(main())


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    """Yield to the event loop until ``condition`` holds (polled between turns)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.005)


def in_flight(runtime: Runtime) -> float:
    return runtime.registry.get_sample_value("journey_http_requests_in_flight") or 0.0


async def cancel(tasks: list[asyncio.Task[httpx.Response]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_reads_waiting_on_a_position_that_is_not_coming_do_not_slow_a_publish(
    make_runtime: Callable[[float], Runtime],
) -> None:
    runtime = make_runtime(10)  # the default wait: far longer than the test
    app = create_api(runtime, workers=set())
    slots: WaitSlots = app.state.consistency_waits
    never = not_ingested(runtime)
    analysts = [bearer(runtime, "analyst") for _ in range(READS // PER_KEY + 1)]
    channel = bearer(runtime, "channel")
    event = contact_opened(customer_id=unique("cust-"), contact_id=unique("case-"))

    async def publish(client: httpx.AsyncClient) -> float:
        body = {**event, "event_id": unique("ev-")}
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(
                client.post("/v1/events", json=body, headers=channel), timeout=5
            )
        except TimeoutError:
            pytest.fail(f"a publish did not answer within 5 s while {READS} reads wait")
        assert answer.status_code == 202, answer.text
        return time.perf_counter() - started

    async def scenario(client: httpx.AsyncClient) -> None:
        reads = [
            asyncio.create_task(
                client.get(
                    "/v1/complaints",
                    params={"consistent_with": never},
                    headers=analysts[i % len(analysts)],
                )
            )
            for i in range(READS)
        ]
        try:
            await until(lambda: in_flight(runtime) >= READS, f"{READS} reads are in flight")
            while_arriving = await publish(client)
            await until(lambda: slots.active() == READS, f"{READS} reads are waiting")
            while_waiting = await publish(client)
            assert not [task for task in reads if task.done()]  # all still waiting
        finally:
            await cancel(reads)
        assert while_arriving < PUBLISH_BOUND_S, while_arriving
        assert while_waiting < PUBLISH_BOUND_S, while_waiting
        assert slots.active() == 0  # a read that went away gave its slot back

    run(scenario, app)


def test_a_key_may_have_so_many_reads_waiting_then_429_with_retry_after(
    make_runtime: Callable[[float], Runtime],
) -> None:
    runtime = make_runtime(10)
    reached = not_ingested(runtime)
    ingest_everything(runtime)
    project_everything(runtime)
    never = not_ingested(runtime)
    app = create_api(runtime, workers=set())
    slots: WaitSlots = app.state.consistency_waits
    busy, other = bearer(runtime, "analyst"), bearer(runtime, "analyst")

    def read(client: httpx.AsyncClient, position: str, key: dict[str, str]) -> Any:
        return client.get("/v1/complaints", params={"consistent_with": position}, headers=key)

    async def scenario(client: httpx.AsyncClient) -> None:
        waiting = [asyncio.create_task(read(client, never, busy)) for _ in range(PER_KEY)]
        try:
            await until(lambda: slots.active() == PER_KEY, f"{PER_KEY} reads are waiting")
            refused = await read(client, never, busy)
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"] == "too_many_waits"
            assert int(refused.headers["Retry-After"]) >= 1
            # A read that needs no wait takes no slot; another key has its own.
            assert (await read(client, reached, busy)).status_code == 200
            waiting.append(asyncio.create_task(read(client, never, other)))
            await until(lambda: slots.active() == PER_KEY + 1, "the other key's read waits")
            # One wait ends: the key may wait again.
            await cancel(waiting[:1])
            waiting.append(asyncio.create_task(read(client, never, busy)))
            await until(lambda: slots.active() == PER_KEY + 1, "the busy key waits again")
            assert not waiting[-1].done()
        finally:
            await cancel(waiting)
        assert slots.active() == 0

    run(scenario, app)


def test_a_wait_answers_once_the_position_is_reached_and_503_if_not_in_time(
    make_runtime: Callable[[float], Runtime],
) -> None:
    runtime = make_runtime(0.5)
    app = create_api(runtime, workers=set())
    slots: WaitSlots = app.state.consistency_waits
    analyst = bearer(runtime, "analyst")

    async def scenario(client: httpx.AsyncClient) -> None:
        position = not_ingested(runtime)
        late = await client.get(
            "/v1/complaints", params={"consistent_with": position}, headers=analyst
        )
        assert late.status_code == 503, late.text
        assert late.json()["error"] == "not_yet_consistent"
        assert "not yet ingested" in late.json()["detail"]
        assert late.headers["Retry-After"] == "1"
        assert slots.active() == 0

    run(scenario, app)

    runtime = make_runtime(30)
    app = create_api(runtime, workers=set())
    slots = app.state.consistency_waits
    analyst = bearer(runtime, "analyst")

    async def reached(client: httpx.AsyncClient) -> None:
        position = not_ingested(runtime)
        read = asyncio.create_task(
            client.get("/v1/complaints", params={"consistent_with": position}, headers=analyst)
        )
        await until(lambda: slots.active() == 1, "the read waits")
        await asyncio.to_thread(ingest_everything, runtime)
        await asyncio.to_thread(project_everything, runtime)
        answer = await asyncio.wait_for(read, timeout=5)
        assert answer.status_code == 200, answer.text
        assert [row["case_ref"] for row in answer.json()["items"]]
        assert slots.active() == 0

    run(reached, app)

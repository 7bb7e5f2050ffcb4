"""``journey deadletters replay --url``: the dead letters read from the configured log, their
original bytes re-published through a service's ``POST /v1/events`` (an
``httpx.MockTransport`` here: what is sent, and a refusal in one line)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from unittest.mock import patch

import httpx
import orjson
import pytest

from adapters.http_publisher import HttpPublisher
from adapters.sourcelog.base import OutgoingRecord
from journey.bootstrap import Runtime
from journey.cli import target
from journey.settings import Settings
from tests.factories import contact_opened, unique
from tests.integration.cli import run
from tests.integration.drive import ingest_everything

KEY = "jk_replayer_secretpart"


@pytest.fixture
def refused(runtime: Runtime) -> bytes:
    """A record the ingest dead-letters (an unknown channel); its original bytes."""
    event = contact_opened(customer_id=unique("cust-"), contact_id=unique("contact-"))
    value = orjson.dumps({**event, "channel": "pigeon"})
    topic = runtime.topics.for_type("contact.opened")
    runtime.create_topics()
    runtime.publisher.publish_many([OutgoingRecord(topic, b"k", value, ())])
    ingest_everything(runtime)
    assert len(runtime.all_dead_letters()) == 1
    return value


def mocked(handle: Callable[[httpx.Request], httpx.Response]) -> AbstractContextManager[Any]:
    """``target.http_publisher`` answering through ``handle`` instead of the network."""

    def build(settings: Settings, url: str, key: str) -> HttpPublisher:
        return HttpPublisher(
            url,
            key,
            max_body_bytes=settings.max_body_bytes,
            transport=httpx.MockTransport(handle),
            sleep=lambda s: None,
        )

    return patch.object(target, "http_publisher", build)


def test_replay_over_url_sends_the_originals_to_the_service(
    runtime: Runtime, refused: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    sent: list[bytes] = []

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        sent.append(request.content)
        body = orjson.loads(request.content)
        accepted = [
            {"event_id": e["event_id"], "topic": "in", "partition": 0, "offset": 7} for e in body
        ]
        return httpx.Response(202, json={"accepted": accepted})

    topic = runtime.topics.for_type("contact.opened")
    with mocked(handle):
        code = run(
            runtime,
            "deadletters",
            "replay",
            "--all-from",
            topic,
            "--url",
            "http://svc",
            "--key",
            KEY,
        )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert sent == [b"[" + refused + b"]"]
    assert "-> in:0:7" in out
    assert "publishing to http://svc (key jk_replayer_…)" in err


def test_a_refused_replay_fails_in_one_line(
    runtime: Runtime, refused: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"detail": "this key is not a channel key"})

    topic = runtime.topics.for_type("contact.opened")
    with mocked(handle):
        code = run(
            runtime,
            "deadletters",
            "replay",
            "--all-from",
            topic,
            "--url",
            "http://svc",
            "--key",
            KEY,
        )
    err = capsys.readouterr().err
    assert code == 1
    (line,) = [ln for ln in err.splitlines() if ln.startswith("journey: ")]
    assert "403" in line
    assert "not a channel key" in line

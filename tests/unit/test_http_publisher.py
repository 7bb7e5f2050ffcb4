"""``HttpPublisher``: batches within the API's limits, retries 429/503 after Retry-After,
fails in one line on a refusal (httpx.MockTransport, no server)."""

from __future__ import annotations

import httpx
import orjson
import pytest

from adapters.http_publisher import HttpPublisher, PublishRefused, batches, key_hint
from adapters.sourcelog.base import Coordinates, LogUnavailable, OutgoingRecord

KEY = "jk_abc123_secretsecret"


def record(n: int, size: int = 0) -> OutgoingRecord:
    value = orjson.dumps({"event_id": f"e{n}", "pad": "x" * size})
    return OutgoingRecord("t", b"k", value, ())


def accepting(seen: list[list[dict[str, object]]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/events"
        assert request.headers["authorization"] == f"Bearer {KEY}"
        body = orjson.loads(request.content)
        offset = sum(len(b) for b in seen)
        seen.append(body)
        accepted = [
            {"event_id": e["event_id"], "topic": "in", "partition": 0, "offset": offset + i}
            for i, e in enumerate(body)
        ]
        return httpx.Response(202, json={"accepted": accepted})

    return httpx.MockTransport(handle)


def publisher(transport: httpx.MockTransport, **kwargs: object) -> HttpPublisher:
    options: dict[str, object] = {"max_body_bytes": 1024 * 1024, "sleep": lambda s: None}
    options.update(kwargs)
    return HttpPublisher("http://svc:8000/", KEY, transport=transport, **options)  # type: ignore[arg-type]


def test_batches_keep_to_the_event_count_and_the_body_size() -> None:
    values = [b"x" * 10] * 25
    runs = list(batches(values, max_events=10, max_bytes=1000))
    assert [len(r) for r in runs] == [10, 10, 5]
    # 2 brackets + n values of 10 + (n - 1) commas <= 60: n = 5.
    runs = list(batches(values, max_events=1000, max_bytes=60))
    assert all(len(b"[" + b",".join(r) + b"]") <= 60 for r in runs)
    assert [len(r) for r in runs] == [5, 5, 5, 5, 5]
    assert [v for r in runs for v in r] == values


def test_a_value_too_large_for_any_body_is_refused() -> None:
    with pytest.raises(PublishRefused, match="over the request body limit"):
        list(batches([b"x" * 100], max_events=10, max_bytes=50))


def test_publishes_in_batches_of_at_most_1000_and_returns_where_each_landed() -> None:
    seen: list[list[dict[str, object]]] = []
    with_http = publisher(accepting(seen))
    placed = with_http.publish_many([record(n) for n in range(2500)])
    assert [len(b) for b in seen] == [1000, 1000, 500]
    assert [e["event_id"] for b in seen for e in b] == [f"e{n}" for n in range(2500)]
    assert placed == [Coordinates("in", 0, n) for n in range(2500)]


def test_the_body_limit_splits_batches() -> None:
    seen: list[list[dict[str, object]]] = []
    with_http = publisher(accepting(seen), max_body_bytes=10_000)
    with_http.publish_many([record(n, size=900) for n in range(30)])
    assert len(seen) > 1
    assert sum(len(b) for b in seen) == 30
    assert all(len(orjson.dumps(b)) <= 10_000 for b in seen)


def test_429_and_503_are_retried_after_retry_after() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}, json={"detail": "slow down"}),
        httpx.Response(503, json={"detail": "log unavailable"}),
    ]
    seen: list[list[dict[str, object]]] = []
    accept = accepting(seen)

    def handle(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else accept.handle_request(request)

    slept: list[float] = []
    with_http = publisher(httpx.MockTransport(handle), sleep=slept.append)
    assert with_http.publish_many([record(1)]) == [Coordinates("in", 0, 0)]
    assert slept == [3.0, 1.0]


def test_retrying_stops_after_its_patience() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "10"}, json={"detail": "down"})

    with_http = publisher(httpx.MockTransport(handle), patience_s=5)
    with pytest.raises(LogUnavailable, match="kept answering 503"):
        with_http.publish_many([record(1)])


@pytest.mark.parametrize(
    ("status", "body", "named"),
    [
        (401, {"detail": "missing or unknown API key"}, "401 Unauthorized"),
        (403, {"detail": "this key publishes as 'a'"}, "publishes as"),
        (
            422,
            {"detail": "invalid event", "problems": [{"field": "[0].type", "reason": "unknown"}]},
            "[0].type: unknown",
        ),
    ],
)
def test_a_refusal_fails_at_once_in_one_line(
    status: int, body: dict[str, object], named: str
) -> None:
    calls: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json=body)

    with_http = publisher(httpx.MockTransport(handle))
    with pytest.raises(PublishRefused) as refused:
        with_http.publish_many([record(1)])
    assert named in str(refused.value)
    assert "\n" not in str(refused.value)
    assert "secretsecret" not in str(refused.value)
    assert calls == [1]


def test_a_service_that_does_not_answer_is_unavailable() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(LogUnavailable, match="http://svc:8000 did not answer"):
        publisher(httpx.MockTransport(handle)).publish_many([record(1)])


def test_the_description_names_the_key_id_never_the_secret() -> None:
    assert key_hint(KEY) == "jk_abc123_…"
    assert key_hint("whatever") == "…"
    with_http = publisher(accepting([]))
    assert with_http.describe() == "http://svc:8000 (key jk_abc123_…)"

"""``HttpPublisher``: a ``LogPublisher`` that publishes through a running service's
``POST /v1/events`` with a channel key, instead of writing to a log itself.

The commands that publish (``journey simulate``, ``import``, ``deadletters replay``) take it
for ``--url``: the server validates, publishes to its own log, and its workers apply the
events. Records are sent as JSON arrays of their values (each value is one envelope), within
the API's limits: at most ``MAX_BATCH`` events and ``max_body_bytes`` per request. The topic
and key of a record are the server's to choose; the answer says where each event landed.

- 429 and 503 are retried after ``Retry-After`` (1 s when absent), until ``patience_s``;
- 401, 403, 413 and 422 fail at once with :class:`PublishRefused`, one line naming why;
- a service that does not answer is :class:`LogUnavailable` naming the URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import orjson

from adapters.sourcelog.base import Coordinates, LogPublisher, LogUnavailable, OutgoingRecord

MAX_BATCH = 1000
"""Events per request: the API's limit (``api.routes.events.MAX_BATCH``)."""

RETRIED = frozenset({429, 503})


class PublishRefused(Exception):
    """The service refused a batch (wrong key, a role or source it may not publish, an
    invalid event); retrying the same request cannot succeed."""


def key_hint(key: str) -> str:
    """Enough of a key to recognise it in a message, not enough to use it: the key id of a
    ``jk_<key_id>_<secret>`` key (``journey keys list`` shows it), never the secret."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix and key_id and secret:
        return f"{prefix}_{key_id}_…"
    return "…"


def batches(values: Sequence[bytes], max_events: int, max_bytes: int) -> Iterator[list[bytes]]:
    """``values`` in runs whose JSON array (``[v,v,...]``) holds at most ``max_events`` and
    ``max_bytes``; a value that cannot fit alone is refused."""
    run: list[bytes] = []
    size = 2  # the brackets
    for value in values:
        if len(value) + 2 > max_bytes:
            raise PublishRefused(
                f"an event of {len(value)} bytes is over the request body limit ({max_bytes})"
            )
        added = len(value) + (1 if run else 0)
        if run and (len(run) >= max_events or size + added > max_bytes):
            yield run
            run, size, added = [], 2, len(value)
        run.append(value)
        size += added
    if run:
        yield run


def _problem(response: httpx.Response) -> str:
    """The API's problem answer in one line: its detail and each field at fault."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:200]
    detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
    problems = body.get("problems") or []
    named = [f"{p.get('field')}: {p.get('reason')}" for p in problems[:3] if isinstance(p, dict)]
    more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
    if named and "; ".join(named) not in detail:
        return f"{detail} ({'; '.join(named)}{more})"
    return detail


def _retry_after(response: httpx.Response) -> float:
    text = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(text))
    except ValueError:
        return 1.0


class HttpPublisher(LogPublisher):
    def __init__(
        self,
        url: str,
        key: str,
        *,
        max_body_bytes: int,
        max_events: int = MAX_BATCH,
        patience_s: float = 120.0,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.max_body_bytes = max_body_bytes
        self.max_events = max_events
        self.patience_s = patience_s
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )

    def describe(self) -> str:
        return f"{self.url} (key {key_hint(self.key)})"

    def publish_many(self, records: Sequence[OutgoingRecord]) -> list[Coordinates]:
        placed: list[Coordinates] = []
        values = [r.value for r in records]
        for run in batches(values, self.max_events, self.max_body_bytes):
            placed += self._post(b"[" + b",".join(run) + b"]", len(run))
        return placed

    def _post(self, body: bytes, count: int) -> list[Coordinates]:
        deadline = time.monotonic() + self.patience_s
        while True:
            try:
                response = self._client.post("/v1/events", content=body)
            except httpx.HTTPError as error:
                raise LogUnavailable(
                    f"the service at {self.url} did not answer: {type(error).__name__}: {error}"
                ) from error
            if response.status_code in RETRIED:
                wait = _retry_after(response)
                if time.monotonic() + wait > deadline:
                    raise LogUnavailable(
                        f"the service at {self.url} kept answering {response.status_code}"
                        f" for {self.patience_s:g} s: {_problem(response)}"
                    )
                self._sleep(wait)
                continue
            if response.status_code == 202:
                return self._placed(response, count)
            raise PublishRefused(
                f"the service at {self.url} refused the batch ({response.status_code}"
                f" {response.reason_phrase}): {_problem(response)}"
            )

    def _placed(self, response: httpx.Response, count: int) -> list[Coordinates]:
        accepted = orjson.loads(response.content).get("accepted", [])
        if len(accepted) != count:
            raise LogUnavailable(
                f"the service at {self.url} acknowledged {len(accepted)} of {count} events"
            )
        return [Coordinates(a["topic"], int(a["partition"]), int(a["offset"])) for a in accepted]

    def close(self) -> None:
        self._client.close()

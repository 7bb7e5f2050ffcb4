"""While read models catch up without their query indexes (``projections.catch_up``) every
read route answers as it does with them: the same status and the same body, only slower.
Driven from the route table: every GET route an analyst may call, with its path filled from
the journey, plus each sort order of the ledger and groupings of the KPIs. The ledger's
pages walked a named index (``INDEXED BY``), which SQLite refuses when the index is gone: a
500 on every sorted page during a catch-up, until this test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.main import create_api
from api.routes.complaints import Sort
from journey.bootstrap import Runtime
from tests.builders.apps import embedded_runtime
from tests.e2e.journey_script import Journey, script
from tests.integration.drive import ingest_everything, project_everything

EXTRA = [
    *(f"/v1/complaints?sort={order}&limit=2" for order in get_args(Sort)),
    "/v1/complaints?sort=-priority&status=open",
    "/v1/complaints?sort=breaches&channel=web&limit=1",
    *(f"/v1/kpis?group_by={by}" for by in ("channel", "store", "agent_group", "day", "month")),
    "/v1/ledger/counts?group_by=channel",
    "/v1/orders?sort=desc",
]
"""Queries that walk other indexes than a route's defaults do."""


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Runtime, TestClient, Journey]]:
    runtime = embedded_runtime(tmp_path_factory.mktemp("catch-up-routes"))
    journey = script()
    with TestClient(create_api(runtime, workers=set())) as client:
        channel = {"Authorization": f"Bearer {runtime.api_keys.create('channel').secret_text}"}
        answer = client.post("/v1/events", json=journey.events, headers=channel)
        assert answer.status_code == 202, answer.text
        ingest_everything(runtime)
        project_everything(runtime)
        yield runtime, client, journey
    runtime.close()


PERIOD = "start=2026-11-01&end=2026-11-30"
REQUIRED = {
    "/v1/kpis/funnel": PERIOD,
    "/v1/anomalies": PERIOD,
    "/v1/qa-sample": PERIOD,
    "/v1/kpis/explain": "metric=contacts&day=2026-11-04",
}
"""The query a route cannot go without (the journey's month)."""


def urls(client: TestClient, journey: Journey) -> list[str]:
    paths = {"case_ref": journey.case, "customer_id": journey.customer}
    found = []
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        original = route.original_route
        if not isinstance(original, APIRoute) or "GET" not in (route.methods or ()):
            continue
        if "analyst" not in (original.openapi_extra or {}).get("x-roles", ()):
            continue
        try:
            path = str(route.path or original.path).format(**paths)
        except KeyError:  # a path naming something else (an order id): its list is called
            continue
        found.append(f"{path}?{REQUIRED[path]}" if path in REQUIRED else path)
    return [*found, *EXTRA]


def answers(client: TestClient, headers: dict[str, str], every: list[str]) -> dict[str, Any]:
    got = {}
    for url in every:
        answer = client.get(url, headers=headers)
        got[url] = (answer.status_code, answer.content)
    return got


def test_every_read_route_answers_the_same_without_the_query_indexes(
    served: tuple[Runtime, TestClient, Journey],
) -> None:
    runtime, client, journey = served
    analyst = {"Authorization": f"Bearer {runtime.api_keys.create('analyst').secret_text}"}
    every = urls(client, journey)
    assert len(every) > len(EXTRA) + 8
    with_indexes = answers(client, analyst, every)
    assert all(status == 200 for status, _ in with_indexes.values()), {
        url: status for url, (status, _) in with_indexes.items() if status != 200
    }

    for projection in runtime.projections:
        projection.defer_query_indexes(behind=0)
    try:
        without = answers(client, analyst, every)
    finally:
        for projection in runtime.projections:
            projection.restore_query_indexes()

    assert without == with_indexes

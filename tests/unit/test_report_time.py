"""Time, one way on every route (issue 15, item 1): every protected route takes ``tz`` and
answers every time with that zone's offset (default: the report zone, Asia/Shanghai); every
time parameter takes a date alone, a date in that zone.

The walk covers every GET route of the route table over a stored journey, so a new route
cannot escape: a route whose path or required parameters this test cannot fill fails it
until they are added to ``PATH_VALUES`` / ``REQUIRED``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.auth import ProtectedRoute
from api.main import create_api
from api.times import ZonedJSONResponse, in_zone, render_time, request_zone
from journey.bootstrap import Runtime
from tests.builders.apps import embedded_runtime
from tests.e2e.journey_script import Journey, script
from tests.integration.drive import ingest_everything, project_everything

TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
OPEN = {"/healthz", "/readyz", "/metrics"}
"""Routes outside ``ProtectedRoute``: no times in their answers (operations)."""


def times_in(value: Any) -> Iterator[str]:
    if isinstance(value, str) and TIME.fullmatch(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from times_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from times_in(item)


class Served:
    def __init__(self, runtime: Runtime, app: FastAPI, journey: Journey) -> None:
        self.runtime, self.app, self.journey = runtime, app, journey
        self.keys: dict[str, str] = {}

    def headers(self, route: RouteContext) -> dict[str, str]:
        original = route.original_route
        assert isinstance(original, APIRoute)
        roles = (original.openapi_extra or {}).get("x-roles") or []
        if not roles:
            return {}
        role = roles[0]
        if role not in self.keys:
            source = "e2e-script" if role == "channel" else None  # its dead letters
            self.keys[role] = self.runtime.api_keys.create(role, source=source).secret_text
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("zones")
    runtime = embedded_runtime(folder)
    app = create_api(runtime, workers=set())
    journey = script()
    served = Served(runtime, app, journey)
    channel = runtime.api_keys.create("channel").secret_text
    with TestClient(app) as client:
        answer = client.post(
            "/v1/events", json=journey.events, headers={"Authorization": f"Bearer {channel}"}
        )
        assert answer.status_code == 202, answer.text
    ingest_everything(runtime)
    project_everything(runtime)
    yield served
    runtime.close()


def path_values(journey: Journey) -> dict[str, str]:
    return {
        "case_ref": journey.case,
        "customer_id": journey.customer,
        "order_id": journey.order,
        "return_id": journey.return_id,
        "kind": "cases",
        "ref": journey.case,
        "event_type": "contact.opened",
        "job_id": "none",
    }


REQUIRED = {
    "start": "2026-11-01",
    "end": "2026-11-30",
    "day": "2026-11-02",
    "metric": "contacts",
    "policy_version": "2026.1",
}


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every route of the API (included routers walked), as served (prefix and all); the
    console's and the docs' HTML pages (outside the OpenAPI) are not answers."""
    return [
        c
        for c in iter_route_contexts(app.routes)
        if isinstance(c.original_route, APIRoute) and c.original_route.include_in_schema
    ]


def get_routes(app: FastAPI) -> list[RouteContext]:
    return [c for c in api_routes(app) if "GET" in (c.methods or ())]


def call(client: TestClient, served: Served, route: RouteContext, tz: str | None) -> Any:
    values = path_values(served.journey)
    names = [p.alias for p in route.dependant.path_params]
    missing = [name for name in names if name not in values]
    assert not missing, f"{route.path}: add a value for {missing} to path_values"
    path = str(route.path).format(**{name: values[name] for name in names})
    query = {
        p.alias: REQUIRED[p.alias]
        for p in route.dependant.query_params
        if p.field_info.is_required()
    }
    if route.path == "/v1/what-if":  # one case or one period
        query["case_ref"] = served.journey.case
    if tz is not None:
        query["tz"] = tz
    answer = client.get(path, params=query, headers=served.headers(route))
    assert answer.status_code in (200, 404), (route.path, answer.status_code, answer.text)
    return answer


def test_every_route_outside_operations_answers_in_the_request_zone(served: Served) -> None:
    routes = api_routes(served.app)
    assert len(routes) > 30
    for route in routes:
        if route.path in OPEN:
            continue
        assert isinstance(route.original_route, ProtectedRoute), route.path
        assert issubclass(route.response_class, ZonedJSONResponse), route.path
        calls = [d.call for d in route.dependant.dependencies]
        assert request_zone in calls, route.path
        assert "tz" in {p.alias for d in route.dependant.dependencies for p in d.query_params}


@pytest.mark.parametrize("tz", [None, "UTC", "America/New_York"])
def test_every_time_in_every_answer_carries_the_zones_offset(
    served: Served, tz: str | None
) -> None:
    zone = ZoneInfo(tz or "Asia/Shanghai")
    seen = 0
    with TestClient(served.app) as client:
        for route in get_routes(served.app):
            if route.path in OPEN:
                continue
            answer = call(client, served, route, tz)
            if answer.headers["content-type"].startswith("application/json"):
                found = list(times_in(answer.json()))
            else:
                continue
            for text in found:
                at = datetime.fromisoformat(text)
                assert at.utcoffset() == at.astimezone(zone).utcoffset(), (route.path, text)
            seen += len(found)
    assert seen > 100  # the journey's cases, orders, history, KPIs' events...


def test_a_csv_export_renders_its_times_in_the_zone(served: Served) -> None:
    with TestClient(served.app) as client:
        routes = {r.path: r for r in get_routes(served.app)}
        exports = (
            "/v1/complaints", "/v1/orders", "/v1/returns", "/v1/cases/{case_ref}/history",
            "/v1/complaints/{case_ref}/explain", "/v1/admin/keys",
        )  # fmt: skip
        for path in exports:
            route = routes[path]
            answer = client.get(
                path.format(case_ref=served.journey.case),
                params={"format": "csv", "tz": "UTC"},
                headers=served.headers(route),
            )
            assert answer.status_code == 200, answer.text
            cells = [c for row in csv.reader(io.StringIO(answer.text)) for c in row]
            found = [c for c in cells if TIME.fullmatch(c)]
            assert found, path
            assert all(c.endswith("+00:00") for c in found), (path, found)


def test_a_date_alone_is_a_day_in_the_zone_on_every_time_parameter(served: Served) -> None:
    """The case opened on 4 November at 10:00 +08:00, the 3rd at 21:00 in New York:
    ``opened_from=2026-11-04`` is the 4th from midnight in the zone, ``opened_to`` a date
    includes that day."""
    routes = {r.path: r for r in get_routes(served.app)}
    route = routes["/v1/complaints"]
    case = served.journey.case
    with TestClient(served.app) as client:

        def refs(**query: str) -> list[str]:
            answer = client.get("/v1/complaints", params=query, headers=served.headers(route))
            assert answer.status_code == 200, answer.text
            return [item["case_ref"] for item in answer.json()["items"]]

        assert case in refs(opened_from="2026-11-04", opened_to="2026-11-04")
        assert case not in refs(opened_from="2026-11-04", tz="America/New_York")
        assert case in refs(opened_to="2026-11-03", tz="America/New_York")
        assert case not in refs(opened_to="2026-11-03")
        assert case in refs(opened_from="2026-11-04T10:00:00+08:00")
        assert case not in refs(opened_from="2026-11-04T10:00:00.000001+08:00")
        bad = client.get(
            "/v1/complaints", params={"opened_from": "2026-13-01"}, headers=served.headers(route)
        )
        assert bad.status_code == 422
        assert bad.json()["problems"][0]["field"] == "query.opened_from"


def test_every_time_parameter_takes_a_date_alone_in_the_openapi(served: Served) -> None:
    """Every query parameter that takes a time takes a date as well, documented once."""
    with TestClient(served.app) as client:
        paths = client.get("/openapi.json").json()["paths"]
    times = 0
    for path, operations in paths.items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                formats = {s.get("format") for s in schema.get("anyOf", [schema])}
                formats |= {s.get("format") for s in schema.get("anyOf", [{}])[0].get("anyOf", [])}
                if "date-time" in formats:
                    times += 1
                    assert "date" in formats, (method, path, parameter["name"])
    assert times >= 8


@given(
    st.datetimes(
        timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
        min_value=datetime(1971, 1, 1),
        max_value=datetime(9998, 1, 1),
    )
)
def test_rendering_keeps_the_instant_and_takes_the_zones_offset(at: datetime) -> None:
    zone = ZoneInfo("Asia/Kolkata")
    shown = datetime.fromisoformat(render_time(at.isoformat(), zone))
    assert shown == at
    assert shown.utcoffset() == timedelta(hours=5, minutes=30)
    assert in_zone({"a": [at.isoformat(), "not a time", 3]}, UTC)["a"][1:] == ["not a time", 3]


def test_a_date_or_a_word_is_left_as_it_is() -> None:
    for text in ("2026-11-02", "topic:0:12", "2026-11-02T09:00:00", "R-CMP-01"):
        assert render_time(text, UTC) == text
    assert date(2026, 11, 2).isoformat() == "2026-11-02"

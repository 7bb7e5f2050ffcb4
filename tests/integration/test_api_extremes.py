"""No request, however odd, gets a 500 (issue 13, item 7): every parameter of every GET route
(read from the app's OpenAPI, so a route added later is covered) given arbitrary text and
extreme but plausible values — times near year 1 or 9999 with ±14:00 offsets, integers
beyond 64 bits, garbage and forged cursors, positions on odd partitions and offsets, text
with NUL — on SQLite and on PostgreSQL, whose limits differ.

The one 5xx a read may answer on purpose is ``503 not_yet_consistent`` (with Retry-After):
a well-formed ``consistent_with`` position that is not reached in time (the wait is 0 s
here); every other answer is below 500.

Also here: the exact values of the issue, each a 422 that names its parameter; and the
explain routes over a case whose stored event no longer decodes (a problem, not a 500)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.main import create_api
from domain.case import Case
from journey.bootstrap import Runtime
from tests.e2e.journey_script import Journey, script
from tests.integration.drive import ingest_everything, make_runtime, project_everything
from tests.integration.event_table import EventTable

# -- the served runtime ----------------------------------------------------------------------


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        # A well-formed position that is not reached answers 503 at once, not after 10 s.
        "JOURNEY_CONSISTENCY_WAIT_MAX_S": "0",
        # Hundreds of calls from one key: the rate limit is not under test here.
        "JOURNEY_RATE_LIMIT_PER_S": "1000000",
        "JOURNEY_RATE_LIMIT_BURST": "1000000",
    }


@pytest.fixture(
    params=[
        pytest.param(("embedded", "sqlite"), id="sqlite"),
        pytest.param(("embedded", "postgres"), id="postgres", marks=pytest.mark.postgres),
    ]
)
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    yield from make_runtime(request, tmp_path, settings_env)


@dataclass
class Served:
    runtime: Runtime
    client: TestClient
    journey: Journey
    positions: list[str] = field(default_factory=list)
    """Of the journey's events: reached by every read model."""
    keys: dict[str, dict[str, str]] = field(default_factory=dict)

    def key(self, role: str) -> dict[str, str]:
        if role not in self.keys:
            secret = self.runtime.api_keys.create(role).secret_text  # type: ignore[arg-type]
            self.keys[role] = {"Authorization": f"Bearer {secret}"}
        return self.keys[role]


@pytest.fixture
def served(runtime: Runtime) -> Iterator[Served]:
    """The app over a runtime holding one scripted journey (customer, order, case), all of
    it ingested and projected, so valid parameters reach the stores."""
    journey = script()
    app = create_api(runtime, workers=set())
    with TestClient(app, raise_server_exceptions=False) as client:
        result = Served(runtime, client, journey)
        published = client.post("/v1/events", json=journey.events, headers=result.key("channel"))
        assert published.status_code == 202, published.text
        result.positions = [a["position"] for a in published.json()["accepted"]]
        ingest_everything(runtime)
        project_everything(runtime)
        yield result


# -- odd values ------------------------------------------------------------------------------

NO_CASE = "00000000-0000-0000-0000-000000000000"
EDGE_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T13:59:59+14:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T10:00:00-13:59",
    "9999-12-31T23:59:59-23:59",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00+00:00",
    "0001-01-01",
    "9999-12-31",
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
]
EDGE_INTEGERS = [0, 1, -1, 2**31 - 1, 2**31, 2**53, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**20]
ODD_NUMBERS = [
    "9" * 20,
    "0" * 25 + "1",
    "1e30",
    "-0",
    "+5",
    " 7",
    "1_000",
    "0x10",
    "²",
    "١٢",
    "NaN",
]
ODD_CURSOR_VALUES: list[Any] = [
    [2**63, NO_CASE],
    [2**64 - 1, NO_CASE],
    [-1, NO_CASE],
    [True, NO_CASE],
    [1.5, NO_CASE],
    ["x", NO_CASE],
    ["9999-12-31T23:59:59-14:00", NO_CASE],
    [1, "x"],
    [1, "a\x00"],
    [None, None],
    [1],
    [1, NO_CASE, 3],
    {"a": 1, "b": NO_CASE},
    "text",
    2**70,
]
ODD_TEXTS = ["\x00", "a\x00b", "é", "💥", " ", "../..", "%00", "'; --", "x" * 1000]


def _b64(value: Any) -> str:
    """As a cursor is made, but with the standard library's JSON: orjson writes no integer
    beyond 64 bits."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def edge_values(served: Served) -> list[str]:
    """Every parameter of every GET route takes each of these."""
    topic = served.runtime.topics.ingress[0]
    partitions_offsets = [(0, 2**63 - 1), (0, 2**63), (2**31 - 1, 0), (2**31, 0), (10**20, 0)]
    return [
        *EDGE_TIMES,
        *(str(n) for n in EDGE_INTEGERS),
        *ODD_NUMBERS,
        *(_b64(value) for value in ODD_CURSOR_VALUES),
        "garbage",
        "",
        "====",
        *(f"{topic}:{p}:{o}" for p, o in partitions_offsets),
        f"{topic}:-1:0",
        "elsewhere:0:0",
        "::",
        *ODD_TEXTS,
    ]


any_offset = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
offsets = st.sampled_from([timezone(timedelta(hours=14)), timezone(-timedelta(hours=14))])
zones = st.none() | st.just(UTC) | offsets | any_offset


def _near_an_end(at_start: bool, seconds: int, zone: timezone | None) -> str:
    at = (
        datetime.min + timedelta(seconds=seconds)
        if at_start
        else datetime.max - timedelta(seconds=seconds)
    )
    return at.replace(tzinfo=zone).isoformat()


anywhere = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59),
    timezones=zones,  # type: ignore[arg-type]  # its annotation reads the default, none()
)
near_an_end = st.builds(_near_an_end, st.booleans(), st.integers(0, 86400), offsets | any_offset)
times = near_an_end | anywhere.map(datetime.isoformat)
days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
numbers = (st.integers(-(2**80), 2**80) | st.sampled_from(EDGE_INTEGERS)).map(str) | (
    st.sampled_from(ODD_NUMBERS)
)
json_members = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from(EDGE_INTEGERS)
    | st.floats()
    | st.text(max_size=40)
    | times
    | st.uuids().map(str)
)
cursors = st.lists(json_members, max_size=3).map(_b64) | st.binary(max_size=40).map(
    lambda b: base64.urlsafe_b64encode(b).decode()
)
texts = st.text(max_size=60)


def odd_values(served: Served, parameter: dict[str, Any] | None = None) -> st.SearchStrategy[str]:
    """Anything odd; for a ``parameter``, mostly odd values of its kind (times for a time,
    integers for a number...), so each is pushed to its edges often."""
    topics = st.sampled_from([*served.runtime.topics.ingress, "x", "a:b", ""]) | texts
    positions = st.builds(lambda t, p, o: f"{t}:{p}:{o}", topics, numbers, numbers)
    anything = st.one_of(
        st.sampled_from(edge_values(served)), times, days, numbers, cursors, positions, texts
    )
    if parameter is None:
        return anything
    schema, name = parameter["schema"], parameter["name"]
    options = schema.get("anyOf", [schema])
    options = [*options, *(o.get("items", {}) for o in options)]
    formats = {o.get("format") for o in options}
    kinds = {o.get("type") for o in options}
    if "date-time" in formats:
        own = times
    elif "date" in formats:
        own = days
    elif "integer" in kinds:
        own = numbers
    elif name == "as_of":  # a version, a time or a date
        own = times | numbers | days
    elif name == "recorded_as_of":
        own = times
    elif name == "cursor":
        own = cursors | numbers
    elif name == "consistent_with":
        own = positions
    else:
        own = texts
    return st.one_of(own, own, own, anything)


# -- valid values, so odd ones meet stored data ----------------------------------------------


def valid_values(served: Served, name: str, schema: dict[str, Any]) -> list[str]:
    journey = served.journey
    known: dict[str, list[str]] = {
        "case_ref": [journey.case],
        "customer_id": [journey.customer],
        "kind": ["orders", "cases"],
        "ref": [journey.order],
        "order_id": [journey.order],
        "return_id": [journey.return_id],
        "policy_version": ["2026.1", "2027.1-draft"],
        "metric": ["contacts", "complaints"],
        "start": ["2026-11-01"],
        "end": ["2026-11-30"],
        "day": ["2026-11-02"],
        "opened_from": ["2026-11-01T00:00:00+08:00"],
        "opened_to": ["2026-12-01T00:00:00+08:00"],
        "placed_from": ["2026-11-01T00:00:00+08:00"],
        "placed_to": ["2026-12-01T00:00:00+08:00"],
        "requested_from": ["2026-11-01T00:00:00+08:00"],
        "requested_to": ["2026-12-01T00:00:00+08:00"],
        "rule": ["R-ORD-04", "R-REF-02"],
        "as_of": ["2026-11-20T00:00:00Z", "3", "2026-11-20"],
        "recorded_as_of": ["2026-11-20T00:00:00Z"],
    }
    if name in known:
        return known[name]
    if name == "consistent_with":
        return served.positions  # reached: published, ingested and projected
    if name == "cursor":
        return []  # made by a previous page (and for its sort): none here
    for option in schema.get("anyOf", [schema]):
        enum = option.get("enum") or option.get("items", {}).get("enum")
        if enum:
            return [str(v) for v in enum]
        if option.get("type") == "integer":
            low = option.get("minimum", 0)
            return [str(low), str(option.get("maximum", low + 1000))]
        if option.get("type") == "boolean":
            return ["true", "false"]
    return ["x", "ag-1"]


@dataclass(frozen=True)
class Operation:
    path: str
    roles: tuple[str, ...]
    parameters: tuple[dict[str, Any], ...]

    def request(self, served: Served, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(url, query) with ``values`` by parameter name (path parameters quoted)."""
        url, query = self.path, {}
        for parameter in self.parameters:
            name = parameter["name"]
            if name not in values:
                continue
            if parameter["in"] == "path":
                url = url.replace(f"{{{name}}}", quote(values[name], safe=""))
            else:
                query[name] = values[name]
        return url, query

    def headers(self, served: Served, role: str | None = None) -> dict[str, str]:
        if not self.roles:
            return {}
        return served.key(role or self.roles[0])


def get_operations(app: FastAPI) -> list[Operation]:
    return [
        Operation(path, tuple(get.get("x-roles") or ()), tuple(get.get("parameters", ())))
        for path, operations in app.openapi()["paths"].items()
        if (get := operations.get("get")) is not None
    ]


@st.composite
def requests(
    draw: st.DrawFn, served: Served, operation: Operation, target: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(url, query, headers) of ``operation``: ``target`` odd, each other parameter valid
    or omitted (if it may be: an odd one would mask the target, since every parameter is
    validated before the route runs); a key of a role the route admits."""
    values: dict[str, Any] = {}
    for parameter in operation.parameters:
        name, schema = parameter["name"], parameter["schema"]
        valid = valid_values(served, name, schema)
        if parameter is target:
            value = draw(odd_values(served, parameter))
        elif valid and (parameter.get("required") or draw(st.booleans())):
            value = draw(st.sampled_from(valid))
        else:
            continue
        is_list = any(o.get("type") == "array" for o in schema.get("anyOf", [schema]))
        values[name] = (
            [*draw(st.lists(st.sampled_from(valid or [value]))), value] if (is_list) else value
        )
    role = draw(st.sampled_from(operation.roles)) if operation.roles else None
    url, query = operation.request(served, values)
    return url, query, operation.headers(served, role)


EXAMPLES_PER_PARAMETER = 30


def answered_on_purpose(status: int, body: Any, headers: Any) -> bool:
    """Below 500, or the documented 503 of a position not reached in time."""
    if status < 500:
        return True
    return (
        status == 503
        and isinstance(body, dict)
        and body.get("error") == "not_yet_consistent"
        and "retry-after" in headers
    )


def is_our_error(body: Any) -> bool:
    return isinstance(body, dict) and {"error", "detail", "problems"} <= set(body)


def test_no_get_route_answers_5xx_whatever_its_parameters(served: Served) -> None:
    """For each parameter of each GET route in turn: Hypothesis sends it odd values of its
    kind and of any kind, with the route's other parameters valid, odd or absent."""
    operations = get_operations(served.client.app)  # type: ignore[arg-type]
    assert {"/v1/complaints", "/v1/admin/access-log", "/v1/what-if"} <= {o.path for o in operations}
    failing = []
    for operation in operations:
        for target in operation.parameters:
            try:
                never_5xx(served, requests(served, operation, target))
            except Exception as error:  # every parameter is searched, then all are reported
                failing.append(f"GET {operation.path} {target['name']}: {error}")
    assert failing == []


def test_every_get_route_refuses_a_query_parameter_it_does_not_declare(served: Served) -> None:
    """Issue 15's example: ``classification=complaint`` where no such filter exists was
    ignored and the answer looked valid. Every GET route, with its required parameters
    valid, answers 422 naming the parameter it does not take."""
    operations = get_operations(served.client.app)  # type: ignore[arg-type]
    wrong = []
    for operation in operations:
        values = {
            p["name"]: (valid_values(served, p["name"], p.get("schema", {})) or ["x"])[0]
            for p in operation.parameters
            if p.get("required")
        }
        url, query = operation.request(served, values)
        query["classification_typo"] = "complaint"
        answer = served.client.get(url, params=query, headers=operation.headers(served))
        body = answer.json() if "json" in answer.headers.get("content-type", "") else None
        named = isinstance(body, dict) and "classification_typo" in str(body.get("detail"))
        if answer.status_code != 422 or not named:
            wrong.append((operation.path, answer.status_code, answer.text[:200]))
    assert len(operations) > 20
    assert wrong == []


def never_5xx(
    served: Served, requests: st.SearchStrategy[tuple[str, dict[str, Any], dict[str, str]]]
) -> None:
    @given(requests)
    @settings(
        max_examples=EXAMPLES_PER_PARAMETER,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(request: tuple[str, dict[str, Any], dict[str, str]]) -> None:
        url, query, headers = request
        answer = served.client.get(url, params=query, headers=headers)
        body = answer.json() if "json" in answer.headers.get("content-type", "") else None
        assert answered_on_purpose(answer.status_code, body, answer.headers), (
            answer.status_code,
            answer.text[:300],
        )
        if answer.status_code >= 400:
            assert is_our_error(body), body

    check()


def test_every_parameter_of_every_get_route_takes_every_edge_value(served: Served) -> None:
    """Each parameter in turn gets each edge value, the others valid (required ones) or
    absent: every combination, not a sample."""
    operations = get_operations(served.client.app)  # type: ignore[arg-type]
    edges = edge_values(served)
    wrong, sent = [], 0
    for operation in operations:
        valid = {
            p["name"]: valid_values(served, p["name"], p["schema"])[0]
            for p in operation.parameters
            if p.get("required")
        }
        for parameter in operation.parameters:
            for value in edges:
                url, query = operation.request(served, {**valid, parameter["name"]: value})
                answer = served.client.get(url, params=query, headers=operation.headers(served))
                sent += 1
                body = answer.json() if "json" in answer.headers.get("content-type", "") else None
                if not answered_on_purpose(answer.status_code, body, answer.headers) or (
                    answer.status_code >= 400 and not is_our_error(body)
                ):
                    wrong.append((url, query, answer.status_code, answer.text[:200]))
    assert sent > 1000
    assert wrong == []


# -- the issue's values ----------------------------------------------------------------------

LOW, HIGH = "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"


ISSUE_VALUES: list[tuple[str, dict[str, Any], str]] = [
    ("/v1/complaints", {"opened_from": LOW}, "opened_from"),
    ("/v1/complaints", {"opened_to": HIGH}, "opened_to"),
    ("/v1/complaints", {"opened_from": LOW, "format": "csv"}, "opened_from"),
    ("/v1/customers/{customer}", {"as_of": LOW}, "as_of"),
    ("/v1/customers/{customer}", {"as_of": HIGH}, "as_of"),
    ("/v1/cases/{case}", {"as_of": LOW}, "as_of"),
    ("/v1/cases/{case}", {"as_of": HIGH}, "as_of"),
    ("/v1/cases/{case}", {"as_of": "²"}, "as_of"),
    ("/v1/cases/{case}", {"as_of": "9" * 20}, "as_of"),
    ("/v1/cases/{case}", {"as_of": "9999-12-31"}, "as_of"),
    ("/v1/cases/{case}", {"recorded_as_of": LOW}, "recorded_as_of"),
    ("/v1/cases/{case}", {"recorded_as_of": HIGH}, "recorded_as_of"),
    ("/v1/cases/{case}", {"recorded_as_of": "3"}, "recorded_as_of"),
    ("/v1/what-if", {"policy_version": "2026.1", "opened_from": LOW, "opened_to": HIGH}, "opened"),
    ("/v1/admin/access-log", {"since": LOW}, "since"),
    ("/v1/admin/access-log", {"since": HIGH}, "since"),
    ("/v1/admin/access-log", {"cursor": "9" * 20}, "cursor"),
    ("/v1/admin/access-log", {"cursor": "9" * 19}, "cursor"),
    ("/v1/complaints", {"cursor": "garbage"}, "cursor"),
    ("/v1/complaints", {"cursor": _b64([2**63, "x"])}, "cursor"),
    ("/v1/complaints", {"cursor": _b64([2**64 - 1, "x"])}, "cursor"),
    ("/v1/complaints", {"cursor": _b64(["x", NO_CASE]), "sort": "priority"}, "cursor"),
    ("/v1/complaints", {"cursor": _b64([1, NO_CASE])}, "cursor"),
    ("/v1/complaints", {"cursor": _b64([True, NO_CASE]), "sort": "breaches"}, "cursor"),
    ("/v1/complaints", {"cursor": _b64(["a\x00", "x\x00"])}, "cursor"),
    ("/v1/kpis/explain", {"metric": "contacts", "day": "9999-12-31"}, "day"),
    ("/v1/kpis/explain", {"metric": "contacts", "day": "2026-11-02", "cursor": "9" * 20}, "cursor"),
    ("/v1/cases/{case}/history", {"cursor": "9" * 30}, "cursor"),
    ("/v1/complaints", {"consistent_with": "{topic}:99999999999999999999:0"}, "consistent_with"),
    ("/v1/complaints", {"consistent_with": "{topic}:0:99999999999999999999"}, "consistent_with"),
    ("/v1/complaints", {"consistent_with": "{topic}:²:0"}, "consistent_with"),
    ("/v1/complaints", {"consistent_with": "elsewhere:0:0"}, "consistent_with"),
    ("/v1/complaints", {"consistent_with": "t\x00x:0:0"}, "consistent_with"),
    ("/v1/complaints", {"channel": "a\x00b"}, "channel"),
    ("/v1/admin/access-log", {"subject": "customer:\x00"}, "subject"),
    ("/v1/customers/a%00b", {}, "path"),
]


@pytest.mark.parametrize(
    ("path", "query", "named"),
    ISSUE_VALUES,
    ids=[f"{i}-{named}" for i, (_, _, named) in enumerate(ISSUE_VALUES)],
)
def test_an_out_of_range_parameter_is_a_422_naming_it(
    served: Served, path: str, query: dict[str, Any], named: str
) -> None:
    journey, topic = served.journey, served.runtime.topics.ingress[0]
    url = path.format(customer=journey.customer, case=journey.case)
    query = {k: v.replace("{topic}", topic) for k, v in query.items()}
    answer = served.client.get(url, params=query, headers=served.key("admin"))
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert re.search(rf"\b{named}", body["detail"]), body


# -- an event that no longer decodes -----------------------------------------------------------


def test_a_case_with_an_undecodable_event_is_a_problem_not_a_500_on_every_route(
    served: Served,
) -> None:
    """The case's history lists the event as undecodable and verify reports it (200); what
    needs every event decoded — its state, its explanation (which must not leave an event
    out), a what-if replay — answers 409 ``history_damaged``."""
    journey, admin = served.journey, served.key("admin")
    history = served.client.get(f"/v1/cases/{journey.case}/history", headers=admin).json()
    version = history["events"][1]["version"]
    EventTable(served.runtime).set_state(Case.create_id(journey.case), version, b"{not json")

    history = served.client.get(f"/v1/cases/{journey.case}/history", headers=admin)
    assert history.status_code == 200
    assert history.json()["events"][version - 1]["kind"] == "undecodable"
    verify = served.client.get(f"/v1/cases/{journey.case}/verify", headers=admin)
    assert (verify.status_code, verify.json()["ok"]) == (200, False)
    for url, query in [
        (f"/v1/cases/{journey.case}", {}),
        (f"/v1/complaints/{journey.case}/explain", {}),
        ("/v1/what-if", {"policy_version": "2027.1-draft", "case_ref": journey.case}),
    ]:
        answer = served.client.get(url, params=query, headers=admin)
        assert answer.status_code == 409, (url, answer.text)
        assert answer.json()["error"] == "history_damaged"
        assert f"version {version} of {Case.create_id(journey.case)}" in answer.json()["detail"]


def test_explaining_a_customer_with_an_undecodable_event_is_a_problem_not_a_500(
    served: Served,
) -> None:
    url, admin = f"/v1/customers/{served.journey.customer}/explain", served.key("admin")
    event = served.client.get(url, headers=admin).json()["events"][0]
    aggregate_id, version = UUID(event["aggregate_id"]), event["version"]
    EventTable(served.runtime).set_state(aggregate_id, version, b"\xff")

    answer = served.client.get(url, headers=admin)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "history_damaged"
    assert f"version {version} of {aggregate_id}" in answer.json()["detail"]

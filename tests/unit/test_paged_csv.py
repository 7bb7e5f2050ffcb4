"""``format=csv`` on a list answered a page at a time exports every row of every page, not
the page asked (issue 15, item 6; ``api.paged_csv``), and its JSON pages are as they were.

Driven from the route table: every GET route that takes a ``cursor`` is found, and each
whose CSV is the one ``ProtectedRoute`` declares is called over a stored list longer than
one page (the journey's events, reads in the access log, parked events, quarantined ones,
dead letters): its CSV holds every row of its JSON pages walked by ``next_cursor``, in
order, read a row at a time (``CSV_PAGE`` is 1 here). A new paged route fails this test
until its list is filled here (``filled``), or it declares an export of its own and is
named in ``OWN_EXPORT``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

import api.csv_export
from adapters.sourcelog.base import OutgoingRecord, TopicPartition
from api.csv_export import table_cells
from api.main import create_api
from api.paged_csv import paged_table
from journey.bootstrap import Runtime
from projections.quarantine import Held
from tests.builders.apps import embedded_runtime
from tests.builders.parking import callback
from tests.e2e.journey_script import Journey, script
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything, project_everything
from tests.unit.feeding import Feed

OWN_EXPORT = {
    "/v1/complaints": "tests/unit/test_overdue_clocks.py, tests/integration/test_erasure.py",
    "/v1/orders": "tests/integration/test_orders_routes.py",
    "/v1/returns": "tests/integration/test_orders_routes.py",
    "/v1/cases/{case_ref}/history": "tests/integration/test_verify_all.py",
    "/v1/audit/{kind}/{ref}/history": "tests/integration/test_verify_all.py",
    "/v1/what-if": "tests/unit/test_what_if_route.py",
}
"""Paged routes that declare ``format`` themselves (a read model's listing streamed by
``api.csv_export.export_pages``, a history, what-if) and where their whole export is
tested."""

CHANNEL = "test-channel"
"""The publishing system of the dead letters (``tests.factories``) and the channel key's."""


class Served:
    def __init__(self, runtime: Runtime, client: TestClient, journey: Journey) -> None:
        self.runtime, self.client, self.journey = runtime, client, journey
        self.keys: dict[str, dict[str, str]] = {}

    def headers(self, route: APIRoute) -> dict[str, str]:
        role = (route.openapi_extra or {})["x-roles"][0]
        if role not in self.keys:
            source = CHANNEL if role == "channel" else None
            secret = self.runtime.api_keys.create(role, source=source).secret_text
            self.keys[role] = {"Authorization": f"Bearer {secret}"}
        return self.keys[role]


def filled(served: Served, route: RouteContext) -> tuple[str, dict[str, str]]:
    """The path and required query of ``route`` over a list longer than one page."""
    journey = served.journey
    paths = {"case_ref": journey.case, "customer_id": journey.customer}
    query = {"metric": "contacts", "day": "2026-11-04"} if route.path == "/v1/kpis/explain" else {}
    return str(route.path).format(**paths), query


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("paged-csv")
    runtime = embedded_runtime(folder)
    journey = script()
    with TestClient(create_api(runtime, workers=set())) as client:
        made = Served(runtime, client, journey)
        channel = {"Authorization": f"Bearer {runtime.api_keys.create('channel').secret_text}"}
        answer = client.post("/v1/events", json=journey.events, headers=channel)
        assert answer.status_code == 202, answer.text
        # Dead letters: records of a type nobody knows, from the channel.
        topic = runtime.topics.for_type("contact.opened")
        refused = [contact_opened(customer_id=unique("cust-")) for _ in range(3)]
        for body in refused:
            body["type"] = "contact.teleported"
        runtime.publisher.publish_many(
            [OutgoingRecord(topic, b["customer_id"].encode(), orjson.dumps(b)) for b in refused]
        )
        ingest_everything(runtime)
        # Parked: callbacks for an order that has not come (on a partition of their own).
        parked = Feed(runtime.app, TopicPartition("journey.engagement", 9)).batch(
            *(callback(f"o-{unique('')}", n, unique("ev-")) for n in range(3))
        )
        assert len(parked.parked) == 3
        project_everything(runtime)
        for n in range(3):  # held by a read model that could not apply them
            held = Held(n + 1, f"aggregate-{n}", 1, "domain.case:Case.Opened")
            runtime.quarantine.hold("probe", held, ValueError("cannot apply"))
        auditor = {"Authorization": f"Bearer {runtime.api_keys.create('auditor').secret_text}"}
        for _ in range(3):  # reads of a case history: the access log
            read = client.get(f"/v1/cases/{journey.case}/history", headers=auditor)
            assert read.status_code == 200, read.text
        yield made
    runtime.close()


def paged_routes(served: Served) -> list[RouteContext]:
    return [
        c
        for c in iter_route_contexts(served.client.app.routes)  # type: ignore[attr-defined]
        if isinstance(c.original_route, APIRoute)
        and "GET" in (c.methods or ())
        and "cursor" in {p.alias for p in c.dependant.query_params}
    ]


def rows(answer: Any) -> list[list[str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(answer.text)))


def test_a_csv_export_of_a_paged_list_holds_every_row_of_every_page(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.csv_export, "CSV_PAGE", 1)  # read a row at a time
    routes = paged_routes(served)
    own = {str(c.path) for c in routes if "format" in _endpoint_parameters(c)}
    assert own == set(OWN_EXPORT), "a paged route with its own export: name it in OWN_EXPORT"
    generic = [c for c in routes if str(c.path) not in own]
    assert len(generic) >= 8
    for context in generic:
        exports_every_page(served, context)


def exports_every_page(served: Served, context: RouteContext) -> None:
    """The route's JSON pages walked with ``limit=1`` hold more than one page; its CSV holds
    every row of them, whatever ``cursor`` and ``limit`` say."""
    route = context.original_route
    assert isinstance(route, APIRoute)
    table = paged_table(route.response_model)
    assert table is not None, context.path
    path, query = filled(served, context)
    headers = served.headers(route)

    def get(**extra: Any) -> Any:
        return served.client.get(path, params={**query, **extra}, headers=headers)

    pages = [get(limit=1)]
    while (page := pages[-1]).status_code == 200 and page.json()["next_cursor"]:
        assert len(pages) < 100, context.path
        pages.append(get(limit=1, cursor=page.json()["next_cursor"]))
    assert all(p.status_code == 200 for p in pages), (context.path, pages[-1].text)
    listed = [row for p in pages for row in p.json()[table.field]]
    assert len(pages) > 1, f"{context.path}: fill its list with more than one page"
    assert len(pages[0].json()[table.field]) < len(listed), context.path
    flatten = table_cells(table.columns)
    expected = [[_text(cell) for cell in flatten(row)] for row in listed]

    for asked in ({}, {"limit": 1}, {"limit": 1, "cursor": pages[0].json()["next_cursor"]}):
        exported = rows(get(format="csv", **asked))
        assert exported[0] == list(table.columns), context.path
        assert exported[1:] == expected, (context.path, asked)


def test_a_list_that_is_not_paged_exports_the_answer_as_before(served: Served) -> None:
    """The admin's keys: one list, no ``next_cursor``; its CSV is the answer's list."""
    route = next(
        c.original_route
        for c in iter_route_contexts(served.client.app.routes)  # type: ignore[attr-defined]
        if c.path == "/v1/admin/keys" and "GET" in (c.methods or ())
    )
    assert isinstance(route, APIRoute)
    headers = served.headers(route)
    listed = served.client.get("/v1/admin/keys", headers=headers).json()["items"]
    exported = rows(served.client.get("/v1/admin/keys", params={"format": "csv"}, headers=headers))
    assert [r[0] for r in exported[1:]] == [k["key_id"] for k in listed]


def _endpoint_parameters(context: RouteContext) -> set[str]:
    """The query parameters the route's endpoint declares itself (not its dependencies')."""
    return {p.alias for p in context.dependant.query_params}


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell)

"""``GET /v1/what-if`` over a period, a page at a time (issue 15, item 6): the pages of any
size, walked by ``next_cursor``, are one run over the whole period; ``format=csv`` holds the
differences of every page; a cursor that is not one is a 422 problem, never a 500
(R-CH-02)."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import api.routes.cases
from api.main import create_api
from journey.bootstrap import Runtime
from tests.builders.apps import embedded_runtime
from tests.builders.what_if import DRAFT, HOUR, T0, complaint
from tests.integration.drive import project_everything
from tests.unit.feeding import Feed

OPENINGS = (0, 0, 1, 1, 1, 2, 3)
"""Hours after T0 the complaints open (a contact and a case each): ties in opening time."""
PERIOD = {"opened_from": T0.isoformat(), "opened_to": (T0 + 4 * HOUR).isoformat()}
WHAT_IF = {"policy_version": DRAFT.version, **PERIOD}
EVERY = 2 * len(OPENINGS)


class Served:
    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        self.client = client
        secret = runtime.api_keys.create("auditor").secret_text
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, **query: Any) -> Any:
        return self.client.get("/v1/what-if", params=query, headers=self.headers)

    def page(self, **query: Any) -> dict[str, Any]:
        answer = self.get(**query)
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("what-if")
    runtime = embedded_runtime(folder)
    feed = Feed(runtime.app)
    for n, hours in enumerate(OPENINGS):
        complaint(
            feed, f"w{n}", update_after=18 * HOUR if n % 2 else 6 * HOUR, at=T0 + hours * HOUR
        )
    project_everything(runtime)
    with TestClient(create_api(runtime, workers=set())) as client:
        yield Served(runtime, client)
    runtime.close()


def walk(served: Served, limit: int) -> list[dict[str, Any]]:
    pages = [served.page(**WHAT_IF, limit=limit)]
    while pages[-1]["next_cursor"] is not None:
        assert len(pages) <= EVERY
        pages.append(served.page(**WHAT_IF, limit=limit, cursor=pages[-1]["next_cursor"]))
    return pages


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(1, EVERY + 1))
def test_the_pages_walked_by_next_cursor_are_one_run_over_the_period(
    served: Served, limit: int
) -> None:
    whole = served.page(**WHAT_IF, limit=5000)
    assert (whole["replayed"], whole["next_cursor"]) == (EVERY, None)
    pages = walk(served, limit)
    assert all(p["replayed"] == limit for p in pages[:-1])
    assert sum(p["replayed"] for p in pages) == EVERY
    assert [a for p in pages for a in p["aggregates"]] == whole["aggregates"]
    for figure in ("differing", "newly_breached", "no_longer_breached"):
        assert sum(p[figure] for p in pages) == whole[figure]
    assert whole["newly_breached"] == sum(n % 2 for n in range(len(OPENINGS)))


def test_the_csv_holds_the_differences_of_every_page(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export reads the period a page at a time (two aggregates here) and writes every
    page's differences, whatever ``cursor`` and ``limit`` say."""
    monkeypatch.setattr(api.routes.cases, "CSV_PAGE", 2)
    whole = served.page(**WHAT_IF, limit=5000)
    expected = [
        [a["aggregate_id"], a["ref"], d["key"], d["change"]]
        for a in whole["aggregates"]
        for d in a["differences"]
    ]
    cursor = served.page(**WHAT_IF, limit=1)["next_cursor"]
    answer = served.get(**WHAT_IF, limit=1, cursor=cursor, format="csv")
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [[r["aggregate_id"], r["ref"], r["key"], r["change"]] for r in rows] == expected
    assert len(expected) > 2


def opaque(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode()


NOT_CURSORS = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
    st.builds(
        opaque,
        st.one_of(
            st.lists(
                st.one_of(st.none(), st.integers(-(2**63), 2**63), st.text(max_size=40)), max_size=3
            ),
            st.tuples(
                st.sampled_from(
                    [
                        "0001-01-01T00:00:00+14:00",
                        "2026-03-02T01:30:00",
                        "9999-12-31T23:59:59-10:00",
                    ]
                ),
                st.uuids().map(str),
            ).map(list),
        ),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cursor=NOT_CURSORS)
def test_a_cursor_that_is_not_one_is_a_422_problem_never_a_500(served: Served, cursor: str) -> None:
    answer = served.get(**WHAT_IF, cursor=cursor)
    if answer.status_code == 200:  # a position after all: any page of the period
        assert set(answer.json()) >= {"aggregates", "next_cursor"}
        return
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["error"] in ("invalid_cursor", "invalid_request")


def test_a_cursor_pages_a_period_not_one_case(served: Served) -> None:
    cursor = served.page(**WHAT_IF, limit=1)["next_cursor"]
    answer = served.get(policy_version=DRAFT.version, case_ref="w1", cursor=cursor)
    assert answer.status_code == 422, answer.text
    assert served.page(policy_version=DRAFT.version, case_ref="w1")["next_cursor"] is None

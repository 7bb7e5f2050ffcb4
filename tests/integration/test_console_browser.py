"""The console in a real headless Chromium against a real ``journey serve`` seeded with a
simulation (issue 16): each role sees only its pages; the overview's figures are the
API's; the ledger filters and downloads CSV; a case shows its timeline, verify reports a
tampered event, what-if highlights differences; customer data is masked as the API masks
it; an admin replays a dead letter and follows a rebuild. Every page's screenshot is kept
under .run/screenshots/."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.alert import Alert
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import Select

from domain.case import Case
from tests.e2e.journey_service import Running
from tests.integration.browser import Console, browser
from tests.integration.console_server import seeded_service
from tests.integration.metrics_text import samples

PAGES = {
    "channel": ["own-deadletters"],
    "analyst": ["overview", "ledger", "customer", "orders"],
    "auditor": ["overview", "ledger", "case", "customer", "orders"],
    "admin": [
        *("overview", "ledger", "case", "customer", "orders"),
        *("deadletters", "rebuilds", "keys", "access-log"),
    ],
}
DRAFT = "2027.1-draft"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Path]]:
    with seeded_service(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
def running(served: tuple[Running, Path]) -> Running:
    return served[0]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with browser(tmp_path_factory.mktemp("downloads")) as made:
        yield made


def api(running: Running, role: str, path: str, **params: Any) -> Any:
    answer = httpx.get(
        f"{running.url}{path}", params=params, headers=running.auth(role), timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json() if "json" in answer.headers["content-type"] else answer.text


def cells(console: Console, table: str, column: int) -> list[str]:
    return [td.text for td in console.all(f"#{table} tbody tr td:nth-child({column})")]


@pytest.mark.parametrize("role", list(PAGES))
def test_each_role_sees_only_its_pages(console: Console, running: Running, role: str) -> None:
    first = console.sign_in(running.url, running.keys[role])
    assert first == PAGES[role][0]
    assert console.nav() == PAGES[role]
    assert console.find("#who").get_attribute("data-role") == role
    console.screenshot(f"signed-in-{role}")
    forbidden = "keys" if role != "admin" else "own-deadletters"
    console.open(PAGES[role][-1])
    console.driver.execute_script("delete document.getElementById('page').dataset.loaded")
    console.driver.get(f"{running.url}/#/{forbidden}")
    console.loaded(PAGES[role][0])  # a page the role may not see shows its first page


def test_overview_figures_equal_the_apis(console: Console, running: Running) -> None:
    console.sign_in(running.url, running.keys["analyst"])
    console.loaded("overview")
    row = api(running, "analyst", "/v1/kpis")["rows"][0]
    for name in ("response_rate", "fcr_rate", "return_rate", "csat", "nps", "complaint_rate"):
        shown = json.loads(console.find(f"#tile-{name}").get_attribute("data-value") or "")
        assert shown == (None if row[name] is None else pytest.approx(row[name])), name
        state = console.find(f"#tile-{name}").get_attribute("class") or ""
        target = row["targets"].get(name)
        if target and target["met"] is not None:
            assert ("met" if target["met"] else "missed") in state.split(), name
    breaches = dict(zip(cells(console, "breaches", 1), cells(console, "breaches", 2), strict=True))
    assert breaches == {rule: str(n) for rule, n in row["breaches"].items()}
    days = [r["day"] for r in api(running, "analyst", "/v1/kpis", group_by="day")["rows"]]
    funnel = api(running, "analyst", "/v1/kpis/funnel", start=days[0], end=days[-1])
    stages = console.find("#funnel").text
    for stage, contacts in funnel["stages"].items():
        assert f"{stage} {contacts}" in stages
    console.find("#tile-response_rate a").click()
    explained = api(
        running, "analyst", "/v1/kpis/explain", metric="responses_in_target", day=days[-1]
    )
    console.wait(
        lambda d: console.find("#explain").text.startswith(f"{explained['count']} events"),
        "the explanation",
    )
    console.screenshot("overview")


def test_the_ledger_filters_pages_and_downloads_csv(console: Console, running: Running) -> None:
    console.sign_in(running.url, running.keys["analyst"])
    console.open("ledger")
    everything = api(running, "analyst", "/v1/complaints", limit=50)
    assert cells(console, "ledger", 1) == [c["case_ref"] for c in everything["items"]]
    Select(console.find("#ledger-filters select[name=breached]")).select_by_value("true")
    Select(console.find("#ledger-filters select[name=sort]")).select_by_value("-breaches")
    before = console.find("#ledger-rows").get_attribute("data-loaded")
    console.find("#ledger-filters button[type=submit]").click()
    console.wait(
        lambda d: console.find("#ledger-rows").get_attribute("data-loaded") != before,
        "the filtered ledger",
    )
    breached = api(
        running, "analyst", "/v1/complaints", limit=50, breached="true", sort="-breaches"
    )
    assert breached["items"], "the simulation has breached cases"
    assert cells(console, "ledger", 1) == [c["case_ref"] for c in breached["items"]]
    console.screenshot("ledger")
    console.find("#csv").click()
    path = console.downloads / "complaints.csv"
    console.wait(lambda d: path.is_file() and path.stat().st_size > 0, "the CSV download")
    expected = api(
        running, "analyst", "/v1/complaints", format="csv", breached="true", sort="-breaches"
    )
    downloaded = list(csv.reader(io.StringIO(path.read_text())))
    assert downloaded == list(csv.reader(io.StringIO(expected)))


def tamper(data: Path, case_ref: str) -> None:
    """Rewrites the case's first stored event behind the application's back."""
    with sqlite3.connect(data / "events.sqlite") as db:
        where = "originator_id = ? AND originator_version = 1"
        (state,) = db.execute(
            f"SELECT state FROM stored_events WHERE {where}", (Case.create_id(case_ref).hex,)
        ).fetchone()
        altered = bytes(state).replace(b'"demand":"', b'"demand":"(altered) ', 1)
        assert altered != state
        db.execute(
            f"UPDATE stored_events SET state = ? WHERE {where}",
            (altered, Case.create_id(case_ref).hex),
        )


def test_a_case_shows_its_timeline_and_verify_reports_tampering(
    console: Console, served: tuple[Running, Path]
) -> None:
    running, data = served
    ref = api(running, "auditor", "/v1/complaints", limit=1, sort="-opened_at")["items"][0]
    ref = ref["case_ref"]
    history = api(running, "auditor", f"/v1/cases/{ref}/history")["events"]
    console.sign_in(running.url, running.keys["auditor"])
    console.open("case", ref)
    assert cells(console, "timeline", 1) == [str(e["version"]) for e in history]
    first = history[0]["source"]
    assert (
        f"{first['topic']}[{first['partition']}]@{first['offset']}"
        in cells(console, "timeline", 6)[0]
    )
    console.find("#verify").click()
    ok = console.shown("#verify-result p[data-ok]")
    assert ok.get_attribute("data-ok") == "true", ok.text
    tamper(data, ref)
    console.find("#verify").click()
    console.wait(
        lambda d: console.all("#verify-result p[data-ok=false]"), "verify to report tampering"
    )
    assert "event version 1 is altered" in console.find("#verify-result").text
    console.screenshot("case-tampered")


def test_a_case_as_of_a_version_and_what_if_highlighting_the_differences(
    console: Console, running: Running
) -> None:
    everything = api(
        running,
        "auditor",
        "/v1/what-if",
        policy_version=DRAFT,
        opened_from="2020-01-01T00:00:00+00:00",
        opened_to="2100-01-01T00:00:00+00:00",
    )
    refs = [a["ref"] for a in everything["aggregates"]]
    cases = [c["case_ref"] for c in api(running, "auditor", "/v1/complaints", limit=500)["items"]]
    ref = next(r for r in refs if r in cases)
    expected = [a for a in everything["aggregates"] if a["ref"] == ref]
    console.sign_in(running.url, running.keys["auditor"])
    console.open("case", ref)
    first = api(running, "auditor", f"/v1/cases/{ref}", as_of="1")
    console.find("input[name=as_of]").send_keys("1")
    console.find("#show-as-of").click()
    console.wait(lambda d: console.find("#case-state").get_attribute("data-as-of") == "1", "as of")
    assert f"status\n{first['status']}" in console.find("#case-state dl").text
    assert f"version\n{first['version']}" in console.find("#case-state dl").text
    Select(console.find("select[name=policy_version]")).select_by_value(DRAFT)
    console.find("#what-if").click()
    rows = console.wait(lambda d: console.all("#what-if-diffs tr.diff"), "the differences")
    assert len(rows) == sum(len(a["differences"]) for a in expected)
    assert [r.find_element("css selector", "td:nth-child(4)").text for r in rows] == [
        d["change"] for a in expected for d in a["differences"]
    ]
    console.screenshot("case-what-if")


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_customer_360_is_masked_as_the_api_masks_it(
    console: Console, running: Running, role: str
) -> None:
    customer = api(running, "analyst", "/v1/complaints", limit=1)["items"][0]["customer_id"]
    view = api(running, role, f"/v1/customers/{customer}")
    console.sign_in(running.url, running.keys[role])
    console.open("customer", customer)
    profile = console.find("#profile").text
    for value in view["profile"]["personal"].values():
        if isinstance(value, str):
            assert value in profile
    assert ("•" in profile) == (role == "analyst")
    console.screenshot(f"customer-{role}")


def test_an_admin_replays_a_dead_letter_and_follows_a_rebuild(
    console: Console, running: Running
) -> None:
    letters = api(running, "admin", "/v1/admin/deadletters", limit=50)
    assert letters["items"], "the simulation's bad records are dead letters"
    console.sign_in(running.url, running.keys["admin"])
    console.open("deadletters")
    assert cells(console, "deadletters", 1) == [x["dead_letter"] for x in letters["items"]]
    console.all("#deadletters tbody tr")[0].click()
    console.shown("#replay").click()
    console.wait(expected.alert_is_present(), "the replay's confirmation")
    Alert(console.driver).accept()
    done = console.shown("#replay-result p[data-replayed-to]")
    topic, partition, offset = str(done.get_attribute("data-replayed-to")).rsplit(":", 2)
    assert topic == letters["items"][0]["source_topic"]
    console.screenshot("deadletters")

    def consumed() -> bool:
        metrics = samples(httpx.get(f"{running.url}/metrics", timeout=10).text)
        labels = frozenset({("partition", partition), ("topic", topic)})
        return metrics.get(("journey_ingest_stored_offset", labels), -1) > int(offset)

    console.wait(lambda d: consumed(), "the ingest to consume the replayed record")

    console.open("rebuilds")
    console.find("#rebuild-start input").send_keys("complaint_ledger")
    console.find("#rebuild-start button").click()
    console.wait(lambda d: "swapped" in cells(console, "rebuilds", 3), "the rebuild to swap", 120)
    console.screenshot("rebuilds")
    for page in ("keys", "access-log", "orders"):
        console.open(page)
        console.screenshot(page)
    keys = api(running, "admin", "/v1/admin/keys")["items"]
    console.open("keys")
    assert sorted(cells(console, "keys", 1)) == sorted(k["key_id"] for k in keys)


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_the_api_documentation_renders_offline(
    console: Console, running: Running, page: str
) -> None:
    console.driver.get(f"{running.url}/{page}")
    ready = ".swagger-ui .info .title" if page == "docs" else ".api-info h1, h1"
    console.shown(ready)
    console.screenshot(page)


def test_a_channel_key_naming_its_source_sees_its_own_dead_letters(
    console: Console, running: Running
) -> None:
    made = httpx.post(
        f"{running.url}/v1/admin/keys",
        json={"role": "channel", "label": "console", "source": "journey-simulator"},
        headers=running.auth("admin"),
        timeout=30,
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    own = httpx.get(
        f"{running.url}/v1/deadletters",
        params={"limit": 50},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()
    assert own["items"]
    assert console.sign_in(running.url, key) == "own-deadletters"
    assert cells(console, "deadletters", 1) == [x["dead_letter"] for x in own["items"]]
    console.all("#deadletters tbody tr")[0].click()
    assert console.shown("#original").text == own["items"][0]["original"]
    assert not console.all("#replay")  # replaying is for admins
    console.screenshot("own-deadletters")

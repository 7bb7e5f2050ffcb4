"""The scaled deployment's monitoring (issue 17, item 6): docker/prometheus/prometheus.yml
and the Grafana provisioning under docker/grafana/, validated as the compose file is —
without an engine. Prometheus's own ``promtool`` checks the scrape configuration and parses
every PromQL expression of the dashboard (``scripts/promtool.sh`` unpacks it from the
Debian package when it is not on the PATH); the tests then tie each file to the compose
file (every scrape target is a compose service and the port it serves ``/metrics`` on; the
data source is the compose Prometheus; the mounts are where the provisioning looks) and
every metric name a panel asks for to a real scrape of the service."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_api
from journey.bootstrap import build
from journey.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
PROMETHEUS = DOCKER / "prometheus" / "prometheus.yml"
GRAFANA = DOCKER / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "journey.json"
PROMTOOL = ROOT / "scripts" / "promtool.sh"

WATCHED = {
    "journey_breached_deadlines",
    "journey_open_deadlines",
    "journey_overdue_deadlines",
    "journey_event_time_watermark_seconds",
    "journey_event_time_behind_seconds",
    "journey_parked_events",
    "journey_dead_letters_published_total",
    "journey_projection_lag",
    "journey_ingest_records_total",
}
"""What issue 17, item 5 says an operator watches: breaches by rule, open and overdue
clocks, the event-time watermark and its distance behind the wall clock, parked events,
dead letters by reason, lag per read model, and the ingest's throughput."""

SERVING = ("serve", "ingest", "project", "timer")
"""The commands whose processes serve ``/metrics``."""
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan",
}  # fmt: skip


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", str(PROMTOOL), *args], capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode == 3:
        reason = f"promtool could not be had: {result.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; it is required in CI")
        pytest.skip(reason)
    return result


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return dict(load_yaml(COMPOSE)["services"])


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def exposed(settings_env: dict[str, str]) -> set[str]:
    """Every sample name ``GET /metrics`` of a real embedded service can carry: each
    family the scrape declares, with its type's suffixes (a counter's ``_total``...)."""
    with patch.dict(os.environ, settings_env):
        runtime = build(Settings())
    try:
        runtime.create_topics()
        with TestClient(create_api(runtime, workers=set())) as client:
            answer = client.get("/metrics")
        assert answer.status_code == 200
        return {
            family.name + suffix
            for family in text_string_to_metric_families(answer.text)
            for suffix in SUFFIXES.get(family.type, ("",))
        }
    finally:
        runtime.close()


def expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) of every target of every panel."""
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield panel["title"], target["expr"]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: what is left once strings, label
    matchers, ranges and grouping clauses are taken out, less functions and keywords."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    names = re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", bare)
    return {name for name in names if name.lower() not in PROMQL_WORDS}


def container_port(service: dict[str, Any]) -> int:
    [published] = service["ports"]
    return int(str(published).rpartition(":")[2])


def bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path → the file or folder of the repository mounted there."""
    mounts: dict[str, Path] = {}
    for volume in service["volumes"]:
        source, target, *_ = str(volume).split(":")
        if source.startswith("."):
            mounts[target] = (COMPOSE.parent / source).resolve()
    return mounts


# -- Prometheus ----------------------------------------------------------------------------------


def test_promtool_accepts_the_scrape_configuration() -> None:
    result = promtool("check", "config", str(PROMETHEUS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_refuses_a_broken_scrape_configuration(tmp_path: Path) -> None:
    broken = tmp_path / "prometheus.yml"
    broken.write_text(PROMETHEUS.read_text().replace("type: A", "type: BOGUS", 1))
    result = promtool("check", "config", str(broken))
    assert result.returncode != 0
    assert "BOGUS" in result.stdout + result.stderr


def test_every_scrape_target_is_a_compose_service_on_the_port_it_serves_metrics(
    services: dict[str, Any],
) -> None:
    """The API on its HTTP port, each worker on JOURNEY_METRICS_PORT; every process that
    runs ``journey serve``, ``ingest``, ``project`` or ``timer`` is scraped."""
    scraped: dict[str, int] = {}
    for job in load_yaml(PROMETHEUS)["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        for discovery in job["dns_sd_configs"]:
            assert discovery["type"] == "A"  # every replica of a scaled service
            for name in discovery["names"]:
                scraped[name] = discovery["port"]
    running = {
        name: service
        for name, service in services.items()
        if service.get("command", [])[:2] in [["journey", c] for c in SERVING]
    }
    assert set(scraped) == set(running)
    for name, service in running.items():
        if service["command"] == ["journey", "serve"]:
            assert scraped[name] == container_port(service) == Settings().port, name
        else:
            assert scraped[name] == int(service["environment"]["JOURNEY_METRICS_PORT"]), name


def test_prometheus_reads_this_configuration(services: dict[str, Any]) -> None:
    prometheus = services["prometheus"]
    [config] = [a for a in prometheus["command"] if a.startswith("--config.file=")]
    assert bind_mounts(prometheus)[config.partition("=")[2]] == PROMETHEUS
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", prometheus["image"])
    assert container_port(prometheus) == 9090


# -- Grafana -----------------------------------------------------------------------------------


def test_grafana_provisions_the_compose_prometheus_and_this_dashboard(
    services: dict[str, Any], dashboard: dict[str, Any]
) -> None:
    grafana = services["grafana"]
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", grafana["image"])
    mounts = bind_mounts(grafana)
    assert mounts["/etc/grafana/provisioning"] == GRAFANA / "provisioning"
    [source] = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == f"http://prometheus:{container_port(services['prometheus'])}"
    [provider] = load_yaml(GRAFANA / "provisioning" / "dashboards" / "journey.yml")["providers"]
    assert provider["type"] == "file"
    assert mounts[provider["options"]["path"]] == DASHBOARD.parent
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert mounts[str(Path(home).parent)] / Path(home).name == DASHBOARD
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"], panel["title"]


def test_the_dashboard_is_one_grid_of_distinct_panels(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"]
    assert dashboard["title"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len({p["title"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
        assert panel["targets"], panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])


def test_every_panel_asks_only_for_metrics_the_service_exposes(
    dashboard: dict[str, Any], exposed: set[str]
) -> None:
    used: set[str] = set()
    for title, expr in expressions(dashboard):
        names = metric_names(expr)
        assert names, f"{title}: {expr} selects no metric"
        assert names <= exposed, f"{title}: {sorted(names - exposed)} not exposed"
        used |= names
    assert exposed >= WATCHED  # the names below are the service's, not a stale list
    assert used >= WATCHED, f"no panel for {sorted(WATCHED - used)}"


def test_the_name_reader_finds_the_selectors_and_nothing_else() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{route="x(y)"}[5m])))'
        " / on (route) group_left b_total offset 5m + max without (job) (c) * 1000"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_promtool_parses_every_panel_s_promql(dashboard: dict[str, Any], tmp_path: Path) -> None:
    """Each expression as a recording rule (Grafana's ``$__rate_interval`` as 5m): promtool
    parses and type-checks it as Prometheus would."""
    rules = [
        {"record": f"journey:panel:{number}", "expr": expr.replace("$__rate_interval", "5m")}
        for number, (_, expr) in enumerate(expressions(dashboard))
    ]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
    path.write_text(path.read_text().replace("max by", "max by by", 1))
    assert promtool("check", "rules", str(path)).returncode != 0

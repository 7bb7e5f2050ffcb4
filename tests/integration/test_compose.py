"""docker/compose.yaml: validated without an engine by scripts/validate_compose.sh (its
Prometheus and Grafana files: test_monitoring.py).

The validator is `docker-compose config -q` (Debian 12 package docker-compose 1.29).
When it is missing the validation tests fail in CI (CI=true) and skip elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "validate_compose.sh"
COMPOSE = ROOT / "docker" / "compose.yaml"
APP_SERVICES = ("api", "ingest", "projector", "timer")
REQUIRED = re.compile(
    r"^\$\{(POSTGRES_PASSWORD|JOURNEY_MASTER_KEY|GRAFANA_ADMIN_PASSWORD):\?[^}]+\}$"
)


def _run_validator(path: Path | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("docker-compose") is None:
        reason = "docker-compose is not installed (scripts/validate_compose.sh installs it via apt)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; it is required in CI")
        pytest.skip(reason)
    args = ["bash", str(SCRIPT)] + ([str(path)] if path else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def test_compose_file_is_valid() -> None:
    result = _run_validator()
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    image: postgres:16\n", "    image: postgres:16\n    bogus_key: 1\n", "bogus_key"),
        ("service_completed_successfully", "service_finished", "service_finished"),
    ],
    ids=["unknown-key", "bad-depends-on-condition"],
)
def test_broken_compose_file_is_refused(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = COMPOSE.read_text()
    assert old in text
    broken = tmp_path / "compose.yaml"
    broken.write_text(text.replace(old, new, 1))
    result = _run_validator(broken)
    assert result.returncode != 0
    assert expected in result.stderr


def test_no_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


def test_app_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in APP_SERVICES:
        svc = services[name]
        assert svc["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}, name
        assert svc["depends_on"] == {
            "kafka": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
            "topics": {"condition": "service_completed_successfully"},
        }, name
    topics = services["topics"]
    assert topics["command"] == ["journey", "topics", "create"]
    assert topics["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert topics["restart"] == "no"


def test_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("kafka", "postgres", "api"):
        assert services[name]["healthcheck"]["test"], name
    assert "kafka-broker-api-versions.sh" in " ".join(services["kafka"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])


def test_postgres_password_is_required(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert REQUIRED.match(services["postgres"]["environment"]["POSTGRES_PASSWORD"])
    for name in ("topics", *APP_SERVICES):
        env = services[name]["environment"]
        assert REQUIRED.match(env["JOURNEY_POSTGRES_PASSWORD"]), name
        assert REQUIRED.match(env["JOURNEY_MASTER_KEY"]), name  # wraps the customer keys
    grafana = services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert REQUIRED.match(grafana)  # no default admin password on a published port


def test_api_only_serves_http(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["command"] == ["journey", "serve"]
    assert api["environment"]["JOURNEY_WORKERS"] == ""
    assert any(str(p).endswith(":8000") for p in api["ports"])


def test_images_and_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"] == "apache/kafka:3.9.1"
    assert services["postgres"]["image"] == "postgres:16"
    assert services["prometheus"]["image"] == "prom/prometheus:v2.55.1"
    assert services["grafana"]["image"] == "grafana/grafana:11.3.0"
    assert set(compose["volumes"]) == {
        "kafka-data",
        "postgres-data",
        "prometheus-data",
        "grafana-data",
    }


def test_every_process_judges_sla_clocks_on_event_time_by_default(
    compose: dict[str, Any],
) -> None:
    """One clock for every process (docs/operations.md, "Which clock in scaled mode"): the
    timer breaches by it and the API shows overdue by it, so it is set once, for all, on
    event time (SOP: times on event time; a replay decides as live) unless overridden."""
    services = compose["services"]
    for name in ("topics", *APP_SERVICES):
        assert services[name]["environment"]["JOURNEY_CLOCK"] == "${JOURNEY_CLOCK:-event_time}"


def test_the_workers_serve_metrics_for_prometheus(compose: dict[str, Any]) -> None:
    """docker/prometheus/prometheus.yml scrapes them there (test_monitoring.py)."""
    for name in ("ingest", "projector", "timer"):
        assert compose["services"][name]["environment"]["JOURNEY_METRICS_PORT"] == "9100"


def test_the_image_holds_every_package_the_project_installs() -> None:
    """docker/Dockerfile copies, and its .dockerignore lets through, each package that
    pyproject.toml installs: an image missing one (it once lacked adapters, contracts,
    application and tools) builds, and then every ``journey`` command fails to import."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", dockerfile, flags=re.MULTILINE))
    ignore = (ROOT / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
    let_through = {line[1:] for line in ignore if line.startswith("!")}
    assert packages == copied
    assert packages <= let_through

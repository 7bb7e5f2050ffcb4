"""The console's page and the API's documentation pages load every script and style sheet
from the service (npm packages vendored by scripts/console_assets.sh, licences kept), so
they work with no internet; without those files the service still serves its API and the
pages say how to fetch them. ``GET /v1/session`` tells the console a key's role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.security import ROLES
from api.console.assets import FETCH_HINT, VENDOR, Assets
from api.main import create_api
from journey.bootstrap import Runtime
from tests.integration.drive import make_runtime


@pytest.fixture(params=[pytest.param(("embedded", "sqlite"), id="sqlite")])
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    yield from make_runtime(request, tmp_path, settings_env)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    if not Assets(VENDOR).ready:
        pytest.skip(f"the console's assets are missing: run {FETCH_HINT} (make test does)")
    with TestClient(create_api(runtime, workers=set())) as test_client:
        yield test_client


def scripts_and_styles(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+\.(?:js|css))["']""", html)


@pytest.mark.parametrize("page", ["/", "/docs", "/redoc"])
def test_pages_load_only_files_the_service_serves(client: TestClient, page: str) -> None:
    answer = client.get(page)
    assert answer.status_code == 200
    urls = scripts_and_styles(answer.text)
    assert urls, answer.text
    for url in urls:
        assert url.startswith("/console/"), f"{page} loads {url} from elsewhere"
        assert client.get(url).status_code == 200, url
    assert "googleapis" not in answer.text
    assert "cdn." not in answer.text


def test_each_vendored_package_keeps_its_licence(client: TestClient) -> None:
    for name in ("echarts", "swagger-ui", "redoc"):
        licence = client.get(f"/console/vendor/{name}/LICENSE")
        assert licence.status_code == 200
        assert "License" in licence.text or "LICENSE" in licence.text


def test_without_assets_the_api_serves_and_the_pages_say_how_to_fetch_them(
    runtime: Runtime, tmp_path: Path
) -> None:
    app = create_api(runtime, workers=set(), assets=Assets(tmp_path / "none"))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        for page in ("/", "/docs", "/redoc"):
            answer = client.get(page)
            assert answer.status_code == 503
            assert FETCH_HINT in answer.text


def test_session_tells_each_key_its_role(client: TestClient, runtime: Runtime) -> None:
    for role in ROLES:
        key = runtime.api_keys.create(role)
        answer = client.get("/v1/session", headers={"Authorization": f"Bearer {key.secret_text}"})
        assert answer.status_code == 200
        assert answer.json()["role"] == role
        assert answer.json()["clear_personal_data"] == (role in {"auditor", "admin"})
    assert client.get("/v1/session").status_code == 401

"""Admin maintenance over HTTP: a rebuild started by POST /v1/admin/rebuilds reaches the
store's head and swaps in; it equals the live copy it replaced."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_api
from journey.bootstrap import Runtime
from tests.factories import unique
from tests.integration.drive import ingest_everything, project_everything, until
from tests.integration.personal_journeys import publish_journeys


def test_a_rebuild_started_over_http_swaps_in_an_equal_copy(runtime: Runtime) -> None:
    publish_journeys(runtime, unique("c-a-"), unique("c-b-"))
    ingest_everything(runtime)
    project_everything(runtime)
    admin = {"Authorization": f"Bearer {runtime.api_keys.create('admin').secret_text}"}
    with TestClient(create_api(runtime, workers=set())) as client:
        before = client.get("/v1/complaints", headers=admin).json()
        assert before["items"]
        started = client.post(
            "/v1/admin/rebuilds", json={"read_model": "complaint_ledger"}, headers=admin
        )
        assert started.status_code == 202, started.text
        job = started.json()["job_id"]

        def swapped() -> bool:
            state = client.get(f"/v1/admin/rebuilds/{job}", headers=admin).json()
            assert state["state"] != "failed", state
            return bool(state["state"] == "swapped")

        until(swapped, "the rebuild swapped in")
        done = client.get(f"/v1/admin/rebuilds/{job}", headers=admin).json()
        assert done["position"] == runtime.app.process_recorder.max_notification_id()
        assert client.get("/v1/complaints", headers=admin).json() == before
        listed = client.get("/v1/admin/rebuilds", headers=admin).json()["items"]
        assert [j["job_id"] for j in listed] == [job]
        unknown = client.post("/v1/admin/rebuilds", json={"read_model": "x"}, headers=admin)
        assert unknown.status_code == 422
        assert "complaint_ledger" in unknown.json()["detail"]
        assert client.get("/v1/admin/rebuilds/nope", headers=admin).status_code == 404

"""An analyst's desk over the API for the counts routes' tests: keys for a channel and an
analyst, source events with source attributes published and applied, and GETs that check
the status."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from journey.bootstrap import Runtime
from tests.factories import source_event, unique
from tests.integration.drive import ingest_everything, project_everything


class Desk:
    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        self.runtime = runtime
        self.client = client
        self.tag = unique("")
        self.channel = self.key(runtime, "channel")
        self.analyst = self.key(runtime, "analyst")

    @staticmethod
    def key(runtime: Runtime, role: str) -> dict[str, str]:
        secret = runtime.api_keys.create(role).secret_text  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {secret}"}

    def opened(self, n: int, classification: str, attributes: dict[str, str]) -> dict[str, Any]:
        data = {
            "contact_id": f"c{n}-{self.tag}",
            "classification": classification,
            "topic": "other",
        }
        body = source_event("contact.opened", data, customer_id=f"cust-{n}-{self.tag}")
        return {**body, "attributes": attributes}

    def get(self, path: str, status: int = 200, **query: Any) -> Any:
        answer = self.client.get(path, params=query, headers=self.analyst)
        assert answer.status_code == status, answer.text
        return answer

    def publish(self, bodies: list[dict[str, Any]]) -> None:
        """Publish ``bodies`` as the channel, then ingest and project them."""
        answer = self.client.post("/v1/events", json=bodies, headers=self.channel)
        assert answer.status_code == 202, answer.text
        ingest_everything(self.runtime)
        project_everything(self.runtime)

"""Our errors to HTTP answers (api/errors.py): routing's own refusals (no such route,
another method) are in our error body too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = FastAPI()
    errors.install(app)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    with TestClient(app) as test_client:
        yield test_client


def test_no_such_route_is_a_404_in_our_error_body(client: TestClient) -> None:
    answer = client.get("/things")
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": "Not Found", "problems": []}


def test_another_method_is_a_405_in_our_error_body_with_allow(client: TestClient) -> None:
    answer = client.delete("/things/a")
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed"
    assert answer.headers["allow"] == "GET"

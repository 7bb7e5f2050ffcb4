"""Our errors to HTTP answers (api/errors.py): every DomainError a route may raise is a 4xx
answer in our error body, whatever its subclass, and so are routing's own refusals (no
such route, another method)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from domain.errors import DomainError

LAYERS = ("domain", "contracts", "adapters", "projections", "application", "api")


def _subclasses(kind: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in kind.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def domain_errors() -> list[type[DomainError]]:
    """DomainError and every subclass defined in production code (each module imported)."""
    for layer in LAYERS:
        package = importlib.import_module(layer)
        for module in pkgutil.walk_packages(package.__path__, f"{layer}."):
            importlib.import_module(module.name)
    found: set[type[DomainError]] = {DomainError, *_subclasses(DomainError)}
    return sorted(
        (k for k in found if k.__module__.split(".")[0] in LAYERS),
        key=lambda k: f"{k.__module__}.{k.__qualname__}",
    )


def raising(kind: type[DomainError]) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/raise")
    async def raise_it() -> None:
        error = kind.__new__(kind)
        DomainError.__init__(error, "refused for a reason")
        raise error

    return app


def test_the_domain_errors_are_found() -> None:
    names = {k.__name__ for k in domain_errors()}
    assert {"DomainError", "NotFound", "AsOfOutOfRange", "HistoryDamaged", "LateFact"} <= names


@pytest.mark.parametrize("kind", domain_errors(), ids=lambda k: k.__qualname__)
def test_every_domain_error_a_route_raises_is_a_4xx_in_our_error_body(
    kind: type[DomainError],
) -> None:
    with TestClient(raising(kind), raise_server_exceptions=False) as client:
        answer = client.get("/raise")
    assert 400 <= answer.status_code < 500, (kind, answer.status_code, answer.text)
    body = answer.json()
    assert set(body) == {"error", "detail", "problems"}
    assert "refused for a reason" in body["detail"]


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

"""schemathesis against the API's own OpenAPI schema (issue 6): every operation, called
with a key of a role it admits (its ``x-roles``), must never answer 5xx, and every answer
must match the schema (body and status code).

The runtime holds one scripted journey (a customer, an order, a case), so the found paths
are called too, beside what schemathesis generates."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import hypothesis_jsonschema._from_schema
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import utils as conjecture_utils
from schemathesis.checks import not_a_server_error
from schemathesis.models import Case
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import BaseOpenAPISchema

from api.main import create_api
from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.e2e.journey_script import Journey, script
from tests.factories import unique
from tests.integration.drive import ingest_everything, project_everything

CHECKS = (not_a_server_error, response_schema_conformance, status_code_conformance)


class _ManyWithMore:
    """hypothesis-jsonschema 0.23.1 (the latest) draws an object's properties with
    ``while many(...).more():``; the installed Hypothesis replaced ``more()`` by iterating
    ``many`` inside a ``with`` block, so every object body fails to generate (AttributeError).
    This adapter gives the old interface over the new one; remove it once
    hypothesis-jsonschema follows (or Hypothesis is pinned below the change)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._many = conjecture_utils.many(*args, **kwargs)
        self._many.__enter__()
        self._elements = iter(self._many)

    def more(self) -> bool:
        try:
            next(self._elements)
        except StopIteration:
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


class _ConjectureUtils:
    def __getattr__(self, name: str) -> Any:
        return getattr(conjecture_utils, name)

    many = _ManyWithMore


@pytest.fixture(scope="module")
def object_bodies() -> Iterator[None]:
    if hasattr(conjecture_utils.many, "more"):  # an older Hypothesis: nothing to adapt
        yield
        return
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(hypothesis_jsonschema._from_schema, "cu", _ConjectureUtils())
        yield


class Served:
    def __init__(self, runtime: Runtime, app: FastAPI, journey: Journey) -> None:
        self.runtime = runtime
        self.app = app
        self.journey = journey
        self.keys: dict[str, str] = {}

    def key_for(self, operation: dict[str, Any]) -> dict[str, str]:
        """A header with a key of the first role the operation admits; none for an open
        operation (or before routes declare roles)."""
        roles = operation.get("x-roles") or []
        if not roles or not hasattr(self.runtime, "api_keys"):
            return {}
        role = roles[0]
        if role not in self.keys:
            self.keys[role] = self.runtime.api_keys.create(role).secret_text
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("schema")
    env = {
        "JOURNEY_LOG_BACKEND": "embedded",
        "JOURNEY_STORE_BACKEND": "sqlite",
        "JOURNEY_DATA_DIR": str(folder / "data"),
        "JOURNEY_TOPIC_PREFIX": unique("t") + ".",
        "JOURNEY_CONSUMER_GROUP": unique("g"),
        "JOURNEY_TOPIC_PARTITIONS": "2",
        # Generated consistent_with positions are never reached: answer 503 at once.
        "JOURNEY_CONSISTENCY_WAIT_MAX_S": "0",
        # Hundreds of calls a second from one key: the rate limit is not under test here.
        "JOURNEY_RATE_LIMIT_PER_S": "1000000",
        "JOURNEY_RATE_LIMIT_BURST": "1000000",
    }
    with patch.dict(os.environ, env):
        runtime = build(Settings())
    app = create_api(runtime, workers=set())
    journey = script()
    result = Served(runtime, app, journey)
    with TestClient(app) as client:
        answer = client.post(
            "/v1/events",
            json=journey.events,
            headers=result.key_for({"x-roles": ["channel"]}),
        )
        assert answer.status_code == 202, answer.text
    ingest_everything(runtime)
    project_everything(runtime)
    yield result
    runtime.close()


@pytest.fixture(scope="module")
def api_schema(served: Served) -> BaseOpenAPISchema:
    # FastAPI writes OpenAPI 3.1; schemathesis 3.39 reads it behind this switch.
    schemathesis.experimental.OPEN_API_3_1.enable()
    loaded = schemathesis.from_asgi("/openapi.json", served.app)
    assert isinstance(loaded, BaseOpenAPISchema)
    return loaded


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_answers_5xx_or_outside_its_schema(
    case: Case, served: Served, object_bodies: None
) -> None:
    case.call_and_validate(headers=served.key_for(case.operation.definition.raw), checks=CHECKS)


def _found(journey: Journey) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    """Operations on what the runtime holds: (path, path parameters, query)."""
    case, customer = journey.case, journey.customer
    return [
        ("/v1/complaints", {}, {"limit": 2}),
        ("/v1/complaints", {}, {"format": "csv"}),
        ("/v1/complaints/{case_ref}", {"case_ref": case}, {}),
        ("/v1/complaints/{case_ref}/explain", {"case_ref": case}, {}),
        ("/v1/customers/{customer_id}", {"customer_id": customer}, {}),
        ("/v1/orders", {}, {"customer_id": customer, "limit": 1}),
        ("/v1/orders", {}, {"format": "csv"}),
        ("/v1/orders/{order_id}", {"order_id": journey.order}, {}),
        ("/v1/returns", {}, {"order_id": journey.order}),
        ("/v1/returns", {}, {"format": "csv"}),
        ("/v1/returns/{return_id}", {"return_id": journey.return_id}, {}),
        ("/v1/customers/{customer_id}/explain", {"customer_id": customer}, {}),
        ("/v1/cases/{case_ref}/history", {"case_ref": case}, {}),
        ("/v1/cases/{case_ref}", {"case_ref": case}, {"as_of": "1"}),
        ("/v1/cases/{case_ref}/verify", {"case_ref": case}, {}),
        ("/v1/audit/{kind}/{ref}/verify", {"kind": "cases", "ref": case}, {}),
        ("/v1/audit/{kind}/{ref}/verify", {"kind": "customers", "ref": customer}, {}),
        ("/v1/what-if", {}, {"policy_version": "2026.1", "case_ref": case}),
        ("/v1/kpis", {}, {"start": "2026-03-01", "end": "2026-03-31", "group_by": "channel"}),
        ("/v1/kpis/funnel", {}, {"start": "2026-03-01", "end": "2026-03-31"}),
        ("/v1/anomalies", {}, {"start": "2026-03-01", "end": "2026-03-31"}),
        ("/v1/qa-sample", {}, {"start": "2026-03-01", "end": "2026-03-31"}),
    ]


def test_operations_on_stored_data_answer_within_their_schema(
    served: Served, api_schema: BaseOpenAPISchema
) -> None:
    statuses = []
    for path, path_parameters, query in _found(served.journey):
        operation = api_schema[path]["GET"]
        case = operation.make_case(path_parameters=path_parameters, query=query)
        response = case.call_and_validate(
            headers=served.key_for(operation.definition.raw), checks=CHECKS
        )
        statuses.append((path, response.status_code))
    assert all(status == 200 for _, status in statuses), statuses


def test_the_schema_documents_our_error_body_and_the_body_guards_answers(
    api_schema: BaseOpenAPISchema,
) -> None:
    raw = api_schema.raw_schema
    error = {"$ref": "#/components/schemas/ErrorOut"}
    with_body = 0
    for path, operations in raw["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "422" in responses:
                assert responses["422"]["content"]["application/problem+json"]["schema"] == error, (
                    method,
                    path,
                )
            if "requestBody" in operation:
                with_body += 1
                assert {"413", "415", "422"} <= set(responses), (method, path)
    assert with_body >= 1
    assert "HTTPValidationError" not in raw["components"]["schemas"]

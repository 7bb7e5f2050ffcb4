"""``POST /v1/admin/deadletters/replay``: an admin (only) publishes a refused record's
original bytes back to its ingress topic, as ``journey deadletters replay --source`` does;
the ingest decides it again (still invalid here: dead-lettered again, from where the replay
put it). Sources with no letter are 404, malformed ones 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.security import Role
from adapters.sourcelog.base import OutgoingRecord
from api.main import create_api
from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything, make_runtime


@pytest.fixture(params=[pytest.param(("embedded", "sqlite"), id="embedded-sqlite")])
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    yield from make_runtime(request, tmp_path, settings_env)


def as_role(runtime: Runtime, role: Role) -> dict[str, str]:
    key = runtime.api_keys.create(role)
    return {"Authorization": f"Bearer {key.secret_text}"}


def test_an_admin_replays_a_dead_letter_and_the_ingest_decides_it_again(
    runtime: Runtime,
) -> None:
    topic = runtime.topics.for_type("contact.opened")
    bad = contact_opened(customer_id=unique("cust-"), contact_id=unique("contact-"))
    bad["type"] = "contact.teleported"
    runtime.publisher.publish_many(
        [OutgoingRecord(topic, bad["customer_id"].encode(), orjson.dumps(bad))]
    )
    ingest_everything(runtime)
    (letter,) = runtime.all_dead_letters()
    source = letter.as_json()["source"]
    admin = as_role(runtime, "admin")
    with TestClient(create_api(runtime, workers=set())) as client:
        refused = client.post(
            "/v1/admin/deadletters/replay",
            json={"sources": [source]},
            headers=as_role(runtime, "analyst"),
        )
        assert refused.status_code == 403
        answer = client.post(
            "/v1/admin/deadletters/replay", json={"sources": [source]}, headers=admin
        )
        assert answer.status_code == 200, answer.text
        (done,) = answer.json()["replayed"]
        assert done["source"] == source
        assert done["event_id"] == bad["event_id"]
        assert done["replayed_to"].startswith(f"{topic}:")
        ingest_everything(runtime)
        again = [d.as_json()["source"] for d in runtime.all_dead_letters()]
        assert again == [source, done["replayed_to"]]

        missing = client.post(
            "/v1/admin/deadletters/replay",
            json={"sources": [f"{topic}:0:999999"]},
            headers=admin,
        )
        assert missing.status_code == 404
        assert f"{topic}:0:999999" in missing.json()["detail"]
        malformed = client.post(
            "/v1/admin/deadletters/replay", json={"sources": ["nowhere"]}, headers=admin
        )
        assert malformed.status_code == 422

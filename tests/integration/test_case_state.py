"""A case's state as of an event time, a recorded time or a version (issue 14, item 4), on
every pairing of log and store, through the API: the issue's example — a case opened on
5 March (event time) and recorded today — exists ``as_of`` 5 March 09:00 +08:00 by event
time and not ``recorded_as_of`` then; a date alone is a day of the report time zone."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
from fastapi.testclient import TestClient

from adapters.sourcelog.base import OutgoingRecord
from api.main import create_api
from journey.bootstrap import Runtime
from tests.factories import contact_opened, unique
from tests.integration.drive import ingest_everything

OPENED = datetime.fromisoformat("2026-03-05T08:30:00+08:00")


def test_as_of_an_event_time_a_recorded_time_and_a_day(runtime: Runtime) -> None:
    customer, case = unique("cust-"), unique("case-")
    body = contact_opened(customer_id=customer, contact_id=case, occurred_at=OPENED.isoformat())
    topic = runtime.topics.for_type("contact.opened")
    runtime.publisher.publish_many([OutgoingRecord(topic, customer.encode(), orjson.dumps(body))])
    ingest_everything(runtime)
    auditor = {"Authorization": f"Bearer {runtime.api_keys.create('auditor').secret_text}"}

    with TestClient(create_api(runtime, workers=set())) as client:

        def state(**params: str) -> tuple[int, dict[str, object]]:
            answer = client.get(f"/v1/cases/{case}", params=params, headers=auditor)
            assert answer.headers["content-type"].startswith("application/"), answer.text
            return answer.status_code, answer.json()

        status, then = state(as_of="2026-03-05T09:00:00+08:00")
        assert status == 200, then
        assert then["as_of"] == {"basis": "event_time", "value": "2026-03-05T09:00:00+08:00"}
        assert (then["status"], then["version"]) == ("open", 1)
        assert state(as_of=(OPENED - timedelta(seconds=1)).isoformat())[0] == 404
        assert state(as_of=OPENED.isoformat())[0] == 200
        assert state(recorded_as_of="2026-03-05T09:00:00+08:00")[0] == 404

        status, day = state(as_of="2026-03-05")
        assert status == 200, day
        assert day["as_of"] == {"basis": "event_time", "value": "2026-03-05T23:59:59.999999+08:00"}
        assert state(as_of="2026-03-04")[0] == 404

        assert state(as_of="1")[1]["as_of"] == {"basis": "version", "value": 1}
        status, both = state(as_of="1", recorded_as_of="2026-03-05T09:00:00+08:00")
        assert status == 422
        assert "give one" in str(both["detail"])

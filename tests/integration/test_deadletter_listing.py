"""Listing dead letters (issue 13, items 9 and 10), on every pairing of log and store:
records of any shape are listed without crashing, masked or opaque, never in clear."""

from __future__ import annotations

import os
from typing import Any
from unittest.mock import patch

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.sourcelog.base import OutgoingRecord
from api.main import create_api
from journey.bootstrap import Runtime
from journey.cli import main
from tests.factories import contact_opened, source_event, unique
from tests.integration.drive import env_of, ingest_everything

DEPTH = 500


def deeply(opening: bytes, middle: bytes, closing: bytes) -> bytes:
    return opening * DEPTH + middle + closing * DEPTH


def cli_list(runtime: Runtime, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    with patch.dict(os.environ, env_of(runtime.settings)):
        code = main(["deadletters", "list", "--json", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return orjson.loads(captured.out)


def test_records_nested_hundreds_deep_or_not_json_are_listed_opaque(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = unique("c-deep-")
    topic = runtime.topics.for_type("contact.opened")
    envelope = orjson.dumps(contact_opened(customer_id=customer))
    nested_field = envelope[:-1] + b',"extra":' + deeply(b'{"a":', b'"Deep Secret"', b"}") + b"}"
    keyed = [
        deeply(b"[", b"", b"]"),
        deeply(b'{"a":', b"1", b"}"),
        nested_field,
        deeply(b"[", b'"Deep Secret"', b"]") * 3,  # deeper than the JSON parser reads
    ]
    keyless = b'{"name": "Deep Secret", "phone": "+86 139 0000'  # cut short, and no key
    runtime.publisher.publish_many(
        [
            *(OutgoingRecord(topic, customer.encode(), body) for body in keyed),
            OutgoingRecord(topic, None, keyless),
        ]
    )
    ingest_everything(runtime)

    admin = {"Authorization": f"Bearer {runtime.api_keys.create('admin').secret_text}"}
    with TestClient(create_api(runtime, workers=set())) as client:
        answer = client.get("/v1/admin/deadletters", headers=admin)
    assert answer.status_code == 200, answer.text
    items = {item["original_bytes"]: item for item in answer.json()["items"]}
    assert sorted(items) == sorted(len(body) for body in [*keyed, keyless])
    assert "Deep Secret" not in answer.text
    assert "139" not in answer.text
    assert {item["original_shown"] for item in items.values()} == {"opaque"}
    # What the bytes tell beyond their depth is still read: the envelope's event id.
    assert items[len(nested_field)]["event_id"] == orjson.loads(envelope)["event_id"]
    assert items[len(keyless)]["original"] == '{"•••": "••• •••", "•••": "+••• ••• •••'

    listed = cli_list(runtime, capsys)
    assert sorted(letter["original_bytes"] for letter in listed["dead_letters"]) == sorted(items)
    assert "Deep Secret" not in orjson.dumps(listed).decode()


def letters(client: TestClient, key: str, path: str = "/v1/admin/deadletters", **query: Any) -> Any:
    answer = client.get(path, params=query, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def every_page(client: TestClient, key: str, **query: Any) -> list[dict[str, Any]]:
    """Every item, following ``next_cursor`` page after page."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        page = letters(client, key, **query, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


def test_every_dead_letter_is_reachable_a_page_at_a_time_and_filtered(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    contacts = runtime.topics.for_type("contact.opened")
    customers = runtime.topics.for_type("customer.registered")
    a, b = unique("c-a-"), unique("c-b-")
    # More than one page of the largest size: the 501st letter was out of reach before.
    many = [
        OutgoingRecord(contacts, a.encode(), orjson.dumps(contact_opened(customer_id=a, n=n)))
        for n in range(503)  # an unknown field: data.n
    ]
    unconsented = source_event(
        "customer.registered", {"personal": {"name": "Li Wei"}, "consents": []}, customer_id=b
    )
    runtime.publisher.publish_many(
        [*many, OutgoingRecord(customers, b.encode(), orjson.dumps(unconsented))]
    )
    ingest_everything(runtime)
    admin = runtime.api_keys.create("admin").secret_text
    with TestClient(create_api(runtime, workers=set())) as client:
        first = letters(client, admin, limit=500)
        assert len(first["items"]) == 500
        assert first["count"] == 504
        rest = letters(client, admin, limit=500, cursor=first["next_cursor"])
        assert rest["next_cursor"] is None
        everything = [*first["items"], *rest["items"]]
        assert len({item["dead_letter"] for item in everything}) == 504
        times = [item["dead_lettered_at"] for item in everything]
        assert times == sorted(times)  # oldest first
        assert every_page(client, admin, limit=97) == everything

        # A second batch, later: only it is at or after its first letter's time.
        late = contact_opened(customer_id=b, classification="angry")
        runtime.publisher.publish(OutgoingRecord(contacts, b.encode(), orjson.dumps(late)))
        ingest_everything(runtime)
        then = every_page(client, admin, limit=500)[-1]
        assert then["event_id"] == late["event_id"]
        assert [
            i["event_id"] for i in every_page(client, admin, since=then["dead_lettered_at"])
        ] == [late["event_id"]]
        assert len(every_page(client, admin, until=then["dead_lettered_at"])) == 504

        def found(**query: Any) -> list[str | None]:
            return sorted(
                i["event_id"] or "-" for i in every_page(client, admin, limit=500, **query)
            )

        assert found(topic=customers) == [unconsented["event_id"]]
        assert found(type="customer.registered") == [unconsented["event_id"]]
        assert found(customer=b) == sorted([unconsented["event_id"], late["event_id"]])
        assert len(found(customer=a)) == 503
        assert found(rule="data.classification") == [late["event_id"]]
        assert found(rule="R-CUS-02") == [unconsented["event_id"]]
        assert len(found(rule="data")) == 504  # a field names its parts too
        assert found(rule="data.n", customer=b) == []
        assert found(published_by="nobody") == []
        assert len(found(published_by="test-channel")) == 505
        [shown] = every_page(client, admin, rule="R-CUS-02")
        assert shown["named"] == ["R-CUS-02"]
        assert shown["published_by"] == "test-channel"
        assert shown["customer_id"] == b

        bad = client.get(
            "/v1/admin/deadletters",
            params={"cursor": "not-a-cursor"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert (bad.status_code, bad.json()["error"]) == (422, "invalid_cursor")
        naive = client.get(
            "/v1/admin/deadletters",
            params={"since": "2026-03-02T10:00:00"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert naive.status_code == 422

    # The command line pages and filters the same way.
    page = cli_list(runtime, capsys, "--customer", b, "--limit", "1")
    assert [i["event_id"] for i in page["dead_letters"]] == [unconsented["event_id"]]
    page = cli_list(runtime, capsys, "--customer", b, "--cursor", page["next_cursor"])
    assert ([i["event_id"] for i in page["dead_letters"]], page["next_cursor"]) == (
        [late["event_id"]],
        None,
    )
    page = cli_list(runtime, capsys, "--rule", "R-CUS-02", "--topic", customers)
    assert [i["event_id"] for i in page["dead_letters"]] == [unconsented["event_id"]]
    page = cli_list(
        runtime, capsys, "--since", then["dead_lettered_at"], "--type", "contact.opened"
    )
    assert [i["event_id"] for i in page["dead_letters"]] == [late["event_id"]]


def test_a_channel_lists_its_own_refusals_masked(runtime: Runtime) -> None:
    """Most rule refusals reach a channel as a 202 and then a dead letter: the channel sees
    its own (by the ``source`` its key names), masked, and no other channel's."""
    web = runtime.api_keys.create("channel", "web portal", source="web-portal").secret_text
    pos = runtime.api_keys.create("channel", "store tills", source="pos").secret_text
    unnamed = runtime.api_keys.create("channel", "old key").secret_text
    customer = unique("c-ch-")
    unconsented = source_event(
        "customer.registered",
        {"personal": {"name": "Li Wei", "phone": "+86 138 0000 0001"}, "consents": []},
        customer_id=customer,
    )
    unconsented["source"] = "web-portal"
    # A contact opened twice (another event_id): the second is refused. (A reply to a
    # contact not known yet would be parked, not refused: docs/delivery.md "Ordering".)
    opened = contact_opened(customer_id=customer, contact_id=unique("ct-"))
    opened["source"] = "pos"
    reopened = {**opened, "event_id": unique("ev-")}
    with TestClient(create_api(runtime, workers=set())) as client:
        for key, body in ((web, unconsented), (pos, opened), (pos, reopened)):
            answer = client.post(
                "/v1/events", json=body, headers={"Authorization": f"Bearer {key}"}
            )
            assert answer.status_code == 202, answer.text  # valid: refused only by the rules
        # A key that names its source publishes only as that source.
        other = {**opened, "event_id": unique("ev-")}
        answer = client.post("/v1/events", json=other, headers={"Authorization": f"Bearer {web}"})
        assert answer.status_code == 403, answer.text
        assert "web-portal" in answer.json()["detail"]
        ingest_everything(runtime)

        mine = letters(client, web, "/v1/deadletters")
        assert mine["source"] == "web-portal"
        assert [i["event_id"] for i in mine["items"]] == [unconsented["event_id"]]
        [item] = mine["items"]
        assert item["named"] == ["R-CUS-02"]
        assert item["original_shown"] == "masked"
        assert orjson.loads(item["original"])["data"]["personal"] == {
            "name": "***",
            "phone": "***",
        }
        assert "Li Wei" not in orjson.dumps(mine).decode()
        theirs = letters(client, pos, "/v1/deadletters", type="contact.opened")
        assert [i["event_id"] for i in theirs["items"]] == [reopened["event_id"]]
        assert letters(client, pos, "/v1/deadletters", rule="R-CUS-02")["items"] == []
        paged = letters(client, web, "/v1/deadletters", limit=1)
        assert paged["items"] == mine["items"]

        answer = client.get("/v1/deadletters", headers={"Authorization": f"Bearer {unnamed}"})
        assert (answer.status_code, answer.json()["error"]) == (409, "no_source")
        admin = runtime.api_keys.create("admin").secret_text
        answer = client.get("/v1/deadletters", headers={"Authorization": f"Bearer {admin}"})
        assert answer.status_code == 403
        made = client.post(
            "/v1/admin/keys",
            json={"role": "channel", "label": "app", "source": "app"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert made.status_code == 201, made.text
        assert made.json()["source"] == "app"
        analyst_with_source = client.post(
            "/v1/admin/keys",
            json={"role": "analyst", "source": "app"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert analyst_with_source.status_code == 422

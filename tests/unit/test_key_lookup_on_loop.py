"""Where a request's API key is looked up (issue 18): on the event loop when the key store's
reads are local (SQLite in WAL: a reader never waits), on a worker thread when they are not
(PostgreSQL: a round trip); either way on every request, so a key revoked elsewhere (by
``journey keys revoke`` in another process) is refused from the next request on."""

from __future__ import annotations

import dataclasses
from typing import Any
from unittest.mock import patch

from fastapi.concurrency import run_in_threadpool
from fastapi.testclient import TestClient

import api.auth
from adapters.readstore import PostgresReadStore, ReadStore, SQLiteReadStore
from adapters.security.apikeys import ApiKeys
from api.main import create_api
from journey.bootstrap import Runtime


def test_sqlite_reads_are_local_and_postgresql_reads_are_not() -> None:
    assert SQLiteReadStore.local_reads is True
    assert PostgresReadStore.local_reads is False


class RemoteLike(SQLiteReadStore):
    """A store whose reads count as not local (as PostgreSQL's)."""

    local_reads = False
    one_writer = False


def lookups_off_the_loop() -> tuple[list[Any], Any]:
    """A ``run_in_threadpool`` for ``api.auth`` that records what it ran."""
    ran: list[Any] = []
    real = run_in_threadpool

    async def recording(func: Any, *args: Any) -> Any:
        ran.append(func)
        return await real(func, *args)

    return ran, recording


def test_on_sqlite_the_lookup_stays_on_the_loop_and_sees_a_revocation_at_once(
    runtime: Runtime,
) -> None:
    issued = runtime.api_keys.create("channel")
    headers = {"Authorization": f"Bearer {issued.secret_text}"}
    # Another process's key table: the same file, its own store and connections.
    elsewhere = SQLiteReadStore(runtime.settings.data_dir / "readmodels.sqlite")
    ran, recording = lookups_off_the_loop()
    try:
        with (
            patch.object(api.auth, "run_in_threadpool", recording),
            TestClient(create_api(runtime)) as client,
        ):
            assert client.get("/v1/schemas/events", headers=headers).status_code == 200
            assert ApiKeys(elsewhere).revoke(issued.key_id)
            refused = client.get("/v1/schemas/events", headers=headers)
    finally:
        elsewhere.close()
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert ran == []


def test_on_a_store_whose_reads_are_not_local_the_lookup_goes_to_a_worker_thread(
    runtime: Runtime,
) -> None:
    store: ReadStore = RemoteLike(runtime.settings.data_dir / "readmodels.sqlite")
    keys = ApiKeys(store)
    issued = keys.create("channel")
    served = dataclasses.replace(runtime, api_keys=keys)
    ran, recording = lookups_off_the_loop()
    try:
        with (
            patch.object(api.auth, "run_in_threadpool", recording),
            TestClient(create_api(served)) as client,
        ):
            answer = client.get(
                "/v1/schemas/events", headers={"Authorization": f"Bearer {issued.secret_text}"}
            )
    finally:
        store.close()
    assert answer.status_code == 200
    assert ran == [keys.authenticate]

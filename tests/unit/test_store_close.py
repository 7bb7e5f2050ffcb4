"""Closing a store waits for statements other threads are running: CPython's sqlite3
closing a connection another thread is executing on crashes the process (a CI run died so,
a test's leftover request thread still reading while the runtime closed)."""

from __future__ import annotations

import threading
from pathlib import Path

from adapters.readstore import SQLiteReadStore
from tests.builders.apps import make_app


def test_the_read_store_closes_once_the_read_on_another_thread_ended(tmp_path: Path) -> None:
    store = SQLiteReadStore(tmp_path / "read.sqlite")
    inside, release = threading.Event(), threading.Event()
    answers: list[object] = []

    def read() -> None:
        with store.reading() as cursor:
            inside.set()
            release.wait(30)
            cursor.execute("SELECT 1 AS one")
            answers.append(cursor.fetchall())

    reader = threading.Thread(target=read)
    reader.start()
    assert inside.wait(30)
    closing = threading.Thread(target=store.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive(), "close did not wait for the read"
    release.set()
    reader.join(30)
    closing.join(30)
    assert answers == [[{"one": 1}]]
    assert not closing.is_alive()


def test_the_application_closes_once_its_connection_in_use_is_back(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    pool = app.recorder.datastore.pool  # type: ignore[attr-defined]
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with app.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            inside.set()
            release.wait(30)
            cursor.execute("SELECT 1")

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(30)
    assert pool.num_in_use == 1
    closing = threading.Thread(target=app.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive(), "close did not wait for the connection in use"
    release.set()
    holder.join(30)
    closing.join(30)
    assert not closing.is_alive()
    assert pool.closed

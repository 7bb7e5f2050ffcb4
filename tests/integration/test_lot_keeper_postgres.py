"""The parked index on PostgreSQL lists what waits as it does on SQLite
(tests/unit/test_lot_keeper.py), and forgets what the keeper dead-lettered."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.readstore import ReadStore
from application.service import JourneyApplication
from tests.builders.parking import T0, WINDOW, Setting, index_lists_what_waits


@pytest.mark.postgres
def test_the_index_on_postgres(
    postgres_store: ReadStore, app: JourneyApplication, tmp_path: Path
) -> None:
    made = Setting(app, tmp_path, postgres_store)
    index_lists_what_waits(made)
    assert made.keeper.run_once(T0 + 2 * WINDOW) == 2
    made.project()
    assert made.index.count() == 0

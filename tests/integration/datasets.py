"""The public data sets the importer tests read (beside the repository, ``../shared/data``,
or ``JOURNEY_TEST_DATA``; a test whose data set is not here skips), and the complaint
ledger they are checked against (tests/integration/test_importers.py and
tests/integration/test_simulate_import_cli.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.readstore import Row
from journey.bootstrap import Runtime

DATA = Path(
    os.environ.get("JOURNEY_TEST_DATA", Path(__file__).resolve().parents[3] / "shared/data")
)


def data_set(folder: str) -> Path:
    path = DATA / folder
    if not path.is_dir():
        pytest.skip(f"data set {path} is not here (JOURNEY_TEST_DATA)")
    return path


def ledger(runtime: Runtime) -> dict[str, Row]:
    """Every ledger row, by case ref."""
    rows: dict[str, Row] = {}
    after = None
    while page := runtime.ledger.page(500, after):
        rows.update((row["case_ref"], row) for row in page)
        after = runtime.ledger.cursor_of(page[-1], "opened_at")
    return rows

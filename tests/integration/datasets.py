"""The public data sets the importer tests read (beside the repository, ``../shared/data``,
or ``JOURNEY_TEST_DATA``; a test whose data set is not here skips), and the complaint
ledger they are checked against, how a slice of one is read and imported
(tests/integration/test_importers.py, tests/integration/test_source_attribute_figures.py
and tests/integration/test_simulate_import_cli.py)."""

from __future__ import annotations

import csv
import os
from itertools import islice
from pathlib import Path

import pytest

from adapters.readstore import Row
from journey.bootstrap import Runtime
from tests.integration.drive import ingest_everything, project_everything
from tools.importers import ImportSummary, run_import

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


def csv_rows(path: Path, limit: int | None = None) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(islice(csv.DictReader(handle), limit))


def imported(runtime: Runtime, kind: str, folder: Path, limit: int | None) -> ImportSummary:
    """Import, then ingest and project everything; nothing may be dead-lettered."""
    calls: list[tuple[int, int]] = []
    summary = run_import(
        runtime.outlet(), kind, folder, limit, lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (summary.events_published, summary.events_published)
    ingest_everything(runtime)
    project_everything(runtime)
    assert runtime.status().dead_letters == 0
    return summary


def incidents(path: Path, limit: int) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["number"] not in found and len(found) == limit:
                break
            found.setdefault(row["number"], []).append(row)
    return found

"""Finding a data set's files under the folder given to ``journey import``, and reading
them as a stream of rows (a real CSV parser: review texts and complaint narratives hold
quoted line breaks)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from tools.importers.summary import ImportSummary


class ImportFailed(Exception):
    """The import cannot start: unknown kind, missing or ambiguous files."""


def _raise_field_limit() -> None:
    # Narratives can exceed the csv module's default field limit of 128 KiB.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def header(path: Path) -> list[str]:
    _raise_field_limit()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def rows(path: Path, summary: ImportSummary) -> Iterator[dict[str, str]]:
    """The rows of ``path`` as dicts keyed by its header, counted in ``summary``."""
    _raise_field_limit()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            summary.rows_read[path.name] += 1
            yield row


def candidates(folder: Path, dataset_folders: Sequence[str]) -> list[Path]:
    """The folder itself (or the file given), then its sub-folders named like the data
    set's own folders, so both ``data/olist-ecommerce`` and ``data`` work."""
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise ImportFailed(f"{folder} is not a folder")
    found = [folder]
    found += [folder / name for name in dataset_folders if (folder / name).is_dir()]
    return found


def find(folder: Path, name: str, dataset_folders: Sequence[str]) -> Path:
    """The file called ``name`` in ``folder`` or one of the data set's sub-folders."""
    for place in candidates(folder, dataset_folders):
        path = place if place.is_file() else place / name
        if path.is_file() and path.name == name:
            return path
    raise ImportFailed(f"no {name} in {folder} (nor in {', '.join(dataset_folders)} under it)")


def column(path: Path, name: str, limit: int | None) -> list[str]:
    """The values of one column of the first ``limit`` rows (a cheap first pass)."""
    _raise_field_limit()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        columns = next(reader, [])
        if name not in columns:
            raise ImportFailed(f"{path} has no column {name!r}")
        at = columns.index(name)
        values: list[str] = []
        for record in reader:
            if limit is not None and len(values) >= limit:
                break
            values.append(record[at] if at < len(record) else "")
        return values

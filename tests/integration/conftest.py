"""The runtime every integration test drives, on every pairing of log and store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from journey.bootstrap import Runtime
from tests.integration.drive import PAIRINGS, make_runtime


@pytest.fixture(params=PAIRINGS)
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    yield from make_runtime(request, tmp_path, settings_env)

"""The runtime every integration test drives, on every pairing of log and store; and a
bare log of each kind, for the log contract's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sourcelog.base import Log
from adapters.sourcelog.embedded import EmbeddedLog
from journey.bootstrap import Runtime
from tests.integration.drive import PAIRINGS, make_runtime


@pytest.fixture(params=PAIRINGS)
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    yield from make_runtime(request, tmp_path, settings_env)


@pytest.fixture(params=[p for p in PAIRINGS if "kafka" in str(p.id)])
def kafka_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, settings_env: dict[str, str]
) -> Iterator[Runtime]:
    """The runtime on the pairings with a real Kafka broker only."""
    yield from make_runtime(request, tmp_path, settings_env)


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    """The embedded log, then a real Kafka broker's."""
    if request.param == "kafka":
        from adapters.sourcelog.kafka import KafkaLog

        made: Log = KafkaLog(request.getfixturevalue("kafka_bootstrap"))
    else:
        made = EmbeddedLog(tmp_path / "log.sqlite")
    yield made
    made.close()

"""The unit tier: our own code, with no I/O but files (temporary SQLite stores among them).

Every phase of a unit test (setup, call, teardown, its fixtures' included) runs under the
guard of ``tests/unit/isolation.py``: a socket connecting anywhere but an ``AF_UNIX``
address, or any child process, raises ``NotInTheUnitTier`` where it happens, and should
the code under test swallow that, the test fails anyway. Temporary files remain allowed,
SQLite stores in ``tmp_path`` or a temporary folder among them. A test that needs a real
service, the network or another process belongs in ``tests/integration``.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import Any
from unittest.mock import patch

import pytest

from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tests.unit.isolation import NotInTheUnitTier, no_network_and_no_processes


@pytest.fixture
def runtime(settings_env: dict[str, str]) -> Iterator[Runtime]:
    """The whole runtime in embedded mode (``settings_env``), built as ``journey serve``
    builds it (its topics included), closed after the test. A module may define its own."""
    with patch.dict(os.environ, settings_env):
        made = build(Settings())
    yield made
    made.close()


def _guarded() -> Generator[None, Any, Any]:
    with no_network_and_no_processes() as refused:
        result = yield
    if refused:
        raise NotInTheUnitTier(f"refused, and the refusal was swallowed: {'; '.join(refused)}")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _guarded())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _guarded())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _guarded())

"""The unit tier: our own code, with no I/O but files (temporary SQLite stores among them).

Every phase of a unit test (setup, call, teardown, its fixtures' included) runs under the
guard of ``tests/unit/isolation.py``: a socket connecting anywhere but an ``AF_UNIX``
address, or any child process, raises ``NotInTheUnitTier`` where it happens, and should
the code under test swallow that, the test fails anyway. Temporary files remain allowed,
SQLite stores in ``tmp_path`` or a temporary folder among them. A test that needs a real
service, the network or another process belongs in ``tests/integration``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from tests.unit.isolation import NotInTheUnitTier, no_network_and_no_processes


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

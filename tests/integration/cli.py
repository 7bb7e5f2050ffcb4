"""``journey`` commands run in this process with a runtime's settings (the command tests of
tests/integration/test_deadletters_cli.py and tests/integration/test_status.py)."""

from __future__ import annotations

import os
from typing import Any
from unittest.mock import patch

import orjson
import pytest

from journey.bootstrap import Runtime
from journey.cli import main
from tests.integration.drive import env_of


def run(runtime: Runtime, *args: str) -> int:
    """``journey <args>`` in this process with the runtime's settings; its exit code."""
    with patch.dict(os.environ, env_of(runtime.settings)):
        return main(list(args))


def run_cli(runtime: Runtime, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    """``journey <args>`` in this process with the runtime's settings; its JSON output."""
    capsys.readouterr()
    code = run(runtime, *args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return orjson.loads(captured.out)

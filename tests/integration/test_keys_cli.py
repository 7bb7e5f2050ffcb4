"""``journey keys create / list / revoke`` on every pairing of log and store, and
``journey serve`` refusing to start outside embedded mode without an admin key."""

from __future__ import annotations

import os
from typing import Any
from unittest.mock import patch

import orjson
import pytest

from adapters.security import Principal
from journey.bootstrap import Runtime, build
from journey.cli import main
from journey.settings import Settings
from tests.integration.drive import env_of


def journey(
    runtime: Runtime, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    with patch.dict(os.environ, env_of(runtime.settings)):
        code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_create_list_revoke(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = journey(
        runtime, capsys, "keys", "create", "--role", "auditor", "--label", "Ana"
    )
    assert code == 0, err
    lines = out.splitlines()
    key = lines[1]
    assert key.startswith("jk_")
    assert "shown this once" in err
    principal = runtime.api_keys.authenticate(key)
    assert principal is not None
    assert principal.role == "auditor"

    code, out, _ = journey(runtime, capsys, "keys", "create", "--role", "channel", "--json")
    made: dict[str, Any] = orjson.loads(out)
    assert code == 0
    assert made["role"] == "channel"
    assert runtime.api_keys.authenticate(made["key"]) == Principal(made["key_id"], "channel")

    code, out, _ = journey(
        runtime, capsys, "keys", "create", "--role", "channel", "--source", "pos", "--json"
    )
    named: dict[str, Any] = orjson.loads(out)
    assert (code, named["source"]) == (0, "pos")
    assert runtime.api_keys.authenticate(named["key"]) == Principal(
        named["key_id"], "channel", "pos"
    )
    code, _, err = journey(runtime, capsys, "keys", "create", "--role", "admin", "--source", "x")
    assert code == 2
    assert "only a channel key names a source" in err

    code, out, _ = journey(runtime, capsys, "keys", "list", "--json")
    listed = {k["key_id"]: k for k in orjson.loads(out)}
    assert listed[named["key_id"]]["source"] == "pos"
    assert code == 0
    assert key.split("_", 2)[2] not in out
    assert made["key"] not in out
    assert (listed[principal.key_id]["label"], listed[principal.key_id]["active"]) == ("Ana", True)
    code, out, _ = journey(runtime, capsys, "keys", "list")
    assert principal.key_id in out

    code, _, _ = journey(runtime, capsys, "keys", "revoke", principal.key_id)
    assert code == 0
    assert runtime.api_keys.authenticate(key) is None
    code, _, err = journey(runtime, capsys, "keys", "revoke", principal.key_id)
    assert code == 1
    assert "no active key" in err


def test_an_unknown_role_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--role", "root"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("journey: ")
    assert "invalid choice" in line


@pytest.mark.kafka
def test_serve_outside_embedded_mode_refuses_without_an_admin_key(
    settings_env: dict[str, str], kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        **settings_env,
        "JOURNEY_LOG_BACKEND": "kafka",
        "JOURNEY_KAFKA_BOOTSTRAP": kafka_bootstrap,
    }
    with patch.dict(os.environ, env):
        code = main(["serve", "--port", "1"])
        assert code == 2
        assert "journey keys create --role admin" in capsys.readouterr().err
        runtime = build(Settings())
    try:
        assert runtime.api_keys.list() == []  # the server never makes keys outside embedded mode
    finally:
        runtime.close()

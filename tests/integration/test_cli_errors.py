"""``journey`` as a separate process meets bad input and broken surroundings (issue 17,
item 2): each error is one line on stderr, ``journey: ...``, and an exit code (1 failed,
2 usage), within a bounded time; a reader that stops reading ends it quietly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def journey(
    env: dict[str, str], *args: str, timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m journey.cli <args>`` with ``env`` over this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "journey.cli", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_bogus_source_is_a_usage_error_of_one_line(settings_env: dict[str, str]) -> None:
    done = journey(settings_env, "deadletters", "replay", "--source", "bogus")
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("journey: argument --source: not topic:partition:offset")
    assert "'bogus'" in line


def test_an_unreachable_kafka_fails_in_seconds_with_one_line_naming_it(
    settings_env: dict[str, str],
) -> None:
    address = f"127.0.0.1:{closed_port()}"
    env = {
        **settings_env,
        "JOURNEY_LOG_BACKEND": "kafka",
        "JOURNEY_KAFKA_BOOTSTRAP": address,
        "JOURNEY_KAFKA_CONNECT_TIMEOUT_S": "2",
    }
    started = time.monotonic()
    done = journey(env, "status")
    took = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.splitlines()
    assert line == (
        f"journey: Kafka at {address} is not reachable (no answer within 2 s;"
        " JOURNEY_KAFKA_BOOTSTRAP)"
    )
    assert took < 20  # 2 s of waiting, plus starting Python; not kafka-python's 30 s


def test_invalid_settings_are_one_line_and_exit_code_2(settings_env: dict[str, str]) -> None:
    done = journey({**settings_env, "JOURNEY_TOPIC_PARTITIONS": "0"}, "status")
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("journey: invalid settings: JOURNEY_TOPIC_PARTITIONS: ")


def test_a_customer_not_found_is_one_line_and_exit_code_1(settings_env: dict[str, str]) -> None:
    done = journey(settings_env, "erase", "no-such-customer")
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("journey: ")
    assert "no-such-customer" in line


def test_status_into_head_ends_without_a_traceback(settings_env: dict[str, str]) -> None:
    """``journey status --json | head -c 10``, the pipe made here as a shell makes it."""
    # Enough partitions that the JSON (~170 KB) outgrows the pipe's buffer: head has
    # closed its end before journey writes the rest.
    env = {**os.environ, "PYTHONPATH": str(ROOT), **settings_env}
    env["JOURNEY_TOPIC_PARTITIONS"] = "200"
    status = subprocess.Popen(
        [sys.executable, "-m", "journey.cli", "status", "--json"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert status.stdout is not None
    head = subprocess.run(
        ["head", "-c", "10"], stdin=status.stdout, capture_output=True, timeout=60, check=False
    )
    status.stdout.close()  # only head reads it
    _, err = status.communicate(timeout=60)
    assert head.stdout == b'{\n  "parti'
    assert err.decode() == ""  # no BrokenPipeError traceback, nothing at all
    assert status.returncode == 1  # the write did fail: the case under test happened


def test_a_reader_gone_before_the_first_write_ends_quietly(settings_env: dict[str, str]) -> None:
    read, write = os.pipe()
    os.close(read)  # nobody will read: the first write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "journey.cli", "status", "--json"],
            env={**os.environ, "PYTHONPATH": str(ROOT), **settings_env},
            cwd=ROOT,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 1
    assert done.stderr == ""

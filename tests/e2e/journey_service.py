"""``journey`` processes on loopback for the e2e tests: started with one settings
environment, waited for until ready, stopped; and the keys that authenticate to them. The
fixtures that run them are in ``tests/e2e/conftest.py``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Service:
    """``journey <command>`` processes sharing one settings environment."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, **env}
        self.logs = logs
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, *command: str, **extra_env: str) -> None:
        log = (self.logs / f"{'-'.join(command)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "journey.cli", *command],
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append((" ".join(command), process))

    def output(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.logs.glob("*.log"))
        )

    def wait_healthy(self, base_url: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    pytest.fail(f"`journey {name}` exited early:\n{self.output()}")
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"service not ready after {timeout_s}s:\n{self.output()}")

    def stop(self) -> None:
        for _, process in self.processes:
            process.terminate()
        for _, process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


Auth = Callable[[str], dict[str, str]]
"""``auth("analyst")``: the headers that authenticate as a key of that role."""

ROLES = ("channel", "analyst", "auditor", "admin")


@dataclass(frozen=True)
class Running:
    url: str
    keys: dict[str, str]
    """role -> API key"""

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def development_keys(output: str) -> dict[str, str]:
    """The keys ``journey serve`` printed on its first embedded start."""
    keys = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "journey:" and words[1] in ROLES:
            keys[words[1]] = words[2]
    return keys

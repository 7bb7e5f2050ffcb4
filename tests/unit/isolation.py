"""The guard of the unit tier (installed by ``tests/unit/conftest.py``): no network and no
child process, only files.

A socket connecting, or sending a datagram, anywhere but an ``AF_UNIX`` address, and any
child process (``subprocess``, ``os.system``, ``os.fork``, ``os.posix_spawn``,
multiprocessing's spawn) raise :class:`NotInTheUnitTier` where they happen, and are listed.
"""

from __future__ import annotations

import _posixsubprocess
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto


class NotInTheUnitTier(Exception):
    """A unit test reached the network or started a process."""


@contextmanager
def no_network_and_no_processes() -> Iterator[list[str]]:
    """Refuse network connections and child processes; yields what was refused."""
    refused: list[str] = []

    def refuse(what: str) -> NoReturn:
        refused.append(what)
        raise NotInTheUnitTier(
            f"a unit test may not {what}: tests/unit does no I/O but temporary files;"
            " move the test to tests/integration"
        )

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX:
            refuse(f"connect a socket to {address!r}")
        _connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != socket.AF_UNIX:
            refuse(f"connect a socket to {address!r}")
        return _connect_ex(self, address)

    def sendto(self: socket.socket, *args: Any) -> int:
        if self.family != socket.AF_UNIX:
            refuse(f"send a datagram to {args[-1]!r}")
        return _sendto(self, *args)

    def process(what: str) -> Any:
        def start(*args: Any, **kwargs: Any) -> NoReturn:
            refuse(f"start a process ({what})")

        return start

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket.socket, "sendto", sendto)
        patch.setattr(subprocess.Popen, "_execute_child", process("subprocess"))
        patch.setattr(_posixsubprocess, "fork_exec", process("fork_exec"))
        for name in ("system", "fork", "forkpty", "posix_spawn", "posix_spawnp"):
            if hasattr(os, name):
                patch.setattr(os, name, process(f"os.{name}"))
        yield refused
